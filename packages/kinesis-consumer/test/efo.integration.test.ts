import { KinesisClient, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { createClient, MetricsRegistry } from '@awskit/core';
import { createTestStream, testClientOptions } from '@awskit/local/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { CONSUMER_METRICS, type ConsumerRecord, type KinesisConsumer } from '../src/index.js';
import { LeaseTable } from '../src/leaseTable.js';
import { SilencingProxy } from './efoProxy.js';
import {
  appName,
  Collector,
  checkpointingAt,
  clients,
  newConsumer,
  put,
  putAggregateBetweenPlain,
  records,
  splitShardInHalf,
  text,
  waitFor,
  workerFactory,
} from './helpers.js';

const running: KinesisConsumer[] = [];
const proxies: SilencingProxy[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.stop()));
  await Promise.all(proxies.splice(0).map((p) => p.stop()));
});

/** kinesis-local pushes an event about once a second: EFO tests wait in seconds, not milliseconds. */
const EFO_TEST = { shardEndCheckIntervalMs: 1_000, idleTimeoutMs: 10_000 } as const;

function total(m: MetricsRegistry, name: string): number {
  return m
    .snapshot()
    .filter((s) => s.name === name)
    .reduce((n, s) => n + (typeof s.value === 'number' ? s.value : s.value.count), 0);
}

describe('KinesisConsumer with enhanced fan-out', () => {
  it('consumes every record of a multi-shard stream through a split, in order per key, and checkpoints SHARD_END', async () => {
    const c = await clients();
    const stream = await createTestStream(c.kinesis, { shardCount: 2 });
    const app = appName();
    const col = new Collector();
    const metrics = new MetricsRegistry();
    const ended: string[] = [];
    const w = newConsumer(c, {
      streamName: stream,
      applicationName: app,
      workerId: 'efo',
      mode: 'efo',
      consumerName: `${app}-efo`,
      efo: EFO_TEST,
      metrics,
      initialPosition: 'TRIM_HORIZON',
      processor: (rs) => col.add(rs),
    });
    w.on('shardEnded', (id) => ended.push(id));
    running.push(w);
    const before = records(60, 6, 'before');
    await put(c.kinesis, stream, before);
    await w.start();
    await waitFor('records put before the split', () => col.distinct().size >= before.length);

    const shards = (await c.kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards!;
    const parent = shards[0]!;
    await splitShardInHalf(c.kinesis, stream, parent);
    const after = records(60, 6, 'after');
    // Puts retry while the stream is UPDATING.
    await waitFor('puts after the split', async () => {
      try {
        await put(c.kinesis, stream, after);
        return true;
      } catch {
        return false;
      }
    });
    await waitFor('every record, including those on the children', () => col.distinct().size === 120, 40_000);
    expect(col.orderViolations()).toEqual([]);
    await waitFor('parent ended', () => ended.includes(parent.ShardId!));

    const table = new LeaseTable({ client: c.dynamo, tableName: app, sleep: async () => {} });
    const leases = await table.listLeases();
    const p = leases.find((l) => l.leaseKey === parent.ShardId)!;
    expect(p.checkpoint).toBe('SHARD_END');
    expect(p.childShardIds.length).toBe(2);
    for (const child of p.childShardIds)
      expect(leases.find((l) => l.leaseKey === child)?.parentShardIds).toEqual([parent.ShardId]);
    // Records came through SubscribeToShard, not GetRecords polling.
    expect(total(metrics, CONSUMER_METRICS.efoSubscriptions)).toBeGreaterThanOrEqual(4);
    expect(metrics.value(CONSUMER_METRICS.recordsProcessed, { shard: parent.ShardId! })).toBeGreaterThan(0);
  });

  it('deaggregates KPL records and resumes from a checkpoint inside an aggregate, as polling does', async () => {
    const c = await clients();
    const stream = await createTestStream(c.kinesis, { shardCount: 1 });
    const app = appName();
    await putAggregateBetweenPlain(c.kinesis, stream, ['agg-0', 'agg-1', 'agg-2', 'agg-3']);
    const first = checkpointingAt('agg-1');
    const w1 = newConsumer(c, {
      streamName: stream,
      applicationName: app,
      mode: 'efo',
      efo: EFO_TEST,
      initialPosition: 'TRIM_HORIZON',
      processor: first.processor,
    });
    running.push(w1);
    await w1.start();
    await waitFor(
      'checkpoint inside the aggregate, all read',
      () => first.checkpointed && first.seen.includes('plain-1'),
    );
    await w1.stop();
    expect(first.seen).toEqual(['plain-0', 'agg-0', 'agg-1', 'agg-2', 'agg-3', 'plain-1']);

    const second: ConsumerRecord[] = [];
    const w2 = newConsumer(c, {
      streamName: stream,
      applicationName: app,
      mode: 'efo',
      efo: EFO_TEST,
      initialPosition: 'TRIM_HORIZON',
      processor: (rs) => {
        second.push(...rs);
      },
    });
    running.push(w2);
    await w2.start();
    await waitFor('the rest', () => second.some((r) => text(r) === 'plain-1'));
    expect(second.map(text)).toEqual(['agg-2', 'agg-3', 'plain-1']);
    expect(second.map((r) => [r.aggregated, r.subSequenceNumber])).toEqual([
      [true, 2],
      [true, 3],
      [false, 0],
    ]);
  });

  it('two workers share one stream consumer; a shard moving between them is resubscribed by its new owner', async () => {
    const c = await clients();
    const stream = await createTestStream(c.kinesis, { shardCount: 2 });
    const app = appName();
    const col = new Collector();
    const make = workerFactory(c, running, col, {
      streamName: stream,
      applicationName: app,
      mode: 'efo',
      efo: EFO_TEST,
      initialPosition: 'TRIM_HORIZON',
    });
    const a = make('a');
    await a.start();
    await waitFor('a holds both', () => a.heldLeases().length === 2);
    const first = records(40, 8, 'first');
    await put(c.kinesis, stream, first);
    await waitFor('first records through a', () => col.distinct().size === first.length);
    const b = make('b');
    await b.start();
    // b steals one shard: a's subscription to it is closed, b subscribes (the service may still say
    // ResourceInUse for a moment; b backs off and retries).
    await waitFor('1/1', () => a.heldLeases().length === 1 && b.heldLeases().length === 1);
    const second = records(40, 8, 'second');
    await put(c.kinesis, stream, second);
    await waitFor('second records', () => col.distinct().size === 80, 30_000);
    expect(col.byWorker.get('b')).toBeGreaterThan(0);
    expect(col.orderViolations()).toEqual([]);
  });

  it('resubscribes ahead of the subscription time limit from its continuation, losing and repeating nothing', async () => {
    const c = await clients();
    const stream = await createTestStream(c.kinesis, { shardCount: 1 });
    const col = new Collector();
    const metrics = new MetricsRegistry();
    const expiries = () =>
      total(
        { snapshot: () => metrics.snapshot().filter((s) => s.labels.reason === 'expiry') } as MetricsRegistry,
        CONSUMER_METRICS.efoResubscribes,
      );
    const w = newConsumer(c, {
      streamName: stream,
      applicationName: appName(),
      mode: 'efo',
      // The 5-minute limit, scaled down: every subscription is replaced after 1.5 s.
      efo: { ...EFO_TEST, maxSubscriptionMs: 1_500 },
      metrics,
      initialPosition: 'TRIM_HORIZON',
      processor: (rs) => col.add(rs),
    });
    running.push(w);
    await w.start();
    // The first subscription of an empty shard is replaced before any record exists.
    await waitFor('a resubscription on the empty shard', () => expiries() >= 1);
    const first = records(10, 2, 'first');
    await put(c.kinesis, stream, first);
    await waitFor('first records', () => col.distinct().size === first.length);
    const seen = expiries();
    await waitFor('another resubscription', () => expiries() > seen);
    const second = records(10, 2, 'second');
    await put(c.kinesis, stream, second);
    await waitFor('second records', () => col.distinct().size === 20);
    expect(col.all.length).toBe(20);
    expect(col.orderViolations()).toEqual([]);
  });

  it('detects a subscription that went silent (half-open connection) and resubscribes from its continuation', async () => {
    const c = await clients();
    const proxy = await SilencingProxy.start(testClientOptions().endpoint!);
    proxies.push(proxy);
    const viaProxy = await createClient(KinesisClient, testClientOptions({ endpoint: proxy.endpoint }));
    const stream = await createTestStream(c.kinesis, { shardCount: 1 });
    const app = appName();
    const col = new Collector();
    const metrics = new MetricsRegistry();
    const w = newConsumer(
      { kinesis: viaProxy, dynamo: c.dynamo },
      {
        streamName: stream,
        applicationName: app,
        mode: 'efo',
        efo: { ...EFO_TEST, idleTimeoutMs: 3_000 },
        metrics,
        initialPosition: 'TRIM_HORIZON',
        processor: (rs) => col.add(rs),
      },
    );
    running.push(w);
    await w.start();
    const first = records(10, 2, 'first');
    await put(c.kinesis, stream, first);
    await waitFor('first records', () => col.distinct().size === first.length);

    expect(proxy.silenceSubscriptions()).toBe(1);
    const second = records(10, 2, 'second');
    await put(c.kinesis, stream, second);
    await waitFor('idle deadline fired', () => total(metrics, CONSUMER_METRICS.efoIdleTimeouts) >= 1);
    await waitFor(
      'records put while silent arrive after resubscribing',
      () => col.distinct().size === 20,
      30_000,
    );
    expect(col.orderViolations()).toEqual([]);
    expect(total(metrics, CONSUMER_METRICS.efoSubscriptions)).toBeGreaterThanOrEqual(2);
    const resub = metrics
      .snapshot()
      .filter((s) => s.name === CONSUMER_METRICS.efoResubscribes && s.labels.reason === 'idle');
    expect(resub.length).toBe(1);
    // Continued from the continuation: nothing before the silence was delivered twice.
    expect(col.all.filter((r) => new TextDecoder().decode(r.data).startsWith('first')).length).toBe(
      first.length,
    );
  });
});
