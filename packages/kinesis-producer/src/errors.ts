import { AwskitError } from '@awskit/core';
import type { UserRecordProblem } from '@awskit/kinesis-aggregation';

/** Stable codes of every error `@awskit/kinesis-producer` reports. */
export const KinesisProducerErrorCode = {
  /** The record breaks a Kinesis limit (partition key, explicit hash key, size). Rejected before buffering. */
  invalidRecord: 'INVALID_RECORD',
  /** The record's TTL passed before Kinesis accepted it; `lastErrorCode` says why the last attempt failed. */
  recordExpired: 'RECORD_EXPIRED',
  /** Kinesis rejected the record with an error that retrying cannot fix (stream missing, access denied...). */
  putFailed: 'PUT_FAILED',
  /** Throttled, and `failIfThrottled` is set. */
  throttled: 'KINESIS_PRODUCER_THROTTLED',
  /** `put` after `close()`. */
  closed: 'PRODUCER_CLOSED',
  /** The options given to the producer are invalid. */
  invalidOptions: 'KINESIS_PRODUCER_INVALID_OPTIONS',
  /** A record's partition-key field is missing or not a string/number (`partitionKeyFromField`). */
  partitionKeyField: 'KINESIS_PRODUCER_PARTITION_KEY_FIELD',
} as const;
export type KinesisProducerErrorCode =
  (typeof KinesisProducerErrorCode)[keyof typeof KinesisProducerErrorCode];

/** Base error of `@awskit/kinesis-producer`. */
export class KinesisProducerError extends AwskitError<KinesisProducerErrorCode> {}

/** A record Kinesis would reject; every problem is listed in `problems`. */
export class InvalidRecordError extends KinesisProducerError {
  readonly problems: UserRecordProblem[];
  constructor(problems: UserRecordProblem[]) {
    super('INVALID_RECORD', `Invalid record: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`, {
      hint: 'Partition keys must be 1-256 characters, an explicit hash key a decimal integer in [0, 2^128-1], and data + partition key within maxRecordBytes (1 MiB by default).',
      details: { problems },
    });
    this.problems = problems;
  }
}

function expiredHint(lastErrorCode: string): string {
  switch (lastErrorCode) {
    case 'ProvisionedThroughputExceededException':
      return 'The shard is over its write limit: add shards, spread partition keys, lower the put rate, or raise recordTtlMs.';
    case 'WrongShard':
      return 'The stream was resharded and the record kept landing on a shard that does not own its hash key: let resharding settle, or raise recordTtlMs.';
    case 'ShardRangeUnknown':
      return 'The record was written to a shard whose hash-key range ListShards could not return (check kinesis:ListShards permission and limits); it may be on the stream, but a KCL-style consumer drops it if it belongs to a sibling shard. Putting it again may duplicate it.';
    default:
      return 'Kinesis did not accept the record in time: check connectivity and stream health, or raise recordTtlMs.';
  }
}

/**
 * A record that did not reach Kinesis before its TTL (`recordTtlMs`). `lastErrorCode` `WrongShard`: it kept landing
 * outside its shard's hash-key range during a reshard; `ShardRangeUnknown`: it landed on a shard whose range could
 * not be loaded to check it.
 */
export class RecordExpiredError extends KinesisProducerError {
  /** Error code of the last failed attempt (`ProvisionedThroughputExceededException`...), or `Expired`. */
  readonly lastErrorCode: string;
  readonly lastErrorMessage?: string;
  /** PutRecords attempts made for this record. */
  readonly attempts: number;
  constructor(opts: { lastErrorCode?: string; lastErrorMessage?: string; attempts: number; ttlMs: number }) {
    const last = opts.lastErrorCode ?? 'Expired';
    super(
      'RECORD_EXPIRED',
      `Record expired after ${opts.attempts} attempt(s) and ${opts.ttlMs} ms (last error: ${last}${opts.lastErrorMessage ? `: ${opts.lastErrorMessage}` : ''})`,
      {
        hint: expiredHint(last),
        details: { lastErrorCode: last, attempts: opts.attempts },
      },
    );
    this.lastErrorCode = last;
    if (opts.lastErrorMessage !== undefined) this.lastErrorMessage = opts.lastErrorMessage;
    this.attempts = opts.attempts;
  }
}

/**
 * A record whose partition-key field gives no usable key: missing, `null`, a boolean, an object or an array, or a
 * string outside 1-256 characters. `details.path` is the field, `details.found` what was there.
 */
export class PartitionKeyFieldError extends KinesisProducerError {
  readonly path: string;
  constructor(path: string, problem: string, found: string) {
    super('KINESIS_PRODUCER_PARTITION_KEY_FIELD', `partition key field ${path} ${problem}`, {
      hint: 'Point the key field at a string or number in every record (a dot path to the value, such as user.id, not the object user), or use a fixed or random partition key.',
      details: { path, found },
    });
    this.path = path;
  }
}
