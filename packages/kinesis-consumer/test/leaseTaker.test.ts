import { describe, expect, it } from 'vitest';
import { computeLeasesToTake, isForeignLease, LeaseObservations } from '../src/leaseTaker.js';
import { newLease } from '../src/shardSync.js';
import type { Lease } from '../src/types.js';

function lease(id: number, owner?: string, extra: Partial<Lease> = {}): Lease {
  const l = newLease(`shardId-${String(id).padStart(12, '0')}`, 'TRIM_HORIZON', []);
  if (owner) l.leaseOwner = owner;
  return { ...l, leaseCounter: 5, ...extra };
}

function plan(
  leases: Lease[],
  me: string,
  opts: { expired?: Set<string>; held?: string[]; max?: number; balance?: boolean; live?: string[] } = {},
) {
  return computeLeasesToTake({
    leases,
    workerId: me,
    held: new Set(opts.held ?? leases.filter((l) => l.leaseOwner === me).map((l) => l.leaseKey)),
    isExpired: (l) => !l.leaseOwner || (opts.expired?.has(l.leaseKey) ?? false),
    maxLeasesForWorker: opts.max ?? Number.POSITIVE_INFINITY,
    balance: opts.balance ?? true,
    random: () => 0.42,
    ...(opts.live ? { liveWorkers: opts.live } : {}),
  });
}

const taken = (p: ReturnType<typeof plan>) => [...p.expired.slice(0, p.needed), ...p.steal];

describe('LeaseObservations', () => {
  it('treats an unowned lease as expired at once', () => {
    const o = new LeaseObservations();
    const l = lease(0);
    o.update([l], 0);
    expect(o.isExpired(l, 0, 1000)).toBe(true);
  });

  it('expires an owned lease only after its counter stood still for the lease duration (no clock sync)', () => {
    const o = new LeaseObservations();
    const l = lease(0, 'a');
    o.update([l], 1_000);
    expect(o.isExpired(l, 1_900, 1000)).toBe(false);
    expect(o.isExpired(l, 2_001, 1000)).toBe(true);
  });

  it('restarts the expiry window whenever the counter changes (a renewal)', () => {
    const o = new LeaseObservations();
    o.update([lease(0, 'a', { leaseCounter: 1 })], 0);
    const renewed = lease(0, 'a', { leaseCounter: 2 });
    o.update([renewed], 900);
    expect(o.isExpired(renewed, 1_800, 1000)).toBe(false);
    o.update([renewed], 1_950);
    expect(o.isExpired(renewed, 1_950, 1000)).toBe(true);
  });

  it('a worker that just started waits a full duration before declaring a lease dead', () => {
    const o = new LeaseObservations();
    const l = lease(0, 'dead-worker', { leaseCounter: 99 });
    o.update([l], 50_000);
    expect(o.isExpired(l, 50_500, 1000)).toBe(false);
  });
});

describe('computeLeasesToTake', () => {
  it('a new worker takes half of 8 leases in one cycle, not one per cycle (KCL #708)', () => {
    const leases = Array.from({ length: 8 }, (_, i) => lease(i, 'a'));
    const p = plan(leases, 'b');
    expect(p.target).toBe(4);
    expect(taken(p)).toHaveLength(4);
  });

  it('a third worker joining 2/2 takes one lease (2/1/1)', () => {
    const leases = [lease(0, 'a'), lease(1, 'a'), lease(2, 'b'), lease(3, 'b')];
    const p = plan(leases, 'c');
    expect(p.target).toBe(2);
    expect(taken(p)).toHaveLength(1);
  });

  it('workers holding nothing are invisible to owners-only counting; the roster’s live workers make them count', () => {
    // 8 leases, 8 live workers, only a/b/c hold leases yet (4/2/2). Counting lease owners, d sees 4 workers and
    // aims at 2 (and later gives one back: churn, the KCL 2.x's slow convergence); with the live workers it aims
    // at 1 at once.
    const leases = [
      lease(0, 'a'),
      lease(1, 'a'),
      lease(2, 'a'),
      lease(3, 'a'),
      lease(4, 'b'),
      lease(5, 'b'),
    ].concat([lease(6, 'c'), lease(7, 'c')]);
    expect(plan(leases, 'd').target).toBe(2);
    expect(taken(plan(leases, 'd'))).toHaveLength(2);
    const live = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    expect(plan(leases, 'd', { live }).target).toBe(1);
    expect(taken(plan(leases, 'd', { live }))).toHaveLength(1);
    // A worker listed twice (or a lease owner also in the roster) counts once.
    expect(plan(leases, 'd', { live: [...live, 'a', 'h'] }).workers).toBe(8);
  });

  it('does not steal when the split is already as even as it can be (3/2)', () => {
    const leases = [lease(0, 'a'), lease(1, 'a'), lease(2, 'a'), lease(3, 'b'), lease(4, 'b')];
    expect(taken(plan(leases, 'b'))).toHaveLength(0);
    expect(taken(plan(leases, 'a'))).toHaveLength(0);
  });

  it('takes all of a dead worker’s expired leases before stealing', () => {
    const leases = [lease(0, 'a'), lease(1, 'a'), lease(2, 'b'), lease(3, 'b')];
    const p = plan(leases, 'b', { expired: new Set([leases[0]!.leaseKey, leases[1]!.leaseKey]) });
    expect(p.workers).toBe(1);
    expect(p.target).toBe(4);
    expect(p.needed).toBe(2);
    expect(p.steal).toHaveLength(0);
  });

  it('takes unassigned leases first and steals only what remains', () => {
    const leases = [lease(0), lease(1), lease(2, 'a'), lease(3, 'a'), lease(4, 'a'), lease(5, 'a')];
    const p = plan(leases, 'b');
    expect(p.target).toBe(3);
    expect(p.needed).toBe(2);
    expect(p.steal).toHaveLength(1);
  });

  it('never takes a child before all its parents reached SHARD_END (merge: both parents)', () => {
    const p1 = lease(1, 'a');
    const p2 = lease(2, undefined, { checkpoint: 'SHARD_END' });
    const child = lease(3, undefined, { parentShardIds: [p1.leaseKey, p2.leaseKey] });
    expect(taken(plan([p1, p2, child], 'b')).map((l) => l.leaseKey)).not.toContain(child.leaseKey);
    const p1done = { ...p1, checkpoint: 'SHARD_END' };
    expect(taken(plan([p1done, p2, child], 'b')).map((l) => l.leaseKey)).toEqual([child.leaseKey]);
  });

  it('a missing parent lease does not block its child', () => {
    const child = lease(3, undefined, { parentShardIds: ['shardId-000000000099'] });
    expect(taken(plan([child], 'b'))).toHaveLength(1);
  });

  it('does not count or take finished leases', () => {
    const done = Array.from({ length: 6 }, (_, i) => lease(i, undefined, { checkpoint: 'SHARD_END' }));
    const p = plan([...done, lease(10, 'a'), lease(11, 'a')], 'b');
    expect(p.target).toBe(1);
    expect(taken(p)).toHaveLength(1);
  });

  it('respects maxLeasesForWorker', () => {
    const leases = Array.from({ length: 6 }, (_, i) => lease(i));
    expect(taken(plan(leases, 'b', { max: 2 }))).toHaveLength(2);
  });

  it('does not steal when balancing is off', () => {
    const leases = Array.from({ length: 4 }, (_, i) => lease(i, 'a'));
    expect(taken(plan(leases, 'b', { balance: false }))).toHaveLength(0);
  });

  it('treats a lease owned by its own id but not held (restart with a fixed workerId) as someone else’s', () => {
    const leases = [lease(0, 'me'), lease(1, 'me')];
    const p = plan(leases, 'me', { held: [], expired: new Set([leases[0]!.leaseKey, leases[1]!.leaseKey]) });
    expect(p.needed).toBe(2);
  });

  it('counts leases being handed over for the worker that asked, and never asks twice', () => {
    const leases = [
      lease(0, 'a', { handoffTo: 'b' }),
      lease(1, 'a', { handoffTo: 'b' }),
      lease(2, 'a'),
      lease(3, 'a'),
    ];
    expect(taken(plan(leases, 'b'))).toEqual([]);
    // For a third worker, a holds 2 and b is getting 2: a's two are the only candidates.
    const p = plan(leases, 'c');
    expect(p.workers).toBe(3);
    expect(p.steal.every((l) => !l.handoffTo)).toBe(true);
  });

  it('3/3/1 evens out to 3/2/2', () => {
    const leases = [
      ...Array.from({ length: 3 }, (_, i) => lease(i, 'a')),
      ...Array.from({ length: 3 }, (_, i) => lease(i + 3, 'b')),
      lease(6, 'c'),
    ];
    expect(taken(plan(leases, 'c'))).toHaveLength(1);
  });

  it('never steals a lease in a KCL 3.x hand-off (checkpointOwner), though it counts for its owner', () => {
    const leases = [
      lease(0, 'kcl', { checkpointOwner: 'kcl-old' }),
      lease(1, 'kcl', { checkpointOwner: 'kcl-old' }),
      lease(2, 'kcl', { checkpointOwner: 'kcl-old' }),
      lease(3, 'kcl'),
    ];
    const p = plan(leases, 'me');
    expect(p.target).toBe(2);
    // kcl has 4, target 2: only the lease not in a hand-off may be stolen.
    expect(p.steal.map((l) => l.leaseKey)).toEqual([leases[3]!.leaseKey]);
  });
});

describe('isForeignLease', () => {
  it('an owned lease is awskit’s only when awskitOwner names its owner and no KCL hand-off is under way', () => {
    expect(isForeignLease(lease(0))).toBe(false);
    expect(isForeignLease(lease(0, 'w1', { awskitOwner: 'w1' }))).toBe(false);
    // A KCL worker took it from awskit: our marker stayed behind with another owner.
    expect(isForeignLease(lease(0, 'kcl', { awskitOwner: 'w1' }))).toBe(true);
    expect(isForeignLease(lease(0, 'kcl'))).toBe(true);
    expect(isForeignLease(lease(0, 'w1', { awskitOwner: 'w1', checkpointOwner: 'kcl' }))).toBe(true);
  });
});
