import { CreateTableCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ListShardsCommand } from '@aws-sdk/client-kinesis';
import { createTestStream } from '@awskit/local/testing';
import { afterEach, describe, expect, it } from 'vitest';
import type { KinesisConsumer } from '../src/index.js';
import { LeaseTable } from '../src/leaseTable.js';
import { newLease } from '../src/shardSync.js';
import { appName, Collector, clients, newConsumer, put, splitShardInHalf, waitFor } from './helpers.js';

const running: KinesisConsumer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.stop()));
});

describe('KinesisConsumer on a lease table written by the KCL', () => {
  it('honours KCL-shaped items: resumes after their checkpoints, takes a dead KCL worker’s lease, keeps KCL attributes', async () => {
    const c = await clients();
    const stream = await createTestStream(c.kinesis, { shardCount: 2 });
    const app = appName();
    const shards = (await c.kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards!;
    const [s0, s1] = shards.map((s) => s.ShardId!);
    // Same key on both shards is impossible; use explicit hash keys to target each shard.
    const target = (i: number) => shards[i]!.HashKeyRange!.StartingHashKey!;
    const seq0 = await put(
      c.kinesis,
      stream,
      Array.from({ length: 10 }, (_, i) => ({ key: 'a', data: `s0:${i}`, explicitHashKey: target(0) })),
    );
    await put(
      c.kinesis,
      stream,
      Array.from({ length: 10 }, (_, i) => ({ key: 'b', data: `s1:${i}`, explicitHashKey: target(1) })),
    );

    // The table as KCL 2.x/3.x leaves it (provisioned, with attributes we do not use).
    await c.dynamo.send(
      new CreateTableCommand({
        TableName: app,
        AttributeDefinitions: [{ AttributeName: 'leaseKey', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }],
        ProvisionedThroughput: { ReadCapacityUnits: 10, WriteCapacityUnits: 10 },
      }),
    );
    await waitFor('table', async () => {
      try {
        await c.dynamo.send(new GetItemCommand({ TableName: app, Key: { leaseKey: { S: 'x' } } }));
        return true;
      } catch {
        return false;
      }
    });
    // s0: owned by a KCL worker that is gone, checkpointed at record 4.
    await c.dynamo.send(
      new PutItemCommand({
        TableName: app,
        Item: {
          leaseKey: { S: s0! },
          leaseOwner: { S: 'kcl-java-worker-7' },
          leaseCounter: { N: '1234' },
          checkpoint: { S: seq0[4]! },
          checkpointSubSequenceNumber: { N: '0' },
          ownerSwitchesSinceCheckpoint: { N: '0' },
          startingHashKey: { S: shards[0]!.HashKeyRange!.StartingHashKey! },
          endingHashKey: { S: shards[0]!.HashKeyRange!.EndingHashKey! },
          throughputKBps: { N: '0.25' },
          checkpointOwner: { S: 'kcl-java-worker-7' },
        },
      }),
    );
    // s1: unowned, never checkpointed.
    await c.dynamo.send(
      new PutItemCommand({
        TableName: app,
        Item: {
          leaseKey: { S: s1! },
          leaseCounter: { N: '7' },
          checkpoint: { S: 'TRIM_HORIZON' },
          checkpointSubSequenceNumber: { N: '0' },
          ownerSwitchesSinceCheckpoint: { N: '0' },
        },
      }),
    );

    const col = new Collector();
    // LATEST here proves existing checkpoints win over the initial position.
    const w = newConsumer(c, {
      streamName: stream,
      applicationName: app,
      initialPosition: 'LATEST',
      processor: (rs) => col.add(rs),
    });
    running.push(w);
    await w.start();
    await waitFor('both shards', () => col.distinct().size === 15);
    const seen = [...col.distinct()].sort();
    expect(seen.filter((t) => t.startsWith('s0'))).toEqual(['s0:5', 's0:6', 's0:7', 's0:8', 's0:9']);
    expect(seen.filter((t) => t.startsWith('s1'))).toHaveLength(10);

    const item = (
      await c.dynamo.send(
        new GetItemCommand({ TableName: app, Key: { leaseKey: { S: s0! } }, ConsistentRead: true }),
      )
    ).Item!;
    expect(item.leaseOwner?.S).toBe(w.workerId);
    expect(Number(item.leaseCounter!.N)).toBeGreaterThan(1234);
    expect(item.throughputKBps?.N).toBe('0.25');
    expect(item.checkpointOwner).toBeUndefined(); // a KCL 3.x hand-off marker does not survive the take
    expect(item.checkpoint?.S).toMatch(/^[0-9]+$/);
    expect(item.checkpointSubSequenceNumber?.N).toBe('0');
  });
});

describe('KinesisConsumer with a lease for a shard that left the stream', () => {
  it('ends it (SHARD_END) so its children are not blocked forever, then deletes the finished lease', async () => {
    const c = await clients();
    const stream = await createTestStream(c.kinesis, { shardCount: 1 });
    const app = appName();
    const [s0] = (await c.kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards!;
    await put(c.kinesis, stream, [{ key: 'k', data: 'k:0' }]);
    const table = new LeaseTable({
      client: c.dynamo,
      tableName: app,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    });
    await table.ensureTable();
    const gone = 'shardId-000000000099';
    await table.createLeaseIfNotExists(
      newLease(gone, '49000000000000000000000000000000000000000000000000000001', []),
    );
    await table.createLeaseIfNotExists(newLease(s0!.ShardId!, 'TRIM_HORIZON', [gone], s0!.HashKeyRange));
    const col = new Collector();
    const w = newConsumer(c, {
      streamName: stream,
      applicationName: app,
      initialPosition: 'TRIM_HORIZON',
      shardSyncIntervalMs: 300,
      processor: (rs) => col.add(rs),
    });
    running.push(w);
    await w.start();
    await waitFor('child processed', () => col.distinct().has('k:0'));
    await waitFor('finished lease of the vanished shard deleted', async () => !(await table.getLease(gone)));
  });
});

describe('KinesisConsumer on a KCL table whose finished parent leases were cleaned up', () => {
  it('does not re-read the parent shard, and processes the children', async () => {
    const c = await clients();
    const stream = await createTestStream(c.kinesis, { shardCount: 1 });
    const app = appName();
    const [s0] = (await c.kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards!;
    await put(c.kinesis, stream, [{ key: 'k', data: 'parent:0' }]);
    await splitShardInHalf(c.kinesis, stream, s0!);
    let shards = (await c.kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards!;
    await waitFor('split', async () => {
      shards = (await c.kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards!;
      return shards.length === 3;
    });
    const kids = shards.filter((s) => s.ParentShardId === s0!.ShardId);
    await put(
      c.kinesis,
      stream,
      kids.map((k, i) => ({
        key: 'k',
        data: `child:${i}`,
        explicitHashKey: k.HashKeyRange!.StartingHashKey!,
      })),
    );
    // What a KCL app leaves behind: children leases, the finished parent's lease deleted.
    const table = new LeaseTable({
      client: c.dynamo,
      tableName: app,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    });
    await table.ensureTable();
    for (const k of kids)
      await table.createLeaseIfNotExists(
        newLease(k.ShardId!, 'TRIM_HORIZON', [s0!.ShardId!], k.HashKeyRange),
      );
    const col = new Collector();
    const w = newConsumer(c, {
      streamName: stream,
      applicationName: app,
      initialPosition: 'TRIM_HORIZON',
      processor: (rs) => col.add(rs),
    });
    running.push(w);
    await w.start();
    await waitFor('children processed', () => col.distinct().size >= 2);
    expect([...col.distinct()].sort()).toEqual(['child:0', 'child:1']);
    expect(await table.getLease(s0!.ShardId!)).toBeUndefined();
  });
});
