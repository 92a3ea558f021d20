import { noopLogger, noopMetrics } from '@awskit/core';
import { describe, expect, it } from 'vitest';
import { ObservedSessions } from '../src/observedSessions.js';
import type { RosterView, WorkerRegistry, WorkerSession } from '../src/workerRegistry.js';

const LEASE_MS = 3_000;

/** A fake of the two registry calls a judgement may make (pure logic: the real table is in the integration tests). */
function fakeRegistry(items: Record<string, WorkerSession | undefined> = {}) {
  const calls: string[] = [];
  const registry = {
    async get(session: string) {
      calls.push(`get ${session}`);
      return items[session];
    },
    async fence(session: string, seen: number) {
      calls.push(`fence ${session}@${seen}`);
      const s = items[session];
      if (!s || s.heartbeat !== seen) return false;
      s.deadBy = 'me';
      return true;
    },
    async remove(session: string) {
      calls.push(`remove ${session}`);
      delete items[session];
    },
  };
  return { registry: registry as unknown as WorkerRegistry, calls };
}

function session(key: string, heartbeat: number, deadBy?: string, leaseDurationMs?: number): WorkerSession {
  return {
    session: key,
    workerId: key.split('#')[0]!,
    heartbeat,
    handoffs: {},
    taken: {},
    ...(deadBy ? { deadBy } : {}),
    ...(leaseDurationMs ? { leaseDurationMs } : {}),
  };
}

function view(...sessions: WorkerSession[]): RosterView {
  return { sessions, leaseSetVersion: 0 };
}

function setup(own = 'me#1', items: Record<string, WorkerSession | undefined> = {}) {
  let now = 0;
  const { registry, calls } = fakeRegistry(items);
  const observed = new ObservedSessions({
    registry,
    clock: { now: () => now },
    leaseDurationMs: LEASE_MS,
    workerId: own.split('#')[0]!,
    logger: noopLogger,
    metrics: noopMetrics,
    ownSession: () => own,
  });
  /** A view requested at `sentAt` and answered 10 ms later. */
  const fold = (sentAt: number, ...sessions: WorkerSession[]) => {
    now = sentAt + 10;
    observed.fold(view(...sessions), sentAt, now);
  };
  return { observed, calls, fold, setNow: (t: number) => (now = t) };
}

describe('ObservedSessions', () => {
  it('judges a session expired once its heartbeat stood still for a lease duration of views, on this clock', () => {
    const { observed, fold } = setup();
    fold(0, session('me#1', 1), session('a#1', 7));
    fold(1_000, session('me#1', 2), session('a#1', 7));
    // Seen unchanged at 10 ms (first seen) … up to a view requested at 3 000 ms: not more than a lease duration.
    fold(3_000, session('me#1', 4), session('a#1', 7));
    expect(observed.expired('a#1')).toBe(false);
    fold(3_020, session('me#1', 5), session('a#1', 7));
    expect(observed.expired('a#1')).toBe(true);
    // Our own session is never judged expired, whatever the views show of it.
    expect(observed.expired('me#1')).toBe(false);
  });

  it('judges each session by the lease duration it declared, not by this worker’s (a fleet with mixed timings)', () => {
    const { observed, fold } = setup();
    // a#1 gives itself 10 s (heartbeat every 3.3 s); b#1 declares nothing (an older version): judged by ours, 3 s.
    fold(0, session('me#1', 1), session('a#1', 7, undefined, 10_000), session('b#1', 3));
    fold(3_020, session('me#1', 2), session('a#1', 7, undefined, 10_000), session('b#1', 3));
    expect(observed.expired('b#1')).toBe(true);
    expect(observed.expired('a#1')).toBe(false);
    expect(observed.liveWorkerIds().sort()).toEqual(['a', 'me']);
    // The next expiry to look for is a#1's, 10 s after its heartbeat was first seen.
    expect(observed.nextExpiryAt()).toBe(10 + 10_000 + 1);
    fold(10_000, session('me#1', 3), session('a#1', 7, undefined, 10_000));
    expect(observed.expired('a#1')).toBe(false);
    fold(10_020, session('me#1', 4), session('a#1', 7, undefined, 10_000));
    expect(observed.expired('a#1')).toBe(true);
  });

  it('a heartbeat that moves, however late, restarts the clock; a declared death counts at once', () => {
    const { observed, fold } = setup();
    fold(0, session('a#1', 7), session('b#1', 1));
    fold(2_900, session('a#1', 8), session('b#1', 1, 'x'));
    expect(observed.expired('b#1')).toBe(true);
    fold(5_000, session('a#1', 8), session('b#1', 1, 'x'));
    expect(observed.expired('a#1')).toBe(false);
    expect(observed.expired('b#1')).toBe(true);
  });

  it('expiry is judged up to the newest view requested, not up to now (a slow take cycle cannot expire anyone)', () => {
    const { observed, fold, setNow } = setup();
    fold(0, session('a#1', 7));
    setNow(60_000);
    expect(observed.expired('a#1')).toBe(false);
  });

  it('live workers, the others count and the shard-sync leader follow the roster', () => {
    const { observed, fold } = setup('m#1');
    fold(0, session('m#1', 1), session('a#1', 1), session('z#1', 1));
    expect(observed.liveWorkerIds().sort()).toEqual(['a', 'm', 'z']);
    expect(observed.liveOthers()).toBe(2);
    expect(observed.isLeader('m#1')).toBe(false);
    // a goes quiet, z keeps beating: m leads, and a no longer counts as live.
    fold(2_000, session('m#1', 3), session('a#1', 1), session('z#1', 3));
    fold(3_100, session('m#1', 4), session('a#1', 1), session('z#1', 4));
    expect(observed.isLeader('m#1')).toBe(true);
    expect(observed.liveOthers()).toBe(1);
    expect(observed.liveWorkerIds()).not.toContain('a');
  });

  it('membershipChanged reports joins, leaves and expiries once each', () => {
    const { observed, fold } = setup();
    fold(0, session('me#1', 1));
    expect(observed.membershipChanged()).toBe(true);
    expect(observed.membershipChanged()).toBe(false);
    fold(1_000, session('me#1', 2), session('a#1', 1));
    expect(observed.membershipChanged()).toBe(true);
    fold(2_000, session('me#1', 3), session('a#1', 2));
    expect(observed.membershipChanged()).toBe(false);
    fold(5_100, session('me#1', 6), session('a#1', 2));
    expect(observed.membershipChanged()).toBe(true);
    fold(6_000, session('me#1', 7));
    expect(observed.membershipChanged()).toBe(true);
  });

  it('fences with the heartbeat it saw stand still; a session that moved meanwhile is alive and not fenced', async () => {
    const items = { 'a#1': session('a#1', 7), 'b#1': session('b#1', 3) };
    const { observed, fold, calls } = setup('me#1', items);
    fold(0, session('a#1', 7), session('b#1', 2));
    fold(3_100, session('a#1', 7), session('b#1', 2));
    expect(await observed.fence('a#1')).toBe(true);
    expect(items['a#1']!.deadBy).toBe('me');
    expect(observed.expired('a#1')).toBe(true);
    // b beat once more after our last view (the table holds 3): the conditional fence fails, b is alive again.
    expect(await observed.fence('b#1')).toBe(false);
    expect(observed.expired('b#1')).toBe(false);
    expect(calls).toEqual(['fence a#1@7', 'fence b#1@2']);
    // An unknown session is never fenced.
    expect(await observed.fence('c#1')).toBe(false);
  });

  it("parallel takes of one dead session's leases fence it once", async () => {
    const items = { 'a#1': session('a#1', 7) };
    const { observed, fold, calls } = setup('me#1', items);
    fold(0, session('a#1', 7));
    fold(3_100, session('a#1', 7));
    expect(await Promise.all([observed.fence('a#1'), observed.fence('a#1'), observed.fence('a#1')])).toEqual([
      true,
      true,
      true,
    ]);
    expect(calls).toEqual(['fence a#1@7']);
  });

  it('nextExpiryAt: when a view would show the quietest live session expired; none for dead, missing or our own', () => {
    const { observed, fold } = setup();
    expect(observed.nextExpiryAt()).toBeUndefined();
    fold(0, session('me#1', 1), session('a#1', 1), session('b#1', 1));
    fold(1_000, session('me#1', 2), session('a#1', 2), session('b#1', 1), session('c#1', 1, 'x'));
    // b last moved in the view answered at 10 ms; a in the one answered at 1 010 ms.
    expect(observed.nextExpiryAt()).toBe(10 + LEASE_MS + 1);
    observed.noteReferenced(new Set(['gone#1']), 1_500);
    fold(3_100, session('me#1', 4), session('a#1', 3), session('b#1', 1));
    // b is expired now (judged, no longer waited for): a's next.
    expect(observed.expired('b#1')).toBe(true);
    expect(observed.nextExpiryAt()).toBe(3_110 + LEASE_MS + 1);
  });

  it('a session named by a lease but absent from the roster is read consistently before its leases are freed', async () => {
    const items: Record<string, WorkerSession | undefined> = { 'late#1': session('late#1', 1) };
    const { observed, calls } = setup('me#1', items);
    observed.noteReferenced(new Set(['gone#1', 'late#1']), 0);
    // Missing sessions are neither live nor expired until read.
    expect(observed.liveOthers()).toBe(0);
    expect(observed.expired('gone#1')).toBe(false);
    expect(await observed.fence('gone#1')).toBe(true); // deleted after a clean stop: its leases are free
    expect(await observed.fence('late#1')).toBe(false); // exists (an eventually consistent roster missed it): alive
    expect(calls).toEqual(['get gone#1', 'get late#1']);
    // No lease names it any more: forgotten (unknown again, so never fenced, nor read).
    observed.noteReferenced(new Set(), 1);
    expect(await observed.fence('gone#1')).toBe(false);
    expect(calls).toEqual(['get gone#1', 'get late#1']);
  });

  it('cleanup removes dead or long-quiet sessions no lease names, never our own nor a referenced one', async () => {
    const items = {
      'dead#1': session('dead#1', 1, 'x'),
      'quiet#1': session('quiet#1', 4),
      'held#1': session('held#1', 1, 'x'),
      'me#1': session('me#1', 1),
    };
    const { observed, fold, calls } = setup('me#1', items);
    fold(0, items['dead#1'], items['quiet#1'], items['held#1'], items['me#1']);
    await observed.cleanup(new Set(['held#1']), 10 * LEASE_MS);
    expect(calls).toEqual(['remove dead#1']);
    await observed.cleanup(new Set(['held#1']), 10 * LEASE_MS + 11);
    expect(calls).toEqual(['remove dead#1', 'fence quiet#1@4', 'remove quiet#1']);
    expect(Object.keys(items).sort()).toEqual(['held#1', 'me#1']);
  });
});
