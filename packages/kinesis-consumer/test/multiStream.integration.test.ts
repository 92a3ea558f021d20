import { PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamSummaryCommand,
  type KinesisClient,
  ListShardsCommand,
  ListStreamConsumersCommand,
  type Shard,
} from '@aws-sdk/client-kinesis';
import { createTestStream } from '@awskit/local/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ConsumerRecord,
  type KinesisConsumer,
  KinesisConsumerErrorCode,
  type ProcessorStream,
  type RecordProcessor,
} from '../src/index.js';
import { LeaseTable } from '../src/leaseTable.js';
import {
  appName,
  Collector,
  clients,
  newConsumer,
  put,
  records,
  splitShardInHalf,
  text,
  waitFor,
  workerFactory,
} from './helpers.js';

const running: KinesisConsumer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.stop()));
});

async function describe_(kinesis: KinesisClient, stream: string) {
  return (await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream })))
    .StreamDescriptionSummary!;
}

async function shards(kinesis: KinesisClient, stream: string): Promise<Shard[]> {
  return (await kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? [];
}

const KCL_MULTI_KEY = /^([0-9]{12}):([^:]+):([0-9]+):(shardId-[0-9]{12})$/;

describe('KinesisConsumer with several streams (KCL MultiStreamTracker)', () => {
  it.each(['counter', 'worker-liveness'] as const)(
    'two streams, two workers, one lease table, a split on one stream: every record of both, KCL multi-stream leases (%s lease mode)',
    async (leaseMode) => {
      const c = await clients();
      const streamA = await createTestStream(c.kinesis, { shardCount: 2 });
      const streamB = await createTestStream(c.kinesis, { shardCount: 1 });
      const [descA, descB] = [await describe_(c.kinesis, streamA), await describe_(c.kinesis, streamB)];
      const app = appName();
      const col = new Collector();
      // Which stream each record was handed over with (the batch context names it).
      const streamOfRecord = new Map<string, string | undefined>();
      const ended: [string, string[], string | undefined][] = [];
      const worker = workerFactory(c, running, col, {
        // One stream by name, the other by ARN.
        streams: [streamA, descB.StreamARN!],
        applicationName: app,
        leaseMode,
        initialPosition: 'TRIM_HORIZON',
        shardSyncIntervalMs: 500,
        polling: { maxRecordsPerFetch: 25, idleTimeBetweenReadsMs: 100, minTimeBetweenReadsMs: 20 },
        processor: (id) => async (rs, ctx) => {
          for (const r of rs) streamOfRecord.set(text(r), ctx.streamName);
          col.add(rs, id);
        },
      });
      const make = (id: string) => {
        const w = worker(id);
        w.on('shardEnded', (shardId, children, streamName) => ended.push([shardId, children, streamName]));
        return w;
      };
      const w1 = make('w1');
      const w2 = make('w2');
      await w1.start();
      await w2.start();

      // Keys a*/b* per stream so the per-key order check stays per stream.
      const allA = records(400, 8, 'a');
      const allB = records(200, 4, 'b');
      await put(c.kinesis, streamA, allA.slice(0, 150));
      await put(c.kinesis, streamB, allB.slice(0, 100));

      // Both workers share the three leases of both streams.
      await waitFor(
        'both workers hold leases',
        () => w1.heldLeases().length > 0 && w2.heldLeases().length > 0,
      );
      expect(w1.heldLeases().length + w2.heldLeases().length).toBeLessThanOrEqual(3);

      // Split stream A's first shard while records flow.
      const [a0] = await shards(c.kinesis, streamA);
      await splitShardInHalf(c.kinesis, streamA, a0!);
      await put(c.kinesis, streamA, allA.slice(150, 250));
      await put(c.kinesis, streamB, allB.slice(100));
      await waitFor(
        'stream A active',
        async () => (await describe_(c.kinesis, streamA)).StreamStatus === 'ACTIVE',
      );
      await put(c.kinesis, streamA, allA.slice(250));

      const expected = new Set([...allA, ...allB].map((r) => r.data));
      await waitFor(
        'every record of both streams processed',
        () => col.distinct().size === expected.size,
        40_000,
      );
      // Nothing lost, nothing foreign: exactly the records put, each at least once.
      expect(col.distinct()).toEqual(expected);
      expect(col.orderViolations()).toEqual([]);
      for (const [t, s] of streamOfRecord) expect(s).toBe(t.startsWith('a') ? streamA : streamB);
      expect(col.byWorker.get('w1')).toBeGreaterThan(0);
      expect(col.byWorker.get('w2')).toBeGreaterThan(0);

      // The lease table: KCL multi-stream keys and attributes for every shard of both streams.
      const finalA = await shards(c.kinesis, streamA);
      expect(finalA).toHaveLength(4);
      const accountA = descA.StreamARN!.split(':')[4]!;
      const epochA = descA.StreamCreationTimestamp!.getTime();
      const idA = `${accountA}:${streamA}:${epochA}`;
      const idB = `${descB.StreamARN!.split(':')[4]}:${streamB}:${descB.StreamCreationTimestamp!.getTime()}`;
      const keyA = (shardId: string) => `${idA}:${shardId}`;
      const scan = async () =>
        (await c.dynamo.send(new ScanCommand({ TableName: app, ConsistentRead: true }))).Items!;
      await waitFor('the split parent at SHARD_END', async () =>
        (await scan()).some((i) => i.leaseKey!.S === keyA(a0!.ShardId!) && i.checkpoint!.S === 'SHARD_END'),
      );
      const items = await scan();
      expect(items.map((i) => i.leaseKey!.S!).sort()).toEqual(
        [...finalA.map((s) => keyA(s.ShardId!)), `${idB}:shardId-000000000000`].sort(),
      );
      for (const i of items) {
        const m = KCL_MULTI_KEY.exec(i.leaseKey!.S!)!;
        expect(m).not.toBeNull();
        // DynamoDBMultiStreamLeaseSerializer: `streamName` holds the stream identifier, `shardId` the shard id.
        expect(i.streamName).toEqual({ S: `${m[1]}:${m[2]}:${m[3]}` });
        expect(i.shardId).toEqual({ S: m[4] });
      }
      const children = finalA.filter((s) => s.ParentShardId === a0!.ShardId);
      expect(children).toHaveLength(2);
      const byKey = new Map(items.map((i) => [i.leaseKey!.S!, i]));
      for (const child of children)
        expect(byKey.get(keyA(child.ShardId!))!.parentShardId).toEqual({ SS: [a0!.ShardId!] });
      expect(byKey.get(keyA(a0!.ShardId!))!.childShardIds!.SS!.sort()).toEqual(
        children.map((s) => s.ShardId!).sort(),
      );
      expect(ended).toEqual([
        [a0!.ShardId!, expect.arrayContaining(children.map((s) => s.ShardId!)), streamA],
      ]);

      // Views name the stream.
      const rows = await w1.assignments();
      expect(rows).toHaveLength(5);
      expect(rows.filter((r) => r.streamName === streamA)).toHaveLength(4);
      expect(rows.filter((r) => r.streamName === streamB)).toHaveLength(1);
      for (const r of rows) expect(r.leaseKey).toBe(`${r.streamName === streamA ? idA : idB}:${r.shardId}`);
      for (const h of [...w1.heldLeases(), ...w2.heldLeases()]) {
        expect([streamA, streamB]).toContain(h.streamName);
        expect(h.leaseKey!.endsWith(`:${h.shardId}`)).toBe(true);
      }
      const held = w1.stats().shards.filter((s) => s.held);
      for (const s of held) expect(s.leaseKey).toBe(`${s.streamName === streamA ? idA : idB}:${s.shardId}`);
      expect(w1.heldLeases().length + w2.heldLeases().length).toBe(4);
    },
    90_000,
  );

  it('resumes from a checkpoint a KCL multi-stream application wrote (creationEpoch given), and the factory gets the stream', async () => {
    const c = await clients();
    const stream = await createTestStream(c.kinesis, { shardCount: 1 });
    const arn = (await describe_(c.kinesis, stream)).StreamARN!;
    const app = appName();
    const seqs = await put(
      c.kinesis,
      stream,
      Array.from({ length: 10 }, (_, i) => ({ key: 'k', data: `k:${i}` })),
    );
    // The lease table as a KCL 2.x/3.x multi-stream application leaves it (epoch in seconds, as some apps use).
    const table = new LeaseTable({ client: c.dynamo, tableName: app, sleep: async () => {} });
    await table.ensureTable();
    const id = `${arn.split(':')[4]}:${stream}:1700000000`;
    await c.dynamo.send(
      new PutItemCommand({
        TableName: app,
        Item: {
          leaseKey: { S: `${id}:shardId-000000000000` },
          leaseCounter: { N: '17' },
          leaseOwner: { S: 'kcl-worker-gone' },
          checkpoint: { S: seqs[4]! },
          checkpointSubSequenceNumber: { N: '0' },
          ownerSwitchesSinceCheckpoint: { N: '0' },
          streamName: { S: id },
          shardId: { S: 'shardId-000000000000' },
        },
      }),
    );
    const seen: ConsumerRecord[] = [];
    const factoryCalls: [string, ProcessorStream][] = [];
    const w = newConsumer(c, {
      streams: [{ streamARN: arn, creationEpoch: 1700000000 }],
      applicationName: app,
      initialPosition: 'TRIM_HORIZON',
      // A KCL worker's lease: judged by the KCL failover time (shortened here).
      foreignLeaseDurationMs: 1_500,
      processor: {
        createProcessor: (shardId, s): RecordProcessor => {
          factoryCalls.push([shardId, s]);
          return {
            processRecords: async ({ records: rs, checkpointer, streamName }) => {
              expect(streamName).toBe(stream);
              seen.push(...rs);
              await checkpointer.checkpoint();
            },
          };
        },
      },
    });
    running.push(w);
    await w.start();
    await waitFor('records after the KCL checkpoint', () => seen.length >= 5, 20_000);
    expect(seen.map(text)).toEqual(['k:5', 'k:6', 'k:7', 'k:8', 'k:9']);
    expect(factoryCalls).toEqual([
      [
        'shardId-000000000000',
        {
          streamName: stream,
          streamARN: arn,
          accountId: arn.split(':')[4],
          creationEpoch: 1700000000,
          streamIdentifier: id,
          leaseKey: `${id}:shardId-000000000000`,
        },
      ],
    ]);
    // No second lease was created for the shard: the KCL's key was recognized.
    expect((await table.listLeases()).map((l) => l.leaseKey)).toEqual([`${id}:shardId-000000000000`]);
  }, 60_000);

  it('enhanced fan-out: the stream consumer is registered on each stream and every record of both is read', async () => {
    const c = await clients();
    const streamA = await createTestStream(c.kinesis, { shardCount: 2 });
    const streamB = await createTestStream(c.kinesis, { shardCount: 1 });
    const app = appName();
    const col = new Collector();
    const w = newConsumer(c, {
      streams: [streamA, streamB],
      applicationName: app,
      mode: 'efo',
      consumerName: `${app}-efo`,
      efo: { shardEndCheckIntervalMs: 1_000, idleTimeoutMs: 10_000 },
      initialPosition: 'TRIM_HORIZON',
      processor: (rs) => col.add(rs),
    });
    running.push(w);
    const allA = records(40, 4, 'a');
    const allB = records(20, 2, 'b');
    await put(c.kinesis, streamA, allA);
    await put(c.kinesis, streamB, allB);
    await w.start();
    await waitFor('every record of both streams', () => col.distinct().size === 60, 30_000);
    expect(col.distinct()).toEqual(new Set([...allA, ...allB].map((r) => r.data)));
    for (const stream of [streamA, streamB]) {
      const arn = (await describe_(c.kinesis, stream)).StreamARN!;
      const consumers = await c.kinesis.send(new ListStreamConsumersCommand({ StreamARN: arn }));
      expect(consumers.Consumers?.map((x) => x.ConsumerName)).toEqual([`${app}-efo`]);
    }
  }, 60_000);

  it('a missing stream among several fails start() with a typed StreamNotFoundError', async () => {
    const c = await clients();
    const stream = await createTestStream(c.kinesis, { shardCount: 1 });
    const w = newConsumer(c, {
      streams: [stream, 'no-such-stream-ms'],
      applicationName: appName(),
      processor: async () => {},
    });
    running.push(w);
    await expect(w.start()).rejects.toMatchObject({
      code: KinesisConsumerErrorCode.StreamNotFound,
      message: expect.stringContaining('no-such-stream-ms'),
    });
  });
});
