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
  /** A request (headers and body) not complete within this is answered 408 and its socket closed. */
  requestTimeoutMs: 30_000,
  /** Open dashboard event streams; more are answered 503. */
  maxSseClients: 100,
  /** An event-stream client with more than this waiting to be sent is not reading: it is dropped. */
  sseMaxBufferedBytes: 1024 * 1024,
  /** How long a /readyz result is reused (concurrent checks share one run as well). */
  readyCacheMs: 2_000,
} as const;
