import {
  MergeShardsCommand,
  type Shard,
  SplitShardCommand,
  waitUntilStreamExists,
} from '@aws-sdk/client-kinesis';
import { MetricsRegistry } from '@awskit/core';
import { hashKeyInRange, userRecordHashKey } from '@awskit/kinesis-aggregation';
import { createTestStream } from '@awskit/local/testing';
import { describe, expect, it } from 'vitest';
import { KinesisProducer, type PutResult, RecordExpiredError } from '../src/index.js';
import { listAllShards, type ReadRecord, readAll, text, useKinesisClients, utf8 } from './helpers.js';

// Issue 12, defect 1: an aggregate predicted for a parent shard that lands on a child (the shard was split after
// the producer loaded its map) carries user records whose hash keys belong to the sibling. A KCL-style consumer
// drops those (dropRecordsOutsideHashRange), so the producer must re-send them and resolve each put only with the
// shard that really owns its hash key.

const SPLIT_AT = 1n << 127n;
/** Explicit hash keys below (low) and above (high) the split point. */
const lowKey = (i: number) => ((BigInt(i) + 1n) << 100n).toString();
const highKey = (i: number) => (SPLIT_AT + ((BigInt(i) + 1n) << 100n)).toString();

const { admin, producerClient } = useKinesisClients();

/** Splits the stream's only shard at 2^127 behind the producer's back and waits until the stream is ACTIVE. */
async function splitOnlyShard(stream: string): Promise<{ parent: Shard; low: Shard; high: Shard }> {
  const [parent] = await listAllShards(admin(), stream);
  await admin().send(
    new SplitShardCommand({
      StreamName: stream,
      ShardToSplit: parent!.ShardId!,
      NewStartingHashKey: SPLIT_AT.toString(),
    }),
  );
  await waitUntilStreamExists(
    { client: admin(), maxWaitTime: 30, minDelay: 0.1, maxDelay: 0.5 },
    { StreamName: stream },
  );
  const children = (await listAllShards(admin(), stream)).filter((s) => s.ParentShardId === parent!.ShardId);
  const low = children.find((s) => BigInt(s.HashKeyRange!.StartingHashKey!) < SPLIT_AT)!;
  const high = children.find((s) => BigInt(s.HashKeyRange!.StartingHashKey!) >= SPLIT_AT)!;
  expect(low).toBeDefined();
  expect(high).toBeDefined();
  return { parent: parent!, low, high };
}

// GetRecords does not return a plain record's explicit hash key (only an aggregate's sub-records carry theirs), and
// Kinesis put a plain record where its own key routed it: the KCL checks the range of aggregated user records only.
const inRange = (r: ReadRecord, shards: Shard[]) =>
  !r.aggregated ||
  hashKeyInRange(userRecordHashKey(r), shards.find((s) => s.ShardId === r.shardId)!.HashKeyRange as never);

/** What a KCL-style consumer delivers: aggregated user records only inside the range of the shard read from. */
async function readLikeTheKcl(stream: string) {
  const shards = await listAllShards(admin(), stream);
  const { records } = await readAll(admin(), stream);
  return {
    shards,
    delivered: records.filter((r) => inRange(r, shards)),
    dropped: records.filter((r) => !inRange(r, shards)),
  };
}

const position = (shardId: string, sequenceNumber: string, sub: number | undefined) =>
  `${shardId}/${sequenceNumber}/${sub ?? 0}`;

describe('KinesisProducer after a split it did not see (issue 12 defect 1)', () => {
  it('re-sends the user records of an aggregate straddling the split point; each put resolves with the shard owning its hash key', async () => {
    const stream = await createTestStream(admin(), { shardCount: 1 });
    const metrics = new MetricsRegistry();
    const producer = new KinesisProducer({ streamName: stream, client: await producerClient(), metrics });
    // the first put loads the shard map: one shard
    await producer.put({ data: utf8('warm-up'), partitionKey: 'w', explicitHashKey: '1' });
    expect(producer.stats.shardMapRefreshes).toBe(1);
    const { low, high } = await splitOnlyShard(stream);

    // interleaved low/high, all predicted for the (now closed) parent: one aggregate that routes by its first
    // record (low) and so lands on the low child with ten records of the high child inside
    const input = Array.from({ length: 20 }, (_, i) => {
      const side = i % 2 === 0 ? 'low' : 'high';
      const n = Math.floor(i / 2);
      return {
        data: utf8(`${side}-${n}`),
        partitionKey: `${side}-${n}`,
        explicitHashKey: side === 'low' ? lowKey(n) : highKey(n),
      };
    });
    const results = await Promise.all(input.map((r) => producer.put(r)));
    await producer.close();

    const expectedShard = (i: number) => (i % 2 === 0 ? low.ShardId! : high.ShardId!);
    expect(results.map((r) => r.shardId)).toEqual(input.map((_, i) => expectedShard(i)));
    expect(producer.stats.wrongShardResent).toBe(10);
    expect(metrics.value('kinesis_producer_wrong_shard_resent_total', { stream })).toBe(10);

    const { delivered, dropped } = await readLikeTheKcl(stream);
    // the straddle really happened: the high records' first copies sit on the low child, out of its range
    expect(dropped.map((r) => text(r.data)).sort()).toEqual(
      input
        .filter((_, i) => i % 2 === 1)
        .map((r) => text(r.data))
        .sort(),
    );
    expect(dropped.every((r) => r.shardId === low.ShardId)).toBe(true);
    // what a KCL-style consumer delivers: every record exactly once, where its PutResult says
    const byPosition = new Map(
      delivered.map((r) => [position(r.shardId, r.sequenceNumber, r.subSequenceNumber), text(r.data)]),
    );
    const deliveredData = delivered.map((r) => text(r.data)).filter((d) => d !== 'warm-up');
    expect(deliveredData.sort()).toEqual(input.map((r) => text(r.data)).sort());
    results.forEach((res: PutResult, i) => {
      expect(byPosition.get(position(res.shardId, res.sequenceNumber, res.subSequenceNumber))).toBe(
        text(input[i]!.data),
      );
    });
  });

  it('ordered mode: re-sent records stay in put order per key on the child that owns them', async () => {
    const stream = await createTestStream(admin(), { shardCount: 1 });
    const producer = new KinesisProducer({
      streamName: stream,
      client: await producerClient(),
      ordered: true,
      // several aggregates, each straddling the split point, sent one after the other
      aggregationMaxCount: 4,
    });
    await producer.put({ data: utf8('warm-up'), partitionKey: 'w', explicitHashKey: '1' });
    const { low, high } = await splitOnlyShard(stream);

    const input = Array.from({ length: 24 }, (_, i) => {
      const side = i % 2 === 0 ? 'low' : 'high';
      return {
        data: utf8(`${side}#${Math.floor(i / 2)}`),
        partitionKey: side,
        explicitHashKey: side === 'low' ? lowKey(0) : highKey(0),
      };
    });
    const results = await Promise.all(input.map((r) => producer.put(r)));
    await producer.close();
    expect(results.map((r) => r.shardId)).toEqual(
      input.map((r) => (r.partitionKey === 'low' ? low.ShardId : high.ShardId)),
    );
    expect(producer.stats.wrongShardResent).toBeGreaterThan(0);

    const { delivered } = await readLikeTheKcl(stream);
    for (const [side, shard] of [
      ['low', low],
      ['high', high],
    ] as const) {
      expect(delivered.filter((r) => r.partitionKey === side).map((r) => [r.shardId, text(r.data)])).toEqual(
        input.filter((r) => r.partitionKey === side).map((r) => [shard.ShardId, text(r.data)]),
      );
    }
  });

  it('after a merge it did not see: records land on the merged child, all in its range, none re-sent', async () => {
    const stream = await createTestStream(admin(), { shardCount: 2 });
    const producer = new KinesisProducer({ streamName: stream, client: await producerClient() });
    await producer.put({ data: utf8('warm-up'), partitionKey: 'w', explicitHashKey: '1' });
    const [a, b] = await listAllShards(admin(), stream);
    await admin().send(
      new MergeShardsCommand({
        StreamName: stream,
        ShardToMerge: a!.ShardId!,
        AdjacentShardToMerge: b!.ShardId!,
      }),
    );
    await waitUntilStreamExists(
      { client: admin(), maxWaitTime: 30, minDelay: 0.1, maxDelay: 0.5 },
      { StreamName: stream },
    );
    const merged = (await listAllShards(admin(), stream)).find((s) => s.ParentShardId !== undefined)!;

    const input = Array.from({ length: 20 }, (_, i) => ({
      data: utf8(`m${i}`),
      partitionKey: `m${i}`,
      explicitHashKey: i % 2 === 0 ? lowKey(i) : highKey(i),
    }));
    const results = await Promise.all(input.map((r) => producer.put(r)));
    await producer.close();
    expect(results.every((r) => r.shardId === merged.ShardId)).toBe(true);
    expect(producer.stats.wrongShardResent).toBe(0);
    const { delivered, dropped } = await readLikeTheKcl(stream);
    expect(dropped).toEqual([]);
    expect(
      delivered
        .filter((r) => r.shardId === merged.ShardId)
        .map((r) => text(r.data))
        .sort(),
    ).toEqual(input.map((r) => text(r.data)).sort());
  });

  it('never resolves a record whose landing shard cannot be checked: it rejects with RecordExpiredError at its TTL', async () => {
    const stream = await createTestStream(admin(), { shardCount: 1 });
    const client = await producerClient();
    let listShardsCalls = 0;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'ListShardsCommand' && listShardsCalls++ > 0) {
          throw Object.assign(new Error('injected by test: ListShards over its limit'), {
            name: 'LimitExceededException',
            $fault: 'client',
          });
        }
        return next(args);
      },
      { step: 'initialize', name: 'failListShardsAfterFirst' },
    );
    const producer = new KinesisProducer({ streamName: stream, client, recordTtlMs: 2_000 });
    await producer.put({ data: utf8('warm-up'), partitionKey: 'w', explicitHashKey: '1' });
    const { low } = await splitOnlyShard(stream);

    const input = [lowKey(0), highKey(0), lowKey(1), highKey(1)].map((ehk, i) => ({
      data: utf8(`r${i}`),
      partitionKey: `k${i}`,
      explicitHashKey: ehk,
    }));
    const settled = await Promise.allSettled(input.map((r) => producer.put(r)));
    await producer.close();

    // the aggregate's first record is where Kinesis routed the aggregate: in range by construction
    expect(settled[0]).toMatchObject({ status: 'fulfilled', value: { shardId: low.ShardId } });
    // the others landed on a shard the producer has no range for (ListShards keeps failing): not delivered
    for (const s of settled.slice(1)) {
      expect(s.status).toBe('rejected');
      const e = (s as PromiseRejectedResult).reason as RecordExpiredError;
      expect(e).toBeInstanceOf(RecordExpiredError);
      expect(e.lastErrorCode).toBe('ShardRangeUnknown');
    }
    // the reloads back off (1 s, then ×1.5) instead of calling ListShards in a loop
    expect(listShardsCalls).toBeLessThanOrEqual(5);
  });
});
