import { MetricsRegistry, noopLogger } from '@awskit/core';
import { describe, expect, it } from 'vitest';
import {
  buildAssignments,
  type FetchedBatch,
  type Lease,
  CONSUMER_METRICS as M,
  type ShardFetcher,
  type StallInfo,
  teeMetrics,
} from '../src/index.js';
import { ConsumerStatsTracker } from '../src/stats.js';

function setup(held: string[] = ['shardId-000000000000']) {
  const clock = {
    t: 0,
    now() {
      return this.t;
    },
  };
  const downstream = new MetricsRegistry();
  const stalls: StallInfo[] = [];
  const warnings: string[] = [];
  const tracker = new ConsumerStatsTracker({
    workerId: 'w1',
    clock,
    downstream,
    logger: { ...noopLogger, warn: (m) => warnings.push(m) },
    stallThresholdMs: 1_000,
    heldShards: () => held,
    onStall: (i) => stalls.push(i),
  });
  return { clock, downstream, tracker, stalls, warnings, held };
}

/** A fetcher over a fixed list of batches (our own interface, not an SDK client). */
function listFetcherFactory(batches: FetchedBatch[]) {
  return (): ShardFetcher => ({ next: async () => batches.shift(), close: () => {} });
}

const rec = (seq: string, bytes: number) => ({
  SequenceNumber: seq,
  Data: new Uint8Array(bytes),
  PartitionKey: 'k',
  ApproximateArrivalTimestamp: new Date(),
});

const ctx = (shardId: string) =>
  ({ shardId, start: { type: 'TRIM_HORIZON' } }) as unknown as Parameters<
    ReturnType<ConsumerStatsTracker['wrapFetcherFactory']>
  >[0];

describe('ConsumerStatsTracker', () => {
  it('forwards every call to the user metrics and counts records, bytes, errors, checkpoints per shard', async () => {
    const { tracker, downstream } = setup();
    const s = 'shardId-000000000000';
    const f = tracker.wrapFetcherFactory(
      listFetcherFactory([
        { records: [rec('1', 10), rec('2', 5)], shardEnded: false },
        { records: [rec('3', 7)], shardEnded: false },
      ]),
    )(ctx(s));
    await f.next();
    tracker.increment(M.handlerErrors, 1, { shard: s });
    tracker.observe(M.batchDurationMs, 12, { shard: s });
    tracker.increment(M.recordsProcessed, 2, { shard: s });
    tracker.increment(M.checkpoints, 1, { shard: s });
    await f.next(); // second batch handed out, not finished yet
    tracker.gauge(M.millisBehindLatest, 250, { shard: s });
    const st = tracker.stats().shards[0]!;
    expect(st).toMatchObject({
      shardId: s,
      held: true,
      recordsProcessed: 2,
      bytesProcessed: 15,
      batches: 1,
      handlerErrors: 1,
      checkpoints: 1,
      millisBehindLatest: 250,
      stalled: false,
    });
    expect(st.batchDurationMs).toMatchObject({ p50: 12, count: 1 });
    expect(downstream.value(M.handlerErrors, { shard: s })).toBe(1);
    expect(downstream.value(M.bytesProcessed, { shard: s })).toBe(15);
    expect(downstream.value(M.deliveryLatencyMs, { shard: s })).toBe(2);
  });

  it('counts worker lease events (taken, stolen, lost, released, renew failures)', () => {
    const { tracker } = setup(['a', 'b']);
    const w = { worker: 'w1' };
    tracker.increment(M.leasesTaken, 1, w);
    tracker.increment(M.leasesTaken, 1, w);
    tracker.increment(M.leasesStolen, 1, w);
    tracker.increment(M.leasesLost, 1, { ...w, reason: 'taken' });
    tracker.increment(M.leasesReleased, 1, w);
    tracker.increment(M.renewFailures, 3, w);
    expect(tracker.stats().worker).toEqual({
      workerId: 'w1',
      leasesHeld: 2,
      leasesTaken: 2,
      leasesStolen: 1,
      leasesLost: 1,
      leasesReleased: 1,
      renewFailures: 3,
      stalledShards: 0,
    });
  });

  it('reports a stall once when a held shard has a batch in flight and its checkpoint does not move, and clears it on checkpoint', async () => {
    const { tracker, clock, downstream, stalls, warnings } = setup();
    const s = 'shardId-000000000000';
    const f = tracker.wrapFetcherFactory(listFetcherFactory([{ records: [rec('1', 1)], shardEnded: false }]))(
      ctx(s),
    );
    await f.next();
    clock.t = 999;
    tracker.check();
    expect(stalls).toEqual([]);
    clock.t = 1_000;
    tracker.check();
    tracker.check();
    expect(stalls).toEqual([{ shardId: s, checkpointAgeMs: 1_000, batchInFlight: true }]);
    expect(warnings.length).toBe(1);
    expect(tracker.stats().shards[0]!.stalled).toBe(true);
    expect(tracker.stats().worker.stalledShards).toBe(1);
    expect(downstream.value(M.shardStalled, { shard: s })).toBe(1);
    expect(downstream.value(M.stalls, { shard: s })).toBe(1);
    expect(downstream.value(M.checkpointAgeMs, { shard: s })).toBe(1_000);

    tracker.increment(M.checkpoints, 1, { shard: s });
    tracker.check();
    expect(tracker.stats().shards[0]!.stalled).toBe(false);
    expect(downstream.value(M.shardStalled, { shard: s })).toBe(0);
    expect(stalls.length).toBe(1);
  });

  it('calls an idle shard at the tip healthy however old its checkpoint, but a reader behind the tip stalled', async () => {
    const { tracker, clock, stalls } = setup(['a', 'b']);
    tracker.wrapFetcherFactory(listFetcherFactory([]))(ctx('a'));
    tracker.wrapFetcherFactory(listFetcherFactory([]))(ctx('b'));
    tracker.gauge(M.millisBehindLatest, 0, { shard: 'a' });
    tracker.gauge(M.millisBehindLatest, 5_000, { shard: 'b' });
    clock.t = 60_000;
    tracker.check();
    expect(stalls.map((s) => s.shardId)).toEqual(['b']);
    expect(stalls[0]!.millisBehindLatest).toBe(5_000);
  });

  it('never reports shards this worker does not hold', async () => {
    const { tracker, clock, stalls, held } = setup(['a']);
    const f = tracker.wrapFetcherFactory(listFetcherFactory([{ records: [rec('1', 1)], shardEnded: false }]))(
      ctx('a'),
    );
    await f.next();
    held.length = 0;
    clock.t = 10_000;
    tracker.check();
    expect(stalls).toEqual([]);
    expect(tracker.stats().shards[0]).toMatchObject({ held: false, stalled: false });
  });

  it('forgets shards it has not held for ten minutes (resharding churn does not grow stats forever)', () => {
    const { tracker, clock, held } = setup(['a']);
    tracker.increment(M.recordsProcessed, 1, { shard: 'a' });
    held.length = 0;
    tracker.check();
    clock.t = 10 * 60_000;
    tracker.check();
    expect(tracker.stats().shards.map((s) => s.shardId)).toEqual(['a']);
    clock.t = 10 * 60_000 + 1;
    tracker.check();
    expect(tracker.stats().shards).toEqual([]);
  });

  it('renders everything as Prometheus text', () => {
    const { tracker } = setup(['a']);
    tracker.increment(M.recordsProcessed, 5, { shard: 'a' });
    tracker.gauge(M.leasesHeld, 1, { worker: 'w1' });
    const text = tracker.registry.toPrometheus();
    expect(text).toContain('# TYPE kinesis_consumer_records_processed_total counter');
    expect(text).toContain('kinesis_consumer_records_processed_total{shard="a"} 5');
    expect(text).toContain('kinesis_consumer_leases_held{worker="w1"} 1');
  });
});

describe('teeMetrics', () => {
  it('sends each call to every target', () => {
    const a = new MetricsRegistry();
    const b = new MetricsRegistry();
    const t = teeMetrics(a, b);
    t.increment('x', 2);
    t.gauge('y', 3);
    t.observe('z', 4);
    for (const m of [a, b]) expect([m.value('x'), m.value('y'), m.value('z')]).toEqual([2, 3, 1]);
  });
});

describe('buildAssignments', () => {
  const lease = (k: string, extra: Partial<Lease> = {}): Lease => ({
    leaseKey: k,
    leaseCounter: 1,
    checkpoint: 'TRIM_HORIZON',
    checkpointSubSequenceNumber: 0,
    ownerSwitchesSinceCheckpoint: 0,
    parentShardIds: [],
    childShardIds: [],
    ...extra,
  });

  it('gives each shard its owner, status and, for shards held here, local lag and checkpoint age', () => {
    const rows = buildAssignments(
      [
        lease('shardId-000000000003', { parentShardIds: ['shardId-000000000000'] }),
        lease('shardId-000000000000', { checkpoint: '123', leaseOwner: 'me' }),
        lease('shardId-000000000001', { leaseOwner: 'other' }),
        lease('shardId-000000000002', { checkpoint: 'SHARD_END', childShardIds: ['shardId-000000000004'] }),
        lease('shardId-000000000004', { parentShardIds: ['shardId-000000000002'] }),
        lease('worker-metrics-row'),
      ],
      'me',
      new Map([['shardId-000000000000', { millisBehindLatest: 42, checkpointAgeMs: 7, stalled: false }]]),
    );
    expect(rows.map((r) => [r.shardId, r.status, r.owner, r.heldHere])).toEqual([
      ['shardId-000000000000', 'owned', 'me', true],
      ['shardId-000000000001', 'owned', 'other', false],
      ['shardId-000000000002', 'ended', undefined, false],
      ['shardId-000000000003', 'blocked', undefined, false],
      ['shardId-000000000004', 'unassigned', undefined, false],
    ]);
    expect(rows[0]).toMatchObject({
      checkpoint: { sequenceNumber: '123', subSequenceNumber: 0 },
      millisBehindLatest: 42,
      lagSource: 'worker',
      checkpointAgeMs: 7,
      stalled: false,
    });
    expect(rows[1]!.millisBehindLatest).toBeUndefined();
  });
});
