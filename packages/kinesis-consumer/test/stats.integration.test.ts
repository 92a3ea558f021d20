import type { ChildProcess } from 'node:child_process';
import { MetricsRegistry } from '@awskit/core';
import { createTestStream } from '@awskit/local/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { type KinesisConsumer, CONSUMER_METRICS as M, type StallInfo } from '../src/index.js';
import {
  appName,
  Collector,
  clients,
  newConsumer,
  put,
  records,
  spawnWorkerProcess,
  waitFor,
} from './helpers.js';

const running: KinesisConsumer[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const ch of children.splice(0)) if (ch.exitCode === null) ch.kill('SIGKILL');
  await Promise.all(running.splice(0).map((c) => c.stop()));
});

describe('KinesisConsumer observability', () => {
  it('metrics, stats() and assignments() reflect a failover from a SIGKILLed worker process', async () => {
    const c = await clients();
    const stream = await createTestStream(c.kinesis, { shardCount: 4 });
    const app = appName();
    const { child, shards: childShards } = spawnWorkerProcess(stream, app);
    children.push(child);
    await waitFor('child holds all 4', () => childShards.size === 4);

    const metrics = new MetricsRegistry();
    const col = new Collector();
    const survivor = newConsumer(c, {
      streamName: stream,
      applicationName: app,
      workerId: 'survivor',
      initialPosition: 'TRIM_HORIZON',
      metrics,
      processor: (rs) => col.add(rs),
    });
    running.push(survivor);
    await survivor.start();
    await waitFor(
      '2/2 with the child process',
      () => survivor.heldLeases().length === 2 && childShards.size === 2,
    );
    await put(c.kinesis, stream, records(40, 8, 'before'));

    const before = await survivor.assignments({ probeLag: true });
    expect(before.map((a) => a.owner).sort()).toEqual(['doomed', 'doomed', 'survivor', 'survivor']);
    expect(before.filter((a) => a.heldHere).map((a) => a.shardId)).toEqual(
      survivor
        .heldLeases()
        .map((l) => l.shardId)
        .sort(),
    );
    // Lag of the other worker's shards is probed from their checkpoints.
    for (const a of before.filter((x) => x.owner === 'doomed')) {
      expect(a.lagSource).toBe('probe');
      expect(a.millisBehindLatest).toBeGreaterThanOrEqual(0);
    }
    const taken0 = survivor.stats().worker;
    expect(taken0.leasesTaken + taken0.leasesStolen).toBe(2);

    child.kill('SIGKILL');
    await put(c.kinesis, stream, records(40, 8, 'after'));
    await waitFor('survivor holds all 4', () => survivor.heldLeases().length === 4, 15_000);
    await waitFor('every record put after the crash', () => {
      const seen = col.distinct();
      return records(40, 8, 'after').every((r) => seen.has(r.data));
    });

    const st = survivor.stats();
    expect(st.worker.leasesHeld).toBe(4);
    expect(st.worker.leasesTaken - taken0.leasesTaken).toBe(2);
    expect(st.worker.leasesLost).toBe(0);
    expect(st.shards.filter((s) => s.held).length).toBe(4);
    expect(st.shards.reduce((n, s) => n + s.recordsProcessed, 0)).toBeGreaterThanOrEqual(40);
    expect(st.shards.every((s) => s.bytesProcessed > 0 || s.recordsProcessed === 0)).toBe(true);

    await waitFor('lag known for every shard', async () =>
      (await survivor.assignments()).every((a) => a.millisBehindLatest !== undefined),
    );
    const after = await survivor.assignments();
    expect(after.map((a) => [a.owner, a.status, a.heldHere, a.lagSource])).toEqual(
      Array(4).fill(['survivor', 'owned', true, 'worker']),
    );

    const text = survivor.toPrometheus();
    expect(text).toContain(`${M.leasesHeld}{worker="survivor"} 4`);
    expect(text).toMatch(new RegExp(`${M.leasesTaken}\\{worker="survivor"\\} [1-9]`));
    expect(text).toContain(`# TYPE ${M.batchDurationMs} summary`);
    // The user's metrics saw the same.
    expect(metrics.value(M.leasesHeld, { worker: 'survivor' })).toBe(4);
  });

  it('reports a shard stalled while its handler hangs with the lease renewed, and recovers when it returns', async () => {
    const c = await clients();
    const stream = await createTestStream(c.kinesis, { shardCount: 1 });
    let release!: () => void;
    const hang = new Promise<void>((r) => {
      release = r;
    });
    const stalls: StallInfo[] = [];
    let entered = false;
    const metrics = new MetricsRegistry();
    const w = newConsumer(c, {
      streamName: stream,
      applicationName: appName(),
      initialPosition: 'TRIM_HORIZON',
      // Well above scheduling hiccups of a loaded 2-core machine, so the only stall is the hanging handler.
      stallThresholdMs: 1_500,
      metrics,
      processor: () => {
        entered = true;
        return hang;
      },
    });
    w.on('shardStalled', (i) => stalls.push(i));
    running.push(w);
    await w.start();
    await put(c.kinesis, stream, records(5, 1));
    await waitFor('handler called', () => entered);
    await waitFor('stall reported', () => stalls.length === 1);
    expect(stalls[0]!.batchInFlight).toBe(true);
    expect(w.stats().shards[0]!.stalled).toBe(true);
    expect(w.heldLeases().length).toBe(1); // the lease is still renewed: only the stats can tell
    expect((await w.assignments())[0]!.stalled).toBe(true);
    const shard = w.stats().shards[0]!.shardId;
    expect(metrics.value(M.shardStalled, { shard })).toBe(1);

    release();
    await waitFor('recovered', () => !w.stats().shards[0]!.stalled);
    expect(metrics.value(M.shardStalled, { shard })).toBe(0);
    expect(stalls.length).toBe(1);
  });
});
