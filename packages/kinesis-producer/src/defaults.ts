import { KINESIS_LIMITS } from '@awskit/kinesis-aggregation';
import { KinesisProducerError } from './errors.js';
import type { ProducerTuning } from './types.js';

/** Defaults of every tuning option, KPL values where the KPL has one. */
export const PRODUCER_DEFAULTS: Readonly<Required<ProducerTuning>> = Object.freeze({
  aggregation: true,
  aggregationMaxBytes: 51_200,
  aggregationMaxCount: 4_294_967_295,
  maxBufferedTimeMs: 100,
  collectionMaxCount: KINESIS_LIMITS.maxRecordsPerRequest,
  collectionMaxBytes: KINESIS_LIMITS.maxRequestBytes,
  recordTtlMs: 30_000,
  rateLimitPercent: 150,
  maxInFlightRequests: 24,
  maxBufferedBytes: 64 * 1024 * 1024,
  ordered: false,
  failIfThrottled: false,
  retryBaseDelayMs: 100,
  retryMaxDelayMs: 5_000,
  requestTimeoutMs: 30_000,
  maxRecordBytes: KINESIS_LIMITS.maxRecordBytes,
});

/**
 * Defaults used instead of {@link PRODUCER_DEFAULTS} when the client's endpoint is a local emulator (the awskit
 * local AWS, LocalStack, kinesis-mock), for options the caller did not set. The emulators are single-threaded and
 * their PutRecords cost grows faster than the request size, so smaller requests with fewer in flight write
 * several times more records per second there (bench/producer). Real AWS keeps the KPL values.
 */
export const LOCAL_ENDPOINT_DEFAULTS = Object.freeze({
  collectionMaxBytes: 128 * 1024,
  aggregationMaxBytes: 128 * 1024,
  maxInFlightRequests: 2,
} as const satisfies Partial<ProducerTuning>);

type NumericKey = {
  [K in keyof ProducerTuning]-?: NonNullable<ProducerTuning[K]> extends number ? K : never;
}[keyof ProducerTuning];

const BOUNDS: Record<NumericKey, [min: number, max: number]> = {
  aggregationMaxBytes: [64, 10 * 1024 * 1024],
  aggregationMaxCount: [1, Number.MAX_SAFE_INTEGER],
  maxBufferedTimeMs: [0, 60_000],
  collectionMaxCount: [1, KINESIS_LIMITS.maxRecordsPerRequest],
  collectionMaxBytes: [1, KINESIS_LIMITS.maxRequestBytes],
  recordTtlMs: [1, Number.MAX_SAFE_INTEGER],
  rateLimitPercent: [1, 100_000],
  maxInFlightRequests: [1, 1024],
  maxBufferedBytes: [1, Number.MAX_SAFE_INTEGER],
  retryBaseDelayMs: [0, 600_000],
  retryMaxDelayMs: [0, 600_000],
  requestTimeoutMs: [1, 600_000],
  maxRecordBytes: [1, 10 * 1024 * 1024],
};

/**
 * Merges tuning options over {@link PRODUCER_DEFAULTS} and checks them, reporting every bad field at once.
 * @throws {KinesisProducerError} code `KINESIS_PRODUCER_INVALID_OPTIONS`.
 */
export function resolveTuning(options: ProducerTuning): Required<ProducerTuning> {
  const merged = { ...PRODUCER_DEFAULTS } as Required<ProducerTuning>;
  for (const key of Object.keys(PRODUCER_DEFAULTS) as (keyof ProducerTuning)[]) {
    const v = options[key];
    if (v !== undefined) (merged as Record<string, unknown>)[key] = v;
  }
  const problems: string[] = [];
  for (const [key, [min, max]] of Object.entries(BOUNDS) as [NumericKey, [number, number]][]) {
    const v = merged[key];
    if (typeof v !== 'number' || Number.isNaN(v) || v < min || v > max) {
      problems.push(`${key} must be a number in [${min}, ${max}] (got ${String(v)})`);
    }
  }
  for (const key of ['aggregation', 'ordered', 'failIfThrottled'] as const) {
    if (typeof merged[key] !== 'boolean') problems.push(`${key} must be a boolean`);
  }
  if (problems.length > 0) {
    throw new KinesisProducerError(
      'KINESIS_PRODUCER_INVALID_OPTIONS',
      `Invalid producer options: ${problems.join('; ')}`,
      {
        hint: 'Fix the options listed; each is documented with its default on KinesisProducerOptions.',
        details: { problems },
      },
    );
  }
  return merged;
}
