import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { createClient } from '@awskit/core';
import { testClientOptions, uniqueName } from '@awskit/local/testing';
import { type ConsumerRecord, KinesisConsumer, type KinesisConsumerOptions } from '../src/index.js';

export async function clients(): Promise<{ kinesis: KinesisClient; dynamo: DynamoDBClient }> {
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
  c: { kinesis: KinesisClient; dynamo: DynamoDBClient },
  opts: Omit<KinesisConsumerOptions, 'kinesisClient' | 'dynamoClient'>,
): KinesisConsumer {
  return new KinesisConsumer({ ...FAST, kinesisClient: c.kinesis, dynamoClient: c.dynamo, ...opts });
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
