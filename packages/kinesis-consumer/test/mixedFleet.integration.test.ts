/**
 * Mixed fleets (issue 12, defect 3): a Java/Python KCL worker sharing the lease table renews about every 3.3 s
 * (failover 10 s). awskit's 3 s lease duration must not be applied to its leases, or live leases get taken.
 */
import { PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { ListShardsCommand } from '@aws-sdk/client-kinesis';
import { createTestStream } from '@awskit/local/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { KinesisConsumer } from '../src/index.js';
import { LeaseTable } from '../src/leaseTable.js';
import { appName, clients, waitFor } from './helpers.js';

const running: KinesisConsumer[] = [];
const timers: ReturnType<typeof setInterval>[] = [];
afterEach(async () => {
  for (const t of timers.splice(0)) clearInterval(t);
  await Promise.all(running.splice(0).map((c) => c.stop()));
});

describe('KinesisConsumer next to KCL workers', () => {
  it('never takes a lease a KCL worker renews every 3.3 s (nor one in a KCL 3.x hand-off); takes a dead one after the KCL failover time', async () => {
    const c = await clients();
    const stream = await createTestStream(c.kinesis, { shardCount: 3 });
    const app = appName();
    const [live, handoff, dead] = (
      await c.kinesis.send(new ListShardsCommand({ StreamName: stream }))
    ).Shards!.map((s) => s.ShardId!) as [string, string, string];
    const table = new LeaseTable({ client: c.dynamo, tableName: app, sleep: async () => {} });
    await table.ensureTable();
    // Items as the Java KCL writes them (no awskit attributes).
    const kclItem = (shardId: string, owner: string, extra: Record<string, { S: string }> = {}) => ({
      leaseKey: { S: shardId },
      leaseOwner: { S: owner },
      leaseCounter: { N: '1' },
      checkpoint: { S: 'TRIM_HORIZON' },
      checkpointSubSequenceNumber: { N: '0' },
      ownerSwitchesSinceCheckpoint: { N: '0' },
      ...extra,
    });
    for (const item of [
      kclItem(live, 'kcl-worker-1'),
      kclItem(handoff, 'kcl-worker-2', { checkpointOwner: { S: 'kcl-worker-3' } }),
      kclItem(dead, 'kcl-worker-4'),
    ])
      await c.dynamo.send(new PutItemCommand({ TableName: app, Item: item }));
    // The live KCL workers renew like the KCL does (failoverTimeMillis 10 s → every ~3.3 s).
    const renew = (shardId: string, owner: string) =>
      c.dynamo.send(
        new UpdateItemCommand({
          TableName: app,
          Key: { leaseKey: { S: shardId } },
          UpdateExpression: 'SET leaseCounter = leaseCounter + :one',
          ConditionExpression: 'leaseOwner = :owner',
          ExpressionAttributeValues: { ':one': { N: '1' }, ':owner': { S: owner } },
        }),
      );
    const renewFailures: unknown[] = [];
    timers.push(
      setInterval(() => {
        renew(live, 'kcl-worker-1').catch((e) => renewFailures.push(e));
        renew(handoff, 'kcl-worker-2').catch((e) => renewFailures.push(e));
      }, 3_300),
    );

    const acquired = new Map<string, number>();
    const started = performance.now();
    const w = new KinesisConsumer({
      kinesisClient: c.kinesis,
      dynamoClient: c.dynamo,
      streamName: stream,
      applicationName: app,
      workerId: 'awskit-1',
      initialPosition: 'TRIM_HORIZON',
      // Defaults for leases (3 s, renew 1 s, take scan 1 s) and for KCL leases (10 s).
      processor: () => {},
    });
    w.on('leaseAcquired', (s) => acquired.set(s, performance.now() - started));
    running.push(w);
    await w.start();
    await waitFor('the dead KCL worker’s lease is taken', () => acquired.has(dead), 20_000);
    // Not before the KCL's failover time had passed without a renewal.
    expect(acquired.get(dead)!).toBeGreaterThanOrEqual(10_000);
    // Then 30 s in all: the renewed leases stay with their KCL owners.
    await new Promise((r) => setTimeout(r, Math.max(0, 30_000 - (performance.now() - started))));
    expect(renewFailures).toEqual([]);
    expect([...acquired.keys()]).toEqual([dead]);
    const byKey = new Map((await table.listLeases()).map((l) => [l.leaseKey, l]));
    expect(byKey.get(live)!.leaseOwner).toBe('kcl-worker-1');
    expect(byKey.get(handoff)!.leaseOwner).toBe('kcl-worker-2');
    expect(byKey.get(handoff)!.checkpointOwner).toBe('kcl-worker-3');
    expect(byKey.get(dead)!.leaseOwner).toBe('awskit-1');
    expect(byKey.get(dead)!.awskitOwner).toBe('awskit-1');
  }, 60_000);
});
