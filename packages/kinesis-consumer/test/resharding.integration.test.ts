import {
  DescribeStreamSummaryCommand,
  type KinesisClient,
  ListShardsCommand,
  MergeShardsCommand,
  type Shard,
} from '@aws-sdk/client-kinesis';
import { createTestStream } from '@awskit/local/testing';
import { afterEach, describe, expect, it } from 'vitest';
import type { KinesisConsumer, RecordProcessor } from '../src/index.js';
import { LeaseTable } from '../src/leaseTable.js';
import {
  appName,
  Collector,
  clients,
  newConsumer,
  put,
  records,
  splitShardInHalf,
  waitFor,
  workerFactory,
} from './helpers.js';

const running: KinesisConsumer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.stop()));
});

async function shards(kinesis: KinesisClient, stream: string): Promise<Shard[]> {
  return (await kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? [];
}

async function waitActive(kinesis: KinesisClient, stream: string): Promise<void> {
  await waitFor('stream ACTIVE', async () => {
    const d = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
    return d.StreamDescriptionSummary?.StreamStatus === 'ACTIVE';
  });
}

const open = (s: Shard) => !s.SequenceNumberRange?.EndingSequenceNumber;

describe('KinesisConsumer across resharding', () => {
  it('split and merge while records flow: every record at least once, per-key order, SHARD_END, no shard left behind', async () => {
    const c = await clients();
    const stream = await createTestStream(c.kinesis, { shardCount: 2 });
    const app = appName();
    const col = new Collector();
    const ended: string[] = [];
    const worker = workerFactory(c, running, col, {
      streamName: stream,
      applicationName: app,
      initialPosition: 'TRIM_HORIZON',
      shardSyncIntervalMs: 500,
      // Small batches and a slow parent: a child started before its parent ended would overtake it, and the
      // per-key order check below would catch it.
      polling: { maxRecordsPerFetch: 10, idleTimeBetweenReadsMs: 100, minTimeBetweenReadsMs: 20 },
      processor: (id) => async (rs, ctx) => {
        if (ctx.shardId === 'shardId-000000000000') await new Promise((r) => setTimeout(r, 150));
        col.add(rs, id);
      },
    });
    const make = (id: string) => {
      const w = worker(id);
      w.on('shardEnded', (s) => ended.push(s));
      return w;
    };
    const a = make('a');
    const b = make('b');
    await a.start();
    await b.start();

    // Producer: 16 keys, each key's values numbered, written in order in small chunks.
    const all = records(480, 16);
    let i = 0;
    const produce = async (n: number) => {
      await put(c.kinesis, stream, all.slice(i, i + n));
      i += n;
    };
    await produce(160);

    const [s0] = await shards(c.kinesis, stream);
    await splitShardInHalf(c.kinesis, stream, s0!);
    await produce(80);
    await waitActive(c.kinesis, stream);
    await produce(80);

    // Merge the two children of the split back together.
    const kids = (await shards(c.kinesis, stream)).filter((s) => s.ParentShardId === s0!.ShardId && open(s));
    expect(kids).toHaveLength(2);
    kids.sort((x, y) =>
      BigInt(x.HashKeyRange!.StartingHashKey!) < BigInt(y.HashKeyRange!.StartingHashKey!) ? -1 : 1,
    );
    await c.kinesis.send(
      new MergeShardsCommand({
        StreamName: stream,
        ShardToMerge: kids[0]!.ShardId!,
        AdjacentShardToMerge: kids[1]!.ShardId!,
      }),
    );
    await produce(80);
    await waitActive(c.kinesis, stream);
    await produce(80);

    await waitFor('every record processed', () => col.distinct().size === all.length, 30_000);
    expect(col.orderViolations()).toEqual([]);

    // Every shard has a lease; every closed shard is checkpointed SHARD_END with its children recorded.
    const table = new LeaseTable({ client: c.dynamo, tableName: app, sleep: async () => {} });
    const finalShards = await shards(c.kinesis, stream);
    expect(finalShards).toHaveLength(5);
    await waitFor('closed shards at SHARD_END', async () => {
      const leases = new Map((await table.listLeases()).map((l) => [l.leaseKey, l]));
      return finalShards.every(
        (s) => leases.has(s.ShardId!) && (open(s) || leases.get(s.ShardId!)!.checkpoint === 'SHARD_END'),
      );
    });
    const leases = new Map((await table.listLeases()).map((l) => [l.leaseKey, l]));
    const merged = finalShards.find((s) => s.AdjacentParentShardId)!;
    expect(leases.get(merged.ShardId!)!.parentShardIds.sort()).toEqual(kids.map((k) => k.ShardId!).sort());
    expect(leases.get(s0!.ShardId!)!.childShardIds.sort()).toEqual(kids.map((k) => k.ShardId!).sort());
    expect(ended.sort()).toEqual([s0!.ShardId!, ...kids.map((k) => k.ShardId!)].sort());
  });

  it('KCL-style processor: shardEnded is called, and SHARD_END is checkpointed even if it does not checkpoint (KCL #211)', async () => {
    const c = await clients();
    const stream = await createTestStream(c.kinesis, { shardCount: 1 });
    const app = appName();
    const col = new Collector();
    const endedCalls: string[] = [];
    const processor: RecordProcessor = {
      processRecords: async ({ records: rs, checkpointer }) => {
        col.add(rs);
        await checkpointer.checkpoint();
      },
      shardEnded: ({ shardId }) => {
        endedCalls.push(shardId);
      },
    };
    const w = newConsumer(c, {
      streamName: stream,
      applicationName: app,
      initialPosition: 'TRIM_HORIZON',
      processor,
    });
    running.push(w);
    await w.start();
    await put(c.kinesis, stream, records(20, 4));
    const [s0] = await shards(c.kinesis, stream);
    await splitShardInHalf(c.kinesis, stream, s0!);
    await waitActive(c.kinesis, stream);
    await put(c.kinesis, stream, records(20, 4, 'post'));
    await waitFor('all 40', () => col.distinct().size === 40);
    expect(endedCalls).toEqual([s0!.ShardId!]);
    const table = new LeaseTable({ client: c.dynamo, tableName: app, sleep: async () => {} });
    expect((await table.getLease(s0!.ShardId!))!.checkpoint).toBe('SHARD_END');
    expect(col.orderViolations()).toEqual([]);
  });
});
