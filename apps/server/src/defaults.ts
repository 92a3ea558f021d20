/** Defaults of every server option, in one place. */
export const SERVER_DEFAULTS = {
  host: '127.0.0.1',
  port: 8080,
  bodyLimitBytes: 5 * 1024 * 1024,
  maxRecordsPerRequest: 10_000,
  retryAfterSeconds: 1,
  dashboardIntervalMs: 1_000,
  /** The server holds less than the producer's 64 MiB default: it answers 429 long before memory is a worry. */
  maxBufferedBytes: 32 * 1024 * 1024,
  workers: 1,
} as const;
