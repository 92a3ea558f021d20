import { parentLeaseKey } from './multiStream.js';
import { type Lease, SentinelCheckpoint } from './types.js';

/**
 * Remembers, on this worker's own monotonic clock, when each lease's `leaseCounter` last changed. A lease is
 * expired when its counter has not moved for the lease duration: workers never compare wall clocks (KCL
 * `DynamoDBLeaseTaker.updateAllLeases`). A lease seen for the first time counts from that moment, so a worker
 * that just started waits a full lease duration before declaring another worker dead.
 */
export class LeaseObservations {
  private readonly seen = new Map<string, { counter: number; owner?: string; changedAt: number }>();
  private readonly handoffs = new Map<string, { to: string; since: number }>();

  /** Records a scan taken at `now`; forgets leases that disappeared. */
  update(leases: readonly Lease[], now: number): void {
    const keys = new Set<string>();
    for (const l of leases) {
      keys.add(l.leaseKey);
      const h = this.handoffs.get(l.leaseKey);
      if (!l.handoffTo) this.handoffs.delete(l.leaseKey);
      else if (!h || h.to !== l.handoffTo) this.handoffs.set(l.leaseKey, { to: l.handoffTo, since: now });
      const prev = this.seen.get(l.leaseKey);
      if (!prev || prev.counter !== l.leaseCounter || prev.owner !== l.leaseOwner)
        this.seen.set(l.leaseKey, { counter: l.leaseCounter, owner: l.leaseOwner, changedAt: now });
    }
    for (const k of this.seen.keys()) if (!keys.has(k)) this.seen.delete(k);
    for (const k of this.handoffs.keys()) if (!keys.has(k)) this.handoffs.delete(k);
  }

  /** Records a hand-off request this worker just made (its age counts from now, not from the next scan). */
  noteHandoffRequested(leaseKey: string, to: string, now: number): void {
    this.handoffs.set(leaseKey, { to, since: now });
  }

  /** How long (on this worker's clock) the lease's current hand-off request has been seen; 0 when none. */
  handoffAge(lease: Lease, now: number): number {
    const h = this.handoffs.get(lease.leaseKey);
    return h && h.to === lease.handoffTo ? now - h.since : 0;
  }

  /** Unowned leases are expired at once; owned ones when unchanged for `leaseDurationMs`. */
  isExpired(lease: Lease, now: number, leaseDurationMs: number): boolean {
    if (!lease.leaseOwner) return true;
    const s = this.seen.get(lease.leaseKey);
    if (!s) return false;
    return now - s.changedAt > leaseDurationMs;
  }
}

/**
 * True when an owned lease is held by a worker that is not awskit: a KCL worker (it never writes `awskitOwner`, and
 * taking the lease leaves ours behind with another owner) or a KCL 3.x hand-off in progress (`checkpointOwner`).
 * Such leases are judged by the KCL's failover time, not awskit's shorter lease duration.
 */
export function isForeignLease(lease: Lease): boolean {
  if (!lease.leaseOwner) return false;
  return lease.awskitOwner !== lease.leaseOwner || lease.checkpointOwner !== undefined;
}

/** True when the lease's shard is fully processed. */
export function isFinished(lease: Lease): boolean {
  return lease.checkpoint === SentinelCheckpoint.SHARD_END;
}

/**
 * True when every parent whose lease exists has reached `SHARD_END`. A missing parent lease does not block (KCL
 * `BlockOnParentShardTask`): it was cleaned up after finishing, or it is outside the stream's retention.
 */
export function parentsDone(lease: Lease, byKey: ReadonlyMap<string, Lease>): boolean {
  return lease.parentShardIds.every((p) => {
    const parent = byKey.get(parentLeaseKey(lease, p));
    return !parent || isFinished(parent);
  });
}

/** Input of {@link computeLeasesToTake}. */
export interface TakeInput {
  leases: readonly Lease[];
  workerId: string;
  /** Leases this worker currently holds (may differ from the scan's owners for a moment). */
  held: ReadonlySet<string>;
  isExpired: (lease: Lease) => boolean;
  maxLeasesForWorker: number;
  /** Steal from over-loaded workers. */
  balance: boolean;
  /**
   * Whether a lease's hand-off request (`handoffTo`) is still in force: such a lease counts for the requester, not
   * the owner, and is not a steal candidate. @default every request is in force
   */
  isHandoffActive?: (lease: Lease) => boolean;
  /** Randomness in [0, 1) for spreading concurrent takers over different leases. */
  random: () => number;
  /**
   * Worker ids known to be alive whether or not they hold a lease (worker-liveness mode: the roster). Without it
   * the fleet is the set of lease owners, so a worker holding nothing is invisible to the others: they aim at too
   * high a share and keep taking from each other while it waits (the KCL 2.x's slow convergence).
   */
  liveWorkers?: Iterable<string>;
}

/** What to take, in the order to try it. */
export interface TakePlan {
  /** ⌈eligible leases / live workers⌉, capped by maxLeasesForWorker. */
  target: number;
  /** Live workers counted (owners of unexpired leases, plus this one). */
  workers: number;
  /** Expired or unassigned leases to take, more candidates than needed so a lost race falls through to the next. */
  expired: Lease[];
  /** How many of `expired` to take. */
  needed: number;
  /** Leases to steal from over-loaded workers after the expired ones. */
  steal: Lease[];
}

function shuffle<T>(xs: T[], random: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

/**
 * Decides which leases to take this cycle. Only leases with work count: not `SHARD_END`, and all parents finished
 * (a child is never taken before its parents end). Expired/unassigned leases go first; then, to converge in one
 * cycle rather than the KCL's one lease per cycle (KCL #708), the worker steals every lease by which each
 * over-loaded worker exceeds the target, and one more from a worker at target when it still lacks two or more.
 */
export function computeLeasesToTake(input: TakeInput): TakePlan {
  const { leases, workerId, held, isExpired, maxLeasesForWorker, balance, random } = input;
  const handoffActive = (l: Lease) => !!l.handoffTo && (input.isHandoffActive?.(l) ?? true);
  const byKey = new Map(leases.map((l) => [l.leaseKey, l]));
  const eligible = leases.filter((l) => !isFinished(l) && parentsDone(l, byKey));

  // Per live worker: leases it owns (steal candidates) and leases on their way to it (hand-offs it asked for).
  const workersMap = new Map<string, { owned: Lease[]; pending: number }>();
  const entry = (w: string) => {
    let e = workersMap.get(w);
    if (!e) {
      e = { owned: [], pending: 0 };
      workersMap.set(w, e);
    }
    return e;
  };
  const expired: Lease[] = [];
  let mine = 0;
  for (const l of eligible) {
    if (held.has(l.leaseKey)) {
      mine++;
      continue;
    }
    if (isExpired(l)) {
      expired.push(l);
      continue;
    }
    // Being handed over: it counts for the requester (on its way there), and nobody else asks for it.
    if (handoffActive(l)) {
      if (l.handoffTo === workerId) mine++;
      else entry(l.handoffTo!).pending++;
      continue;
    }
    // A lease owned by our id but not held (a restart with a fixed workerId) is treated as someone else's: it
    // expires and is taken back like any other. A KCL 3.x hand-off in progress (`checkpointOwner`) counts for its
    // owner but is never a steal candidate: its previous owner is still finishing the shard.
    const e = entry(l.leaseOwner === workerId ? `${workerId} (previous run)` : l.leaseOwner!);
    if (l.checkpointOwner !== undefined) e.pending++;
    else e.owned.push(l);
  }
  let idle = 0;
  for (const w of new Set(input.liveWorkers ?? [])) if (w !== workerId && !workersMap.has(w)) idle++;
  const workers = workersMap.size + (workersMap.has(workerId) ? 0 : 1) + idle;
  const target = Math.min(maxLeasesForWorker, Math.ceil(eligible.length / workers));
  let needed = Math.max(0, target - mine);
  const plan: TakePlan = { target, workers, expired: [], needed: 0, steal: [] };
  if (needed === 0) return plan;

  plan.expired = shuffle(expired, random);
  plan.needed = Math.min(needed, expired.length);
  needed -= plan.needed;
  if (needed === 0 || !balance) return plan;

  // Steal: the most loaded first; from each, only its excess over the target.
  const load = (e: { owned: Lease[]; pending: number }) => e.owned.length + e.pending;
  const victims = shuffle(
    [...workersMap.entries()].filter(([w]) => w !== workerId),
    random,
  ).sort((a, b) => load(b[1]) - load(a[1]));
  for (const [, e] of victims) {
    if (needed === 0) break;
    const excess = load(e) - target;
    if (excess <= 0) continue;
    const take = shuffle([...e.owned], random).slice(0, Math.min(excess, needed));
    plan.steal.push(...take);
    needed -= take.length;
  }
  // Everyone is at or below target but we still lack ≥ 2: take one from the most loaded worker at target
  // (e.g. 3/3/1 → 3/2/2), which the KCL also does.
  if (needed >= 2 && plan.steal.length === 0) {
    const top = victims[0];
    if (top?.[1].owned.length && load(top[1]) >= target && load(top[1]) > mine + 1)
      plan.steal.push(shuffle([...top[1].owned], random)[0]!);
  }
  return plan;
}
