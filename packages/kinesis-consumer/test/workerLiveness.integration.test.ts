import type { ChildProcess } from 'node:child_process';
import { noopLogger, noopMetrics } from '@awskit/core';
import { createTestStream, uniqueName } from '@awskit/local/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { type KinesisConsumer, LeaseLostError } from '../src/index.js';
import { type HeldLease, LeaseCoordinator, type LeaseLossReason } from '../src/leaseCoordinator.js';
import { LeaseTable } from '../src/leaseTable.js';
import { newLease } from '../src/shardSync.js';
import type { LeaseMode } from '../src/types.js';
import { WorkerRegistry } from '../src/workerRegistry.js';
import {
  appName,
  Collector,
  clients,
  put,
  records,
  spawnWorkerProcess,
  waitFor,
  workerFactory,
} from './helpers.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const shard = (i: number) => `shardId-${String(i).padStart(12, '0')}`;
const LEASE_MS = 10_000;

async function freshTable(leases: number): Promise<{ table: LeaseTable; registry: WorkerRegistry }> {
  const { dynamo } = await clients();
  const table = new LeaseTable({ client: dynamo, tableName: uniqueName('leases'), sleep });
  await table.ensureTable();
  for (let i = 0; i < leases; i++) await table.createLeaseIfNotExists(newLease(shard(i), 'TRIM_HORIZON', []));
  return { table, registry: new WorkerRegistry({ client: dynamo, leaseTable: table, sleep }) };
}

/** A coordinator driven by hand (no loops) on its own fake clock. */
function coordinator(
  t: { table: LeaseTable; registry: WorkerRegistry },
  workerId: string,
  clock: { t: number },
  opts: {
    leaseMode?: LeaseMode;
    balance?: boolean;
    handoffTimeoutMs?: number;
    leaseDurationMs?: number;
    renewIntervalMs?: number;
    stretchHeartbeatToMs?: number;
  } = {},
) {
  const lost: [string, LeaseLossReason][] = [];
  const handoffs: string[] = [];
  const c = new LeaseCoordinator({
    table: t.table,
    registry: t.registry,
    leaseMode: opts.leaseMode ?? 'worker-liveness',
    leaseScanIntervalMs: 60_000,
    workerId,
    clock: { now: () => clock.t },
    sleep: async () => {},
    leaseDurationMs: opts.leaseDurationMs ?? LEASE_MS,
    renewIntervalMs: opts.renewIntervalMs ?? 3_000,
    takeIntervalMs: 1_000,
    maxLeasesForWorker: Number.POSITIVE_INFINITY,
    balance: opts.balance ?? false,
    logger: noopLogger,
    metrics: noopMetrics,
    random: Math.random,
    onAcquired: () => {},
    onLost: (h: HeldLease, r) => lost.push([h.shardId, r]),
    handoffTimeoutMs: opts.handoffTimeoutMs ?? 0,
    ...(opts.stretchHeartbeatToMs ? { stretchHeartbeatToMs: opts.stretchHeartbeatToMs } : {}),
    onHandoffRequested: (h: HeldLease) => handoffs.push(h.shardId),
  });
  return { c, lost, handoffs };
}

/** Worker a holds all `leases`; worker b has joined (balancing off); both on one fake clock at 0. */
async function ownerAndWatcher(leases: number) {
  const t = await freshTable(leases);
  const clock = { t: 0 };
  const a = coordinator(t, 'a', clock);
  const b = coordinator(t, 'b', clock);
  await a.c.init();
  await a.c.takeCycle();
  await b.c.init();
  return { t, clock, a, b };
}

describe("leaseMode 'worker-liveness' (real DynamoDB API, fake clocks)", () => {
  it('lease items do not change while their owner is alive; a dead owner’s session is fenced and its leases taken', async () => {
    const t = await freshTable(4);
    const ca = { t: 0 };
    const cb = { t: 0 };
    const a = coordinator(t, 'a', ca);
    const b = coordinator(t, 'b', cb);
    await a.c.init();
    expect((await a.c.takeOnce()).length).toBe(4);
    await b.c.init();
    await b.c.takeOnce();
    const counters = (await t.table.listLeases()).map((l) => l.leaseCounter);
    // Both alive for 30 s of their clocks: only the liveness items move, and b takes nothing.
    for (let i = 0; i < 10; i++) {
      ca.t += 3_000;
      cb.t += 3_000;
      await a.c.renewAll();
      await b.c.renewAll();
      expect(await b.c.takeOnce()).toEqual([]);
    }
    expect((await t.table.listLeases()).map((l) => l.leaseCounter)).toEqual(counters);
    expect(b.c.held.size).toBe(0);
    // a dies (no more heartbeats). b sees its item stop, fences it, takes its leases.
    const deadSession = a.c.sessionKey!;
    cb.t += 1_000;
    await b.c.takeOnce();
    for (let i = 0; i < 4; i++) {
      cb.t += 3_000;
      await b.c.renewAll();
      await b.c.takeOnce();
    }
    expect(b.c.held.size).toBe(4);
    expect((await t.registry.get(deadSession))?.deadBy).toBe('b');
    const after = await t.table.listLeases();
    expect(after.every((l) => l.leaseOwner === 'b' && l.awskitSession === b.c.sessionKey)).toBe(true);
  });

  it('a session that went quiet is judged by a roster probe a lease duration after its last heartbeat, not at the next heartbeat after that', async () => {
    const { t, clock, a, b } = await ownerAndWatcher(4);
    const getItems = () => t.table.cost.calls.GetItem;
    const reads = getItems();
    // Both alive (heartbeats every 3 s, take cycles every second): nobody probes.
    for (clock.t = 1_000; clock.t <= 12_000; clock.t += 1_000) {
      if (clock.t % 3_000 === 0) {
        await a.c.renewAll();
        await b.c.renewAll();
      }
      await b.c.takeCycle();
    }
    expect(getItems() - reads).toBe(0);
    expect(b.c.held.size).toBe(0);
    // a's heartbeat at 12 s is its last. b's heartbeat at 12 s (after a's) shows it; b's next ones are at 15, 18, 21 s.
    // Without a probe, the first view sent more than a lease duration (10 s) after 12 s is the heartbeat at 24 s.
    let tookAt: number | undefined;
    for (clock.t = 13_000; clock.t <= 23_000 && tookAt === undefined; clock.t += 1_000) {
      if (clock.t % 3_000 === 0) await b.c.renewAll();
      if ((await b.c.takeCycle()).length) tookAt = clock.t;
    }
    // The probe is due at 22.001 s; the take cycle at 23 s sends it, fences a and takes its leases.
    expect(tookAt).toBe(23_000);
    expect(b.c.held.size).toBe(4);
    expect(getItems() - reads).toBe(1);
    expect(b.c.scanCounts.worker).toBe(1);
  });

  it('a session is judged by the lease duration it declared: a worker with a longer lease than the taker’s is not taken while it beats, and is taken after its own duration once it stops', async () => {
    const t = await freshTable(2);
    const clock = { t: 0 };
    // a: lease 20 s, heartbeat every 12 s (longer than b's lease of 10 s would tolerate); b: lease 10 s.
    const a = coordinator(t, 'a', clock, { leaseDurationMs: 20_000, renewIntervalMs: 12_000 });
    const b = coordinator(t, 'b', clock);
    await a.c.init();
    await a.c.takeCycle();
    await b.c.init();
    for (clock.t = 1_000; clock.t <= 36_000; clock.t += 1_000) {
      if (clock.t % 12_000 === 0) await a.c.renewAll();
      if (clock.t % 3_000 === 0) await b.c.renewAll();
      expect(await b.c.takeCycle()).toEqual([]);
    }
    expect(a.c.held.size).toBe(2);
    expect((await t.registry.get(a.c.sessionKey!))?.deadBy).toBeUndefined();
    // a's heartbeat at 36 s is its last: b takes its leases only once a's own 20 s have passed (not after 10 s).
    let tookAt: number | undefined;
    for (clock.t = 37_000; clock.t <= 60_000 && tookAt === undefined; clock.t += 1_000) {
      if (clock.t % 3_000 === 0) await b.c.renewAll();
      if ((await b.c.takeCycle()).length) tookAt = clock.t;
    }
    expect(tookAt).toBeGreaterThan(36_000 + 20_000);
    expect(tookAt).toBeLessThanOrEqual(36_000 + 20_000 + 2_000);
    expect(b.c.held.size).toBe(2);
  });

  it('stretched heartbeat: with one lease per worker each beats every 3.3 s (declaring lease 4.3 s), a death is judged by that, and the survivor shortens its interval again', async () => {
    const t = await freshTable(2);
    const clock = { t: 0 };
    const opts = {
      balance: true,
      leaseDurationMs: 3_000,
      renewIntervalMs: 1_000,
      stretchHeartbeatToMs: 3_308,
    };
    const a = coordinator(t, 'a', clock, opts);
    const b = coordinator(t, 'b', clock, opts);
    await a.c.init();
    await a.c.takeCycle();
    // Alone with 2 leases: 3.3 s × 1 worker ÷ 2 leases.
    const next = new Map([
      [a, 0],
      [b, 0],
    ]);
    const beats = new Map([
      [a, 0],
      [b, 0],
    ]);
    /** Drives both coordinators (heartbeats at each one's current interval, take cycles every second) up to `until`. */
    const run = async (until: number, alive: (typeof a)[]) => {
      for (; clock.t <= until; clock.t += 100) {
        for (const w of alive)
          if (clock.t >= next.get(w)!) {
            await w.c.renewAll();
            beats.set(w, beats.get(w)! + 1);
            next.set(w, clock.t + w.c.currentTiming.heartbeatMs);
          }
        if (clock.t % 1_000 === 0) for (const w of alive) await w.c.takeCycle();
      }
    };
    await run(3_000, [a]);
    // (The lease stays 3 s: that leaves more than 1 s over the interval.)
    expect(a.c.currentTiming).toEqual({ heartbeatMs: 1_654, leaseMs: 3_000 });
    await b.c.init();
    await run(15_000, [a, b]);
    expect([a.c.held.size, b.c.held.size]).toEqual([1, 1]);
    expect(a.c.currentTiming).toEqual({ heartbeatMs: 3_308, leaseMs: 4_308 });
    expect(b.c.currentTiming).toEqual({ heartbeatMs: 3_308, leaseMs: 4_308 });
    const declared = (await t.registry.view(true)).sessions.map((s) => s.leaseDurationMs);
    expect(declared).toEqual([4_308, 4_308]);
    // 30 s of a balanced fleet: ~9 heartbeats each, not 30.
    beats.set(a, 0);
    await run(45_000, [a, b]);
    expect(beats.get(a)).toBeGreaterThanOrEqual(8);
    expect(beats.get(a)).toBeLessThanOrEqual(10);
    expect(b.c.held.size).toBe(1);
    // a dies. b takes its lease once a's declared 4.3 s have passed since b first saw a's last heartbeat (b sees it
    // with its own next heartbeat, up to 3.3 s later), never before.
    const lastBeat = next.get(a)! - a.c.currentTiming.heartbeatMs;
    let tookAt: number | undefined;
    for (; clock.t <= 60_000 && tookAt === undefined; clock.t += 100) {
      if (clock.t >= next.get(b)!) {
        await b.c.renewAll();
        next.set(b, clock.t + b.c.currentTiming.heartbeatMs);
      }
      if (clock.t % 1_000 === 0 && (await b.c.takeCycle()).length) tookAt = clock.t;
    }
    expect(tookAt! - lastBeat).toBeGreaterThan(4_308);
    expect(tookAt! - lastBeat).toBeLessThanOrEqual(4_308 + 3_308 + 1_100);
    expect(b.c.held.size).toBe(2);
    // Alone again with 2 leases: back to 1.65 s and 3 s (applied with its next heartbeat).
    await run(clock.t + 4_000, [b]);
    expect(b.c.currentTiming).toEqual({ heartbeatMs: 1_654, leaseMs: 3_000 });
  });

  it('a roster probe that finds the quiet session beating again takes nothing', async () => {
    const { t, clock, a, b } = await ownerAndWatcher(2);
    await b.c.renewAll();
    await b.c.takeCycle();
    // a's heartbeats stall (an event-loop pause) after the one at 0 s and resume at 9.5 s, within its lease duration
    // (10 s). b's heartbeat at 9 s came before it; b's probe (due at 10.001 s, sent at 11 s) sees it moved.
    for (clock.t = 1_000; clock.t <= 14_000; clock.t += 500) {
      if (clock.t === 9_500) await a.c.renewAll();
      if (clock.t % 3_000 === 0) await b.c.renewAll();
      if (clock.t % 1_000 === 0) expect(await b.c.takeCycle()).toEqual([]);
    }
    expect(b.c.scanCounts.worker).toBe(1);
    expect(a.c.held.size).toBe(2);
    expect((await t.registry.get(a.c.sessionKey!))?.deadBy).toBeUndefined();
  });

  it('fencing under a stale liveness item: the fenced worker’s heartbeat fails, it drops its leases and cannot checkpoint', async () => {
    const t = await freshTable(2);
    const ca = { t: 0 };
    const cb = { t: 0 };
    const a = coordinator(t, 'a', ca);
    const b = coordinator(t, 'b', cb);
    await a.c.init();
    await a.c.takeOnce();
    const heldByA = [...a.c.held.values()];
    expect(heldByA).toHaveLength(2);
    const oldSession = a.c.sessionKey!;
    await b.c.init();
    await b.c.takeOnce();
    // a is paused (a GC pause, SIGSTOP): its item stops advancing while b's clock runs on.
    for (let i = 0; i < 5; i++) {
      cb.t += 3_000;
      await b.c.renewAll();
      await b.c.takeOnce();
    }
    expect(b.c.held.size).toBe(2);
    // a wakes up. Its checkpoint is fenced by the lease counter …
    await expect(
      a.c.checkpoint(heldByA[0]!, { sequenceNumber: '42', subSequenceNumber: 0 }),
    ).rejects.toBeInstanceOf(LeaseLostError);
    // … and its next heartbeat fails on the dead item: every lease is dropped and a new session starts.
    await a.c.renewAll();
    expect(a.c.held.size).toBe(0);
    expect(a.lost.map(([s]) => s).sort()).toEqual([shard(0), shard(1)]);
    expect(a.c.sessionKey).toBeDefined();
    expect(a.c.sessionKey).not.toBe(oldSession);
    // The stale session can never advance again.
    expect((await t.registry.heartbeat(oldSession, 0)).ok).toBe(false);
    expect((await t.table.listLeases()).every((l) => l.leaseOwner === 'b')).toBe(true);
  });

  it('a fence loses against a heartbeat that landed first: a live worker’s leases are not taken', async () => {
    const t = await freshTable(1);
    const a = coordinator(t, 'a', { t: 0 });
    await a.c.init();
    await a.c.takeOnce();
    // A taker saw heartbeat 0 and judged it stale; a heartbeat lands before its fence does.
    await a.c.renewAll();
    expect(await t.registry.fence(a.c.sessionKey!, 0, 'b')).toBe(false);
    expect((await t.registry.get(a.c.sessionKey!))?.deadBy).toBeUndefined();
    await a.c.renewAll();
    expect(a.c.held.size).toBe(1);
    expect(a.lost).toEqual([]);
  });

  it('watching the fleet costs no reads (each heartbeat write answers with the roster, a live fleet never probes); the lease table is scanned only on a change', async () => {
    const t = await freshTable(2);
    const ca = { t: 0 };
    const a = coordinator(t, 'a', ca);
    await a.c.init();
    await a.c.takeCycle();
    const scansAfterStart = a.c.scanCounts.lease;
    const calls = { ...t.table.cost.calls };
    for (let i = 0; i < 5; i++) {
      ca.t += 1_000;
      await a.c.renewAll();
      await a.c.takeCycle();
    }
    expect(a.c.scanCounts.lease).toBe(scansAfterStart);
    // Five heartbeats and nothing else: no Scan, GetItem or Query of either table.
    expect(t.table.cost.calls.UpdateItem - calls.UpdateItem).toBe(5);
    expect(t.table.cost.calls.Scan - calls.Scan).toBe(0);
    expect(t.table.cost.calls.GetItem - calls.GetItem).toBe(0);
    expect(t.table.cost.calls.Query - calls.Query).toBe(0);
    // A worker joins: a's next heartbeat shows it, and that cycle scans.
    const b = coordinator(t, 'b', { t: 0 });
    await b.c.init();
    ca.t += 1_000;
    await a.c.takeCycle();
    expect(a.c.scanCounts.lease).toBe(scansAfterStart);
    await a.c.renewAll();
    await a.c.takeCycle();
    expect(a.c.scanCounts.lease).toBe(scansAfterStart + 1);
    ca.t += 1_000;
    await a.c.renewAll();
    await a.c.takeCycle();
    expect(a.c.scanCounts.lease).toBe(scansAfterStart + 1);
    // It leaves cleanly (its entry is removed): scanned again.
    await b.c.deregister();
    ca.t += 1_000;
    await a.c.renewAll();
    await a.c.takeCycle();
    expect(a.c.scanCounts.lease).toBe(scansAfterStart + 2);
    // A local trigger (a shard ended here) scans too.
    a.c.trigger();
    await a.c.takeCycle();
    expect(a.c.scanCounts.lease).toBe(scansAfterStart + 3);
    // Another worker announces a lease-set change (it created child leases): seen on the next heartbeat, scanned.
    await t.registry.announceLeaseSetChange();
    ca.t += 1_000;
    await a.c.renewAll();
    await a.c.takeCycle();
    expect(a.c.scanCounts.lease).toBe(scansAfterStart + 4);
    ca.t += 1_000;
    await a.c.renewAll();
    await a.c.takeCycle();
    expect(a.c.scanCounts.lease).toBe(scansAfterStart + 4);
  });

  it('the shard-sync leader is the live session with the smallest key; when it dies the next one leads', async () => {
    const t = await freshTable(2);
    const clock = { t: 0 };
    const workers = [coordinator(t, 'w1', clock), coordinator(t, 'w2', clock), coordinator(t, 'w3', clock)];
    for (const w of workers) await w.c.init();
    const cycle = async (ws = workers) => {
      for (const w of ws) await w.c.renewAll();
      for (const w of ws) await w.c.takeOnce();
    };
    await cycle();
    const bySession = [...workers].sort((x, y) => (x.c.sessionKey! < y.c.sessionKey! ? -1 : 1));
    expect(workers.map((w) => w.c.isShardSyncLeader())).toEqual(workers.map((w) => w === bySession[0]));
    // The leader stops heartbeating (SIGKILL): once its session expires, exactly one other worker leads.
    const rest = bySession.slice(1);
    for (let i = 0; i < 12; i++) {
      clock.t += 1_000;
      await cycle(rest);
    }
    expect(rest.map((w) => w.c.isShardSyncLeader())).toEqual([true, false]);
  });

  it('a counter-mode worker sharing the table judges worker-liveness leases by their session, not their counter', async () => {
    const t = await freshTable(2);
    const ca = { t: 0 };
    const cd = { t: 0 };
    const a = coordinator(t, 'a', ca);
    const d = coordinator(t, 'd', cd, { leaseMode: 'counter' });
    await a.c.init();
    await a.c.takeOnce();
    await d.c.takeOnce();
    for (let i = 0; i < 6; i++) {
      ca.t += 3_000;
      cd.t += 3_000;
      await a.c.renewAll();
      await d.c.takeOnce();
    }
    expect(d.c.held.size).toBe(0);
    expect(a.c.held.size).toBe(2);
  });

  it('next to a KCL worker it renews its lease counters at the KCL’s cadence (its leases never look idle to the KCL) and scans every cycle', async () => {
    const t = await freshTable(2);
    // A lease as the Java KCL writes it (no awskit attributes), owned by a live KCL worker.
    await t.table.createLeaseIfNotExists({ ...newLease(shard(2), 'TRIM_HORIZON', []), leaseOwner: 'kcl-1' });
    const ca = { t: 0 };
    const a = coordinator(t, 'a', ca);
    await a.c.init();
    await a.c.takeOnce();
    expect([...a.c.held.keys()].sort()).toEqual([shard(0), shard(1)]);
    const counters = async () =>
      (await t.table.listLeases()).filter((l) => l.leaseOwner === 'a').map((l) => l.leaseCounter);
    const before = await counters();
    ca.t += 3_000;
    await a.c.renewAll();
    const after = await counters();
    expect(after.every((c, i) => c > before[i]!)).toBe(true);
    // And it scans the lease table every cycle, as in counter mode (the KCL's leases expire by their counters).
    const scans = a.c.scanCounts.lease;
    ca.t += 1_000;
    await a.c.takeOnce();
    ca.t += 1_000;
    await a.c.takeOnce();
    expect(a.c.scanCounts.lease).toBe(scans + 2);
  });

  it('graceful hand-off: the owner hears the request on its heartbeat (it does not re-read its leases)', async () => {
    const t = await freshTable(4);
    const ca = { t: 0 };
    const cb = { t: 0 };
    const a = coordinator(t, 'a', ca);
    const b = coordinator(t, 'b', cb, { balance: true, handoffTimeoutMs: 30_000 });
    await a.c.init();
    await a.c.takeOnce();
    await b.c.init();
    await b.c.takeOnce();
    expect(a.handoffs).toEqual([]);
    await a.c.renewAll();
    expect(a.handoffs).toHaveLength(2);
    for (const s of a.handoffs) await a.c.release(a.c.held.get(s)!);
    await b.c.takeOnce();
    expect(b.c.held.size).toBe(2);
    expect(a.c.held.size).toBe(2);
  });

  it('a hand-off request that settled elsewhere (the lease released and taken by another worker) stops the asker’s per-cycle scans', async () => {
    const t = await freshTable(2);
    const [ca, cb, cc] = [{ t: 0 }, { t: 0 }, { t: 0 }];
    const b = coordinator(t, 'b', cb);
    await b.c.init();
    await b.c.takeOnce();
    expect(b.c.held.size).toBe(2);
    // a joins and asks b for one lease (target 1 of 2).
    const a = coordinator(t, 'a', ca, { balance: true, handoffTimeoutMs: 30_000 });
    await a.c.init();
    await a.c.takeOnce();
    const asked = (await t.table.listLeases()).find((l) => l.handoffTo === 'a');
    expect(asked).toBeDefined();
    // b hands it over, but a third worker takes it first.
    await b.c.renewAll();
    expect(b.handoffs).toEqual([asked!.leaseKey]);
    await b.c.release(b.c.held.get(asked!.leaseKey)!);
    const c = coordinator(t, 'c', cc);
    await c.c.init();
    await c.c.takeOnce();
    expect([...c.c.held.keys()]).toEqual([asked!.leaseKey]);
    // a sees the change (c joined, a release was announced) and scans once; with 2 leases on 3 workers it is at
    // its share, and its old request has nothing left to wait for: no more scans while nothing changes (before the
    // fix it scanned every cycle for 2 × the hand-off timeout).
    const step = async () => {
      for (const w of [
        [a, ca],
        [b, cb],
        [c, cc],
      ] as const) {
        w[1].t += 1_000;
        await w[0].c.renewAll();
      }
      await a.c.takeOnce();
    };
    await step();
    const settled = a.c.scanCounts.lease;
    for (let i = 0; i < 5; i++) await step();
    expect(a.c.scanCounts.lease).toBe(settled);
    expect(a.c.held.size).toBe(0);
  });
});

describe("leaseMode 'worker-liveness': KinesisConsumer workers", () => {
  const running: KinesisConsumer[] = [];
  const children: ChildProcess[] = [];
  afterEach(async () => {
    for (const ch of children.splice(0)) if (ch.exitCode === null) ch.kill('SIGKILL');
    await Promise.all(running.splice(0).map((c) => c.stop()));
  });

  it('a SIGKILLed worker process’s shards are taken over and every record put after the kill is processed', async () => {
    const c = await clients();
    const stream = await createTestStream(c.kinesis, { shardCount: 4 });
    const app = appName();
    const { child, shards: childShards } = spawnWorkerProcess(stream, app, { leaseMode: 'worker-liveness' });
    children.push(child);
    await waitFor('child holds all 4', () => childShards.size === 4);
    const col = new Collector();
    const s1 = workerFactory(c, running, col, {
      streamName: stream,
      applicationName: app,
      initialPosition: 'TRIM_HORIZON',
      leaseMode: 'worker-liveness',
    })('s1');
    await s1.start();
    await waitFor('2/2 with the child process', () => s1.heldLeases().length === 2 && childShards.size === 2);
    child.kill('SIGKILL');
    const killedAt = Date.now();
    const after = records(40, 8, 'after');
    await put(c.kinesis, stream, after);
    await waitFor('the survivor holds all 4', () => s1.heldLeases().length === 4, 15_000);
    await waitFor('every record put after the crash processed', () => {
      const seen = col.distinct();
      return after.every((r) => seen.has(r.data));
    });
    console.info(`worker-liveness failover after SIGKILL: ${Date.now() - killedAt} ms`);
  });
});
