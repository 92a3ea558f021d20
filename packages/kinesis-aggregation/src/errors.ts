import { AwskitError } from '@awskit/core';

/** Stable codes of every error this package reports. */
export const KinesisAggregationErrorCode = {
  /** The record has the aggregate magic but its MD5 trailer does not match the protobuf bytes. */
  checksumMismatch: 'AGGREGATE_CHECKSUM_MISMATCH',
  /** The record has the aggregate magic and a good checksum, but the protobuf is truncated or invalid. */
  malformed: 'AGGREGATE_MALFORMED',
  /** A user record is invalid (partition key, explicit hash key or size). */
  invalidRecord: 'INVALID_USER_RECORD',
  /** Encoding was asked for with no records. */
  emptyAggregate: 'EMPTY_AGGREGATE',
} as const;
export type KinesisAggregationErrorCode =
  (typeof KinesisAggregationErrorCode)[keyof typeof KinesisAggregationErrorCode];

/** Base error of `@awskit/kinesis-aggregation`. */
export class KinesisAggregationError extends AwskitError<KinesisAggregationErrorCode> {}

/**
 * A Kinesis record that starts with the KPL magic bytes but cannot be decoded. {@link deaggregate} never throws it;
 * it returns the record raw with this error attached, as the KCL does.
 */
export class AggregateDecodeError extends KinesisAggregationError {
  /** Sequence number of the Kinesis record that failed to decode. */
  readonly sequenceNumber: string;
  constructor(
    message: string,
    options: {
      code: 'AGGREGATE_CHECKSUM_MISMATCH' | 'AGGREGATE_MALFORMED';
      sequenceNumber: string;
      cause?: unknown;
    },
  ) {
    super(options.code, message, {
      cause: options.cause,
      hint: 'The record was returned as one raw record. It was written by a producer with a different format or corrupted; check the producer.',
    });
    this.sequenceNumber = options.sequenceNumber;
  }
}

/** One problem found by {@link validateUserRecord}. */
export interface UserRecordProblem {
  /** The field at fault. */
  path: 'partitionKey' | 'explicitHashKey' | 'data';
  message: string;
}

/** A user record that Kinesis would reject; carries every problem found at once. */
export class InvalidUserRecordError extends KinesisAggregationError {
  readonly problems: UserRecordProblem[];
  constructor(problems: UserRecordProblem[]) {
    super(
      'INVALID_USER_RECORD',
      `Invalid record: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
      {
        hint: 'Partition keys must be 1-256 characters, explicit hash keys a decimal integer in [0, 2^128-1], and data + partition key at most the record size limit (1 MiB).',
      },
    );
    this.problems = problems;
  }
}
