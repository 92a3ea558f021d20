import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  type PutRecordsCommandInput,
  type PutRecordsCommandOutput,
  type Shard,
} from '@aws-sdk/client-kinesis';
import { createClient } from '@awskit/core';
import { type DeaggregatedRecord, deaggregate, listShards } from '@awskit/kinesis-aggregation';
import { testClientOptions } from '@awskit/local/testing';
import { afterEach, beforeAll } from 'vitest';

export interface ReadRecord extends DeaggregatedRecord {
  shardId: string;
}

/** Every shard of the stream, closed ones included. */
export function listAllShards(kinesis: KinesisClient, streamName: string): Promise<Shard[]> {
  return listShards(kinesis, { streamName });
}

/** Reads every record of every shard from TRIM_HORIZON with plain GetRecords and deaggregates it. */
export async function readAll(
  kinesis: KinesisClient,
  streamName: string,
): Promise<{ records: ReadRecord[]; kinesisRecords: number }> {
  const out: ReadRecord[] = [];
  let kinesisRecords = 0;
  for (const shard of await listAllShards(kinesis, streamName)) {
    const shardId = shard.ShardId!;
    let iterator = (
      await kinesis.send(
        new GetShardIteratorCommand({
          StreamName: streamName,
          ShardId: shardId,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      )
    ).ShardIterator;
    let emptyInARow = 0;
    while (iterator && emptyInARow < 2) {
      const res = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      const recs = res.Records ?? [];
      kinesisRecords += recs.length;
      for (const r of recs) {
        const { records, error } = deaggregate({
          data: r.Data!,
          partitionKey: r.PartitionKey!,
          sequenceNumber: r.SequenceNumber!,
        });
        if (error) throw error;
        for (const u of records) out.push({ ...u, shardId });
      }
      emptyInARow = recs.length === 0 && (res.MillisBehindLatest ?? 0) === 0 ? emptyInARow + 1 : 0;
      iterator = res.NextShardIterator;
    }
  }
  return { records: out, kinesisRecords };
}

/** Decides, per PutRecords entry, whether the injected fault fails it. */
export type EntryFault = (entryIndex: number, callIndex: number) => string | undefined;

/**
 * Installs an SDK middleware that makes chosen PutRecords entries fail the way Kinesis reports partial failures:
 * the failed entries are removed from the request before it is sent (so they are really not written) and put back
 * into the response as `ErrorCode` entries at their original positions.
 */
export function injectPartialFailures(
  kinesis: KinesisClient,
  fault: EntryFault,
): { calls: number; failedEntries: number } {
  const stats = { calls: 0, failedEntries: 0 };
  kinesis.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'PutRecordsCommand') return next(args);
      const call = stats.calls++;
      const input = args.input as PutRecordsCommandInput;
      const records = input.Records ?? [];
      const codes = records.map((_, i) => fault(i, call));
      const kept = records.filter((_, i) => codes[i] === undefined);
      stats.failedEntries += records.length - kept.length;
      if (kept.length === 0) {
        return {
          response: {},
          output: {
            $metadata: {},
            FailedRecordCount: records.length,
            Records: codes.map((c) => ({ ErrorCode: c, ErrorMessage: 'injected by test' })),
          },
        } as never;
      }
      const res = await next({ ...args, input: { ...input, Records: kept } });
      const output = res.output as PutRecordsCommandOutput;
      const real = [...(output.Records ?? [])];
      output.Records = codes.map((c) =>
        c === undefined ? real.shift()! : { ErrorCode: c, ErrorMessage: 'injected by test' },
      );
      output.FailedRecordCount = (output.FailedRecordCount ?? 0) + (records.length - kept.length);
      return res;
    },
    { step: 'initialize', name: 'injectPartialFailures' },
  );
  return stats;
}

/** Installs a middleware that runs `before` ahead of every PutRecords call (delay it, throw...). */
export function beforePutRecords(
  kinesis: KinesisClient,
  before: (callIndex: number) => Promise<void> | void,
): void {
  let calls = 0;
  kinesis.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'PutRecordsCommand') await before(calls++);
      return next(args);
    },
    { step: 'initialize', name: `beforePutRecords${Math.random()}` },
  );
}

/** A deterministic pseudo-random generator (mulberry32). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const utf8 = (s: string) => Buffer.from(s, 'utf8');
export const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');

/**
 * The Kinesis clients of a test file: `admin()` for set-up and reading back, `producerClient()` a fresh client
 * (one attempt, so the producer's own retries are what is tested) per producer, so a test's fault-injection
 * middleware stays in that test; those are destroyed after each test.
 */
export function useKinesisClients() {
  let admin: KinesisClient | undefined;
  const made: KinesisClient[] = [];
  beforeAll(async () => {
    admin = await createClient(KinesisClient, testClientOptions());
  });
  afterEach(() => {
    for (const c of made.splice(0)) c.destroy();
  });
  return {
    admin: (): KinesisClient => admin!,
    producerClient: async (): Promise<KinesisClient> => {
      const c = await createClient(KinesisClient, testClientOptions({ maxAttempts: 1 }));
      made.push(c);
      return c;
    },
  };
}
