import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  KinesisClient,
  PutRecordCommand,
  PutRecordsCommand,
  type Shard,
  SplitShardCommand,
} from '@aws-sdk/client-kinesis';
import { createClient } from '@awskit/core';
import { encodeAggregatedRecord } from '@awskit/kinesis-aggregation';
import { testClientOptions, uniqueName } from '@awskit/local/testing';
import {
  type ConsumerRecord,
  KinesisConsumer,
  type KinesisConsumerOptions,
  type RecordProcessor,
} from '../src/index.js';

type Clients = { kinesis: KinesisClient; dynamo: DynamoDBClient };

export async function clients(): Promise<Clients> {
  return {
    kinesis: await createClient(KinesisClient, testClientOptions()),
    dynamo: await createClient(DynamoDBClient, testClientOptions()),
  };
}

/** Short leases and polls so tests run in seconds. */
export const FAST = {
  leaseDurationMs: 2_000,
  renewIntervalMs: 400,
  takeIntervalMs: 300,
  polling: { idleTimeBetweenReadsMs: 100, minTimeBetweenReadsMs: 50 },
  handlerBackoff: { baseMs: 20, capMs: 200 },
} as const;

export function newConsumer(
  c: Clients,
  opts: Omit<KinesisConsumerOptions, 'kinesisClient' | 'dynamoClient'>,
): KinesisConsumer {
  return new KinesisConsumer({ ...FAST, kinesisClient: c.kinesis, dynamoClient: c.dynamo, ...opts });
}

/**
 * Makes workers that share one set of options (stream, application, …) and differ by `workerId`; each is pushed
 * to `running` so the test's afterEach stops it. By default a worker adds its records to `col` under its id.
 */
export function workerFactory(
  c: Clients,
  running: KinesisConsumer[],
  col: Collector,
  {
    processor,
    ...options
  }: Omit<KinesisConsumerOptions, 'kinesisClient' | 'dynamoClient' | 'workerId' | 'processor'> & {
    /** The processor of the worker with this id. @default adds the records to `col` under the id */
    processor?: (workerId: string) => KinesisConsumerOptions['processor'];
  },
): (workerId: string) => KinesisConsumer {
  return (workerId) => {
    const w = newConsumer(c, {
      ...options,
      workerId,
      processor: processor ? processor(workerId) : (rs) => col.add(rs, workerId),
    });
    running.push(w);
    return w;
  };
}

export function appName(): string {
  return uniqueName('app');
}

/** Puts records (partition key, text) in order, one PutRecords per call; returns their sequence numbers. */
export async function put(
  kinesis: KinesisClient,
  stream: string,
  entries: { key: string; data: string; explicitHashKey?: string }[],
): Promise<string[]> {
  const seqs: string[] = [];
  for (let i = 0; i < entries.length; i += 200) {
    const chunk = entries.slice(i, i + 200);
    const r = await kinesis.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: chunk.map((e) => ({
          PartitionKey: e.key,
          Data: new TextEncoder().encode(e.data),
          ExplicitHashKey: e.explicitHashKey,
        })),
      }),
    );
    if (r.FailedRecordCount) throw new Error(`${r.FailedRecordCount} records failed`);
    for (const x of r.Records ?? []) seqs.push(x.SequenceNumber!);
  }
  return seqs;
}

/** Puts `plain-0`, one KPL aggregate of `aggregated` (user partition key `u`), then `plain-1`. */
export async function putAggregateBetweenPlain(
  kinesis: KinesisClient,
  stream: string,
  aggregated: string[],
): Promise<void> {
  await put(kinesis, stream, [{ key: 'p', data: 'plain-0' }]);
  await kinesis.send(
    new PutRecordCommand({
      StreamName: stream,
      PartitionKey: 'a',
      Data: encodeAggregatedRecord(
        aggregated.map((d) => ({ partitionKey: 'u', data: new TextEncoder().encode(d) })),
      ),
    }),
  );
  await put(kinesis, stream, [{ key: 'p', data: 'plain-1' }]);
}

/** Splits `shard` at the middle of its hash key range. */
export async function splitShardInHalf(kinesis: KinesisClient, stream: string, shard: Shard): Promise<void> {
  const mid =
    (BigInt(shard.HashKeyRange!.StartingHashKey!) + BigInt(shard.HashKeyRange!.EndingHashKey!)) / 2n;
  await kinesis.send(
    new SplitShardCommand({
      StreamName: stream,
      ShardToSplit: shard.ShardId!,
      NewStartingHashKey: String(mid),
    }),
  );
}

export async function waitFor(
  what: string,
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const text = (r: ConsumerRecord) => new TextDecoder().decode(r.data);

/** Collects records per partition key and checks order per key. */
export class Collector {
  readonly all: ConsumerRecord[] = [];
  readonly byWorker = new Map<string, number>();
  add(records: ConsumerRecord[], worker = 'w'): void {
    this.all.push(...records);
    this.byWorker.set(worker, (this.byWorker.get(worker) ?? 0) + records.length);
  }
  distinct(): Set<string> {
    return new Set(this.all.map(text));
  }
  /** For each key, the first occurrence of each value must come in increasing index order (values are `key:i`). */
  orderViolations(): string[] {
    const lastByKey = new Map<string, number>();
    const bad: string[] = [];
    const seen = new Set<string>();
    for (const r of this.all) {
      const t = text(r);
      if (seen.has(t)) continue; // a redelivery (at-least-once) is not an order violation
      seen.add(t);
      const i = Number(t.split(':')[1]);
      const prev = lastByKey.get(r.partitionKey) ?? -1;
      if (i < prev) bad.push(`${r.partitionKey}: ${i} after ${prev}`);
      lastByKey.set(r.partitionKey, Math.max(prev, i));
    }
    return bad;
  }
}

export function records(n: number, keys: number, prefix = 'k'): { key: string; data: string }[] {
  const counters = new Map<string, number>();
  return Array.from({ length: n }, (_, i) => {
    const key = `${prefix}${i % keys}`;
    const c = counters.get(key) ?? 0;
    counters.set(key, c + 1);
    return { key, data: `${key}:${c}` };
  });
}

/**
 * A KCL-style processor that keeps the text of every record it is given (`seen`) and checkpoints at the record
 * whose text is `value` (then `checkpointed` is true).
 */
export function checkpointingAt(value: string): {
  seen: string[];
  checkpointed: boolean;
  processor: RecordProcessor;
} {
  const run = { seen: [] as string[], checkpointed: false };
  const processor: RecordProcessor = {
    processRecords: async ({ records: rs, checkpointer }) => {
      run.seen.push(...rs.map(text));
      const at = rs.find((r) => text(r) === value);
      if (at) {
        await checkpointer.checkpoint(at);
        run.checkpointed = true;
      }
    },
  };
  // The same object, so `checkpointed` and `seen` read live.
  return Object.assign(run, { processor });
}

/**
 * A consumer worker in its own process (`fixtures/worker.mjs`, built consumer), for crash tests: the caller kills it.
 * `shards` follows the leases it holds, `values` collects the data of the records it processed.
 */
export function spawnWorkerProcess(
  stream: string,
  app: string,
  options: { leaseDurationMs?: number; checkpointIntervalMs?: number; leaseMode?: string } = {},
): { child: ChildProcess; shards: Set<string>; values: Set<string> } {
  const worker = fileURLToPath(new URL('./fixtures/worker.mjs', import.meta.url));
  const child = spawn(
    process.execPath,
    [
      worker,
      stream,
      app,
      'doomed',
      String(options.leaseDurationMs ?? FAST.leaseDurationMs),
      options.checkpointIntervalMs === undefined ? '' : String(options.checkpointIntervalMs),
      options.leaseMode ?? '',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_NO_WARNINGS: '1' } },
  );
  const shards = new Set<string>();
  const values = new Set<string>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      const m = JSON.parse(line) as { event: string; shardId?: string; values?: string[] };
      if (m.event === 'acquired') shards.add(m.shardId!);
      if (m.event === 'lost') shards.delete(m.shardId!);
      if (m.event === 'records') for (const v of m.values!) values.add(v);
    } catch {
      // not ours
    }
  });
  return { child, shards, values };
}
