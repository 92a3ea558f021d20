import { createRequire } from 'node:module';

export { isAwskitError } from '@awskit/core';

const require = createRequire(import.meta.url);

/** The parts of the npm `aws-kinesis-agg` 4.x API the interop tests use (its own typings need aws-sdk v2). */
export interface AwsKinesisAgg {
  RecordAggregator: new () => {
    addUserRecord(r: { partitionKey: string; explicitHashKey?: string; data: Buffer }): void;
    build(): { partitionKey: string; ExplicitHashKey?: string; data: Buffer } | undefined;
    length(): number;
  };
  deaggregateSync(
    record: { data: string; partitionKey: string; sequenceNumber: string; explicitPartitionKey?: string },
    computeChecksums: boolean,
    cb: (
      err: Error | null | undefined,
      records?: {
        partitionKey: string;
        explicitPartitionKey?: string;
        subSequenceNumber?: number;
        data: string;
      }[],
    ) => void,
  ): void;
}

export const awsKinesisAgg = require('aws-kinesis-agg') as AwsKinesisAgg;

/** Decodes with aws-kinesis-agg (checksums verified), rethrowing its callback error. */
export function deaggregateWithAwsKinesisAgg(data: Uint8Array, partitionKey = 'x') {
  let out: { partitionKey: string; explicitPartitionKey?: string; data: string }[] | undefined;
  let failure: Error | undefined;
  awsKinesisAgg.deaggregateSync(
    { data: Buffer.from(data).toString('base64'), partitionKey, sequenceNumber: '1' },
    true,
    (err, records) => {
      if (err) failure = err;
      else out = records;
    },
  );
  if (failure) throw failure;
  return (out ?? []).map((r) => ({
    partitionKey: r.partitionKey,
    explicitHashKey: r.explicitPartitionKey,
    data: Buffer.from(r.data, 'base64'),
  }));
}
