import { AwskitError, isAwskitError } from '@awskit/core';

/** Stable codes of every error this package throws. Branch on these, not on messages. */
export const KinesisConsumerErrorCode = {
  InvalidOptions: 'KINESIS_CONSUMER_INVALID_OPTIONS',
  StreamNotFound: 'KINESIS_CONSUMER_STREAM_NOT_FOUND',
  AccessDenied: 'KINESIS_CONSUMER_ACCESS_DENIED',
  LeaseTable: 'KINESIS_CONSUMER_LEASE_TABLE',
  LeaseLost: 'KINESIS_CONSUMER_LEASE_LOST',
  InvalidCheckpoint: 'KINESIS_CONSUMER_INVALID_CHECKPOINT',
  NotRunning: 'KINESIS_CONSUMER_NOT_RUNNING',
  EfoRegistration: 'KINESIS_CONSUMER_EFO_REGISTRATION',
} as const;

/** Union of {@link KinesisConsumerErrorCode} values. */
export type KinesisConsumerErrorCode =
  (typeof KinesisConsumerErrorCode)[keyof typeof KinesisConsumerErrorCode];

/** Base error of `@awskit/kinesis-consumer`; every error the package throws extends it. */
export class KinesisConsumerError extends AwskitError<KinesisConsumerErrorCode> {}

/** Options failed validation; `problems` lists every bad field with its path. */
export class ConsumerOptionsError extends KinesisConsumerError {
  readonly problems: { path: string; message: string }[];
  constructor(problems: { path: string; message: string }[]) {
    super(
      KinesisConsumerErrorCode.InvalidOptions,
      `invalid KinesisConsumer options: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
      { hint: 'Fix the listed options; see the @awskit/kinesis-consumer README for each option.' },
    );
    this.problems = problems;
  }
}

/** The stream does not exist (or is not visible with these credentials/region/endpoint). */
export class StreamNotFoundError extends KinesisConsumerError {
  constructor(stream: string, cause?: unknown) {
    super(KinesisConsumerErrorCode.StreamNotFound, `Kinesis stream ${stream} was not found`, {
      hint: 'Check the stream name, the region and the endpoint (is it the local AWS or real AWS?).',
      cause,
    });
  }
}

/** The credentials lack a permission the consumer needs. */
export class ConsumerAccessDeniedError extends KinesisConsumerError {
  constructor(action: string, resource: string, cause?: unknown) {
    super(KinesisConsumerErrorCode.AccessDenied, `access denied: ${action} on ${resource}`, {
      hint:
        'The consumer needs kinesis:DescribeStreamSummary, ListShards, GetShardIterator, GetRecords and ' +
        'dynamodb:CreateTable, DescribeTable, Scan, GetItem, PutItem, UpdateItem, DeleteItem on the lease table ' +
        "(and on <lease table>-awskit-workers unless leaseMode is 'counter').",
      cause,
    });
  }
}

/** A lease-table operation failed for a reason other than losing a conditional write. */
export class LeaseTableError extends KinesisConsumerError {
  constructor(message: string, cause?: unknown) {
    super(KinesisConsumerErrorCode.LeaseTable, message, {
      hint: 'Check DynamoDB connectivity and throttling; the consumer retries on its next cycle.',
      cause,
    });
  }
}

/**
 * The worker no longer holds the shard's lease (another worker took it, or renewals failed for a whole lease
 * duration). Checkpointing is refused: another worker now owns the shard (KCL's `ShutdownException`).
 */
export class LeaseLostError extends KinesisConsumerError {
  readonly shardId: string;
  constructor(shardId: string) {
    super(KinesisConsumerErrorCode.LeaseLost, `lease for ${shardId} is no longer held by this worker`, {
      hint: 'Another worker owns the shard now and will process from the last checkpoint; nothing to do.',
    });
    this.shardId = shardId;
  }
}

/** A checkpoint outside [last checkpoint, largest delivered record] (KCL's `IllegalArgumentException`). */
export class InvalidCheckpointError extends KinesisConsumerError {
  constructor(message: string) {
    super(KinesisConsumerErrorCode.InvalidCheckpoint, message, {
      hint: 'Checkpoint only sequence numbers of records delivered to this processor, in increasing order.',
    });
  }
}

/** `start()` was called twice or an operation needs a running consumer. */
export class ConsumerStateError extends KinesisConsumerError {
  constructor(message: string) {
    super(KinesisConsumerErrorCode.NotRunning, message, { hint: 'Call start() once, then stop() once.' });
  }
}

/**
 * True when `e` is an error of this package (optionally with `code`). Matches on the code as well as
 * `instanceof`, so errors from a duplicate install of the package still match.
 */
export function isKinesisConsumerError(
  e: unknown,
  code?: KinesisConsumerErrorCode,
): e is KinesisConsumerError {
  if (!isAwskitError(e) || !e.code.startsWith('KINESIS_CONSUMER_')) return false;
  return code === undefined || e.code === code;
}

/** The enhanced fan-out stream consumer could not be registered or did not become ACTIVE in time. */
export class EfoRegistrationError extends KinesisConsumerError {
  constructor(message: string, cause?: unknown) {
    super(KinesisConsumerErrorCode.EfoRegistration, message, {
      hint:
        'Check kinesis:RegisterStreamConsumer/DescribeStreamConsumer permissions, the 20-consumers-per-stream ' +
        'limit, or pass consumerARN of an existing consumer.',
      cause,
    });
  }
}
