import { type Clock, isAwskitError, type Logger, type Metrics } from '@awskit/core';
import { CALL_DEADLINE_MS } from './deadline.js';
import { KinesisConsumerErrorCode, LeaseLostError } from './errors.js';
import type { LeaseTable } from './leaseTable.js';
import { computeLeasesToTake, isForeignLease, LeaseObservations } from './leaseTaker.js';
import { CONSUMER_METRICS } from './metrics.js';
import { ObservedSessions } from './observedSessions.js';
import type { ExtendedSequenceNumber, Lease, LeaseMode } from './types.js';
import type { HeartbeatResult, RosterView, WorkerRegistry } from './workerRegistry.js';

/** A lease this worker holds. Writes to it are serialized so renewals and checkpoints never race each other. */
export interface HeldLease {
  readonly shardId: string;
  /** Latest counter this worker wrote. */
  counter: number;
  /** The lease as it was when taken (checkpoint, parents, hash range). */
  readonly lease: Lease;
  /** Clock time at which the last successful write was *sent* (so local expiry is never later than others'). */
  lastRenewedAt: number;
  /**
   * Send time of the first write since the last success whose outcome is unknown (it failed without an answer:
   * it may have landed). A later success counts from here, never from its own, later send time.
   */
  unconfirmedSince?: number;
  /** A renewal of this lease is in flight (a hung call must not stop renewals and expiry of the others). */
  renewing?: boolean;
  lost: boolean;
  /** This worker gave the lease up (released, SHARD_END with the owner removed, or abandoned): no more writes. */
  released?: boolean;
  /** Another worker asked for this lease (graceful hand-off); the owner is finishing up and will release it. */
  handoffRequested?: boolean;
  /** Aborted when the lease is lost or released. */
  readonly abort: AbortController;
  /** Tail of the write queue. */
  lock: Promise<unknown>;
}

/** Why a lease was lost. */
export type LeaseLossReason = 'taken' | 'expired';

/** Options of {@link LeaseCoordinator}. */
export interface LeaseCoordinatorOptions {
  table: LeaseTable;
  workerId: string;
  clock: Clock;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  leaseDurationMs: number;
  /** Expiry of leases held by non-awskit (KCL) workers; see `isForeignLease`. @default max(leaseDurationMs, 10 s) */
  foreignLeaseDurationMs?: number;
  renewIntervalMs: number;
  takeIntervalMs: number;
  maxLeasesForWorker: number;
  balance: boolean;
  logger: Logger;
  metrics: Metrics;
  random?: () => number;
  /** A lease was taken; start processing it. */
  onAcquired: (held: HeldLease) => void;
  /** A held lease was lost; stop processing it. */
  onLost: (held: HeldLease, reason: LeaseLossReason) => void;
  /**
   * Graceful hand-off: instead of stealing, ask the owner (it finishes its batch, checkpoints and releases);
   * force the steal only if it has not let go after this long. 0 steals at once (the KCL 2.x way).
   */
  handoffTimeoutMs: number;
  /** Another worker asked for a held lease: finish the batch in flight, checkpoint, release. */
  onHandoffRequested: (held: HeldLease) => void;
  /** A held lease was released (stop, hand-off, read failure). */
  onReleased?: (held: HeldLease) => void;
  /** How held leases are kept alive (see `KinesisConsumerOptions.leaseMode`). @default 'counter' (the consumer's default is 'worker-liveness') */
  leaseMode?: LeaseMode;
  /**
   * The worker table: required in `'worker-liveness'` mode; in `'counter'` mode it is read only when a lease of a
   * worker-liveness session is seen (a mixed awskit fleet), so such leases are judged by their session.
   */
  registry?: WorkerRegistry;
  /**
   * `'worker-liveness'`: stretch the heartbeat interval up to this when the fleet has few leases per worker (see
   * `KinesisConsumerOptions.stretchHeartbeat`). @default undefined (fixed `renewIntervalMs`)
   */
  stretchHeartbeatToMs?: number;
  /** `'worker-liveness'`: a full lease-table scan at least this often. @default 20_000 */
  leaseScanIntervalMs?: number;
  /**
   * True while this worker still runs a consumer of the shard (a handler that outlived its lease): the lease is
   * not taken again until it has ended, so one worker never processes a shard twice at once.
   */
  isBusy?: (shardId: string) => boolean;
  /**
   * Which lease-table rows this worker group takes and balances (multi-stream mode: the keys of its streams).
   * @default single-stream shard keys (`shardId-…`)
   */
  isOwnLeaseKey?: (leaseKey: string) => boolean;
}

const SHARD_KEY = /^shardId-/;
/** Lease-table writes in flight at once per worker (the KCL's maxLeaseRenewalThreads is 20). */
const MAX_PARALLEL_WRITES = 16;
/** Shortest deadline of one heartbeat attempt (a DynamoDB write answers in a few ms; a new TLS connection in ~100). */
const MIN_HEARTBEAT_DEADLINE_MS = 200;
/**
 * Least time a stretched heartbeat interval leaves before the lease runs out: room for a failed or hung heartbeat
 * call to be sent again (see `sendHeartbeat`), not for an event-loop stall longer than it.
 */
const STRETCHED_SLACK_MS = 1_000;
/** Pause before a failed heartbeat is sent again (times the attempt number). */
const HEARTBEAT_RETRY_PAUSE_MS = 100;

async function mapLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  });
  await Promise.all(lanes);
}

/**
 * Keeps this worker's leases: renews held leases every `renewIntervalMs`, and every `takeIntervalMs` scans the
 * table, takes expired/unassigned leases and steals from over-loaded workers to balance (see
 * {@link computeLeasesToTake}).
 */
export class LeaseCoordinator {
  readonly held = new Map<string, HeldLease>();
  /** The last scan of the table (for views). */
  lastScan: Lease[] = [];
  private readonly observations = new LeaseObservations();
  private readonly stopAll = new AbortController();
  private takingStopped = false;
  private wakeTake?: AbortController;
  private currentTake?: Promise<void>;
  /** Shards this worker gave up after a failure, and until when (clock time) it will not take them again. */
  private readonly avoidUntil = new Map<string, number>();
  private loops: Promise<void>[] = [];
  private readonly o: LeaseCoordinatorOptions;
  private readonly liveness: boolean;
  /** Worker-liveness mode: this process's session (liveness item key), its heartbeat and when it was last confirmed. */
  private session?: string;
  private heartbeat = 0;
  private sessionRenewedAt = Number.NEGATIVE_INFINITY;
  private sessionUnconfirmedSince?: number;
  private heartbeating = false;
  /**
   * This worker's own timing: how long it trusts its last confirmed heartbeat (or lease write) and how often it
   * beats. Fixed (`leaseDurationMs`, `renewIntervalMs`) unless the heartbeat is stretched (see {@link retime}).
   */
  private timing: { leaseMs: number; heartbeatMs: number };
  /** The timing {@link retime} wants; the heartbeat carries its lease duration to the roster before it applies. */
  private target: { leaseMs: number; heartbeatMs: number };
  /** The lease duration this session's roster entry declares (as last confirmed). */
  private declaredLeaseMs = 0;
  private announcing?: Promise<void>;
  private announceAgain = false;
  private readonly sideCalls = new Set<Promise<void>>();
  /** The fleet's sessions as the roster views seen showed them (worker-liveness, or a mixed awskit fleet). */
  private readonly observed?: ObservedSessions;
  /** Worker-liveness: the lease-set version the last lease-table scan was made for. */
  private scannedLeaseSetVersion = 0;
  /** Roster views (heartbeat answers, probes) not yet folded into {@link observed} (the take cycle does). */
  private pendingViews: { view: RosterView; sentAt: number; receivedAt: number }[] = [];
  /** Worker-liveness: when this session's last heartbeat (or registration) was sent, and the last roster probe. */
  private heartbeatSentAt = Number.NEGATIVE_INFINITY;
  private lastProbeSentAt = Number.NEGATIVE_INFINITY;
  private lastFullScanAt = Number.NEGATIVE_INFINITY;
  /** Worker-liveness: when this worker's next periodic lease-table scan is due (the fleet shares the cadence). */
  private nextPeriodicScanAt = Number.NEGATIVE_INFINITY;
  private scanRequested = true;
  /** Hand-off requests this worker made, until when it keeps scanning for their release. */
  private readonly askedFor = new Map<string, number>();
  /** A lease held by a non-awskit (KCL) worker was seen: held leases' counters are renewed at the KCL's cadence. */
  private foreignSeen = false;
  /** Scans since a full scan (metrics for tests and the cost bench). */
  readonly scanCounts = { lease: 0, worker: 0 };

  constructor(options: LeaseCoordinatorOptions) {
    this.o = options;
    this.liveness = options.leaseMode === 'worker-liveness';
    this.timing = { leaseMs: options.leaseDurationMs, heartbeatMs: options.renewIntervalMs };
    this.target = { ...this.timing };
    if (this.liveness && !options.registry)
      throw new Error('LeaseCoordinator: worker-liveness mode needs a registry');
    if (options.registry)
      this.observed = new ObservedSessions({
        registry: options.registry,
        clock: options.clock,
        leaseDurationMs: options.leaseDurationMs,
        workerId: options.workerId,
        logger: options.logger,
        metrics: options.metrics,
        ownSession: () => this.session,
      });
  }

  /** This worker's current lease duration and heartbeat (renewal) interval (see `stretchHeartbeatToMs`). */
  get currentTiming(): { leaseMs: number; heartbeatMs: number } {
    return { ...this.timing };
  }

  /** Worker-liveness mode: this process's current session (the key of its liveness item). */
  get sessionKey(): string | undefined {
    return this.session;
  }

  /**
   * Worker-liveness mode: creates the worker table if missing and registers this process's liveness item. Call
   * before {@link start}; a no-op in counter mode.
   */
  async init(signal?: AbortSignal): Promise<void> {
    if (!this.liveness) return;
    await this.o.registry!.ensureTable(signal);
    await this.newSession();
  }

  private async newSession(): Promise<void> {
    const session = `${this.o.workerId}#${Math.floor((this.o.random ?? Math.random)() * 2 ** 48).toString(36)}`;
    const sentAt = this.o.clock.now();
    const view = await this.o.registry!.register(session, this.timing.leaseMs);
    this.declaredLeaseMs = this.timing.leaseMs;
    this.pendingViews.push({ view, sentAt, receivedAt: this.o.clock.now() });
    this.heartbeatSentAt = sentAt;
    this.session = session;
    this.heartbeat = 0;
    this.sessionRenewedAt = sentAt;
    this.sessionUnconfirmedSince = undefined;
    // Leases dropped with the old session (markLost 'expired') must not spoil the new one.
    this.sessionSpoiled = false;
    this.scanRequested = true;
  }

  /**
   * Worker-liveness mode: this session can no longer vouch for its leases (declared dead, or its heartbeats went
   * unanswered for a lease duration). Every held lease is dropped; the old session is fenced (so its leases are free
   * at once, to anyone) and a new one started.
   */
  private async abandonSession(reason: string): Promise<void> {
    const old = this.session;
    const hb = this.heartbeat;
    this.session = undefined;
    for (const held of [...this.held.values()]) this.markLost(held, 'expired');
    this.o.logger.warn('worker session abandoned; its leases are dropped', { session: old, reason });
    this.o.metrics.increment('kinesis_consumer_sessions_abandoned_total', 1, { worker: this.o.workerId });
    try {
      if (old) await this.o.registry!.fence(old, hb, this.o.workerId);
      await this.newSession();
    } catch (e) {
      this.o.logger.warn('could not start a new worker session; retrying', { error: String(e) });
    }
  }

  /** When a held lease was last confirmed ours: its own last write, or (worker-liveness) the session's heartbeat. */
  private confirmedAt(held: HeldLease): number {
    return this.liveness ? this.sessionRenewedAt : held.lastRenewedAt;
  }

  get workerId(): string {
    return this.o.workerId;
  }

  /** Starts the renew and take loops. */
  start(): void {
    this.loops = [this.renewLoop(), this.takeLoop()];
  }

  /** Runs a take cycle now (after a shard ended, or a lease was released). */
  trigger(): void {
    this.scanRequested = true;
    this.wakeTake?.abort();
  }

  /**
   * Leases were created, a shard ended or a lease was released: runs a take cycle now and, in worker-liveness mode,
   * tells the fleet (the roster's lease-set version), so every worker scans the lease table on its next cycle
   * instead of at its periodic scan (child shards start at once on any worker, released leases are taken at once).
   */
  leaseSetChanged(): void {
    this.trigger();
    this.announceLeaseSetChange();
  }

  /**
   * The last lease-table scan if it is at most `maxAgeMs` old (the shard sync reuses it instead of scanning again).
   */
  recentScan(maxAgeMs: number): Lease[] | undefined {
    return this.o.clock.now() - this.lastFullScanAt <= maxAgeMs ? this.lastScan : undefined;
  }

  /**
   * Whether this worker runs the periodic shard sync (a ListShards and a lease-table scan). Counter mode: every
   * worker. Worker-liveness mode: only the live session with the smallest key in the last roster seen (the KCL's
   * shard-sync leader, elected for free from the roster); the others skip it.
   */
  isShardSyncLeader(): boolean {
    if (!this.liveness) return true;
    return !!this.session && this.observed!.isLeader(this.session);
  }

  /**
   * One roster write at a time: changes that come while one is in flight (a stop releasing many leases) share one
   * more write, sent after the last of them landed, instead of one write each.
   */
  private announceLeaseSetChange(): void {
    if (!this.liveness) return;
    if (this.announcing) {
      this.announceAgain = true;
      return;
    }
    this.announcing = this.track(
      (async () => {
        do {
          this.announceAgain = false;
          try {
            await this.o.registry!.announceLeaseSetChange();
          } catch (e) {
            this.o.logger.warn(
              'could not announce a lease-set change; others see it at their periodic scan',
              {
                error: String(e),
              },
            );
          }
        } while (this.announceAgain);
        this.announcing = undefined;
      })(),
    );
  }

  /** Keeps a call that runs beside the loops (a renewal round, an announcement) for {@link stop} to wait for. */
  private track(p: Promise<void>): Promise<void> {
    this.sideCalls.add(p);
    void p.finally(() => this.sideCalls.delete(p));
    return p;
  }

  /** Stops taking new leases (first step of a graceful stop); held leases keep being renewed. */
  stopTaking(): void {
    this.takingStopped = true;
    this.trigger();
  }

  /**
   * Keeps this worker from taking `shardId` again for `ms` (after reading it failed), so a shard that fails
   * everywhere is not taken and dropped every second by the same worker. Other workers may still take it.
   */
  avoid(shardId: string, ms: number): void {
    this.avoidUntil.set(shardId, this.o.clock.now() + ms);
  }

  /** Waits for a take cycle in progress (after {@link stopTaking}, no new one starts). */
  async takeCycleDone(): Promise<void> {
    await this.currentTake;
  }

  /**
   * Stops both loops and waits for the calls they started (a renewal round, a lease-set announcement), so no
   * lease-table call is left in flight. Held leases are not released: release them first.
   */
  async stop(): Promise<void> {
    this.takingStopped = true;
    this.stopAll.abort();
    this.trigger();
    await Promise.allSettled(this.loops);
    while (this.sideCalls.size) await Promise.allSettled([...this.sideCalls]);
  }

  /**
   * Runs one write on a held lease, serialized with its other writes. `fn` gets the current counter and returns
   * the new one; the time the write was sent becomes the renewal time.
   */
  async withLease<T>(
    held: HeldLease,
    fn: (counter: number) => Promise<{ counter: number; value: T }>,
  ): Promise<T> {
    const run = async () => {
      if (held.lost || held.released) throw new LeaseLostError(held.shardId);
      const sentAt = this.o.clock.now();
      let r: { counter: number; value: T };
      try {
        r = await fn(held.counter);
      } catch (e) {
        // No answer (timeout, reset, 5xx): the write may have landed; a later success must not count from later.
        if (!isAwskitError(e, KinesisConsumerErrorCode.LeaseLost)) held.unconfirmedSince ??= sentAt;
        throw e;
      }
      held.counter = r.counter;
      // A success may be the re-read of an earlier unanswered write (KCL PR #247): count from the earliest.
      held.lastRenewedAt = Math.min(sentAt, held.unconfirmedSince ?? sentAt);
      held.unconfirmedSince = undefined;
      return r.value;
    };
    const p = held.lock.then(run, run);
    held.lock = p.catch(() => undefined);
    return p;
  }

  /** Checkpoints a held lease. @throws {LeaseLostError} (and marks the lease lost). */
  async checkpoint(
    held: HeldLease,
    position: ExtendedSequenceNumber,
    extra: { childShardIds?: string[]; releaseOwner?: boolean } = {},
  ): Promise<void> {
    try {
      await this.withLease(held, async (c) => {
        const counter = await this.o.table.checkpoint(held.shardId, this.o.workerId, c, position, extra);
        // SHARD_END removed the owner: writes queued behind this one (a renewal) must not run.
        if (extra.releaseOwner) held.released = true;
        return { counter, value: undefined };
      });
      if (!extra.releaseOwner) this.checkHandoff(held);
    } catch (e) {
      if (isAwskitError(e, KinesisConsumerErrorCode.LeaseLost)) this.markLost(held, 'taken');
      throw e;
    }
  }

  /** Records when reading of a `LATEST` lease started (see `Lease.latestStartedAt`). */
  async markLatestStart(held: HeldLease, epochMs: number): Promise<void> {
    try {
      await this.withLease(held, async (c) => ({
        counter: await this.o.table.markLatestStart(held.shardId, this.o.workerId, c, epochMs),
        value: undefined,
      }));
    } catch (e) {
      if (isAwskitError(e, KinesisConsumerErrorCode.LeaseLost)) this.markLost(held, 'taken');
      throw e;
    }
  }

  /** Stores a pending checkpoint on a held lease. */
  async prepareCheckpoint(held: HeldLease, position: ExtendedSequenceNumber): Promise<void> {
    try {
      await this.withLease(held, async (c) => ({
        counter: await this.o.table.prepareCheckpoint(held.shardId, this.o.workerId, c, position),
        value: undefined,
      }));
    } catch (e) {
      if (isAwskitError(e, KinesisConsumerErrorCode.LeaseLost)) this.markLost(held, 'taken');
      throw e;
    }
  }

  /** Releases a held lease so another worker can take it at once, and forgets it. */
  async release(held: HeldLease): Promise<void> {
    if (!held.lost) {
      try {
        await this.withLease(held, async (c) => {
          const ok = await this.o.table.releaseLease(held.shardId, this.o.workerId, c);
          // Writes queued behind the release (a renewal) must not run, nor report the lease lost.
          held.released = true;
          return { counter: c + 1, value: ok };
        });
        this.o.metrics.increment('kinesis_consumer_leases_released_total', 1, { worker: this.o.workerId });
        this.o.onReleased?.(held);
        this.announceLeaseSetChange();
      } catch (e) {
        this.o.logger.warn('could not release lease; it will expire instead', {
          shardId: held.shardId,
          error: String(e),
        });
      }
    }
    this.forget(held);
  }

  /** Forgets a lease without writing (after SHARD_END was written with the owner removed). */
  forget(held: HeldLease): void {
    held.released = true;
    held.abort.abort();
    if (this.held.get(held.shardId) === held) this.held.delete(held.shardId);
    this.o.metrics.gauge('kinesis_consumer_leases_held', this.held.size, { worker: this.o.workerId });
  }

  /** Acts on a hand-off request seen by the last write of a held lease. */
  private checkHandoff(held: HeldLease, by = this.o.table.handoffRequestedBy(held.shardId)): void {
    if (!by || by === this.o.workerId || held.handoffRequested || held.lost) return;
    held.handoffRequested = true;
    this.o.metrics.increment('kinesis_consumer_leases_handed_off_total', 1, { worker: this.o.workerId });
    this.o.logger.info('lease hand-off requested; finishing up', { shardId: held.shardId, to: by });
    this.o.onHandoffRequested(held);
  }

  /**
   * Whether this worker may still act on `held` (deliver a batch): not lost or released, and its last successful
   * write was sent less than a lease duration ago on the local monotonic clock, whatever the renewals are doing
   * (KCL `getCopyOfHeldLease`). Marks the lease lost (and aborts its signal) when that time has passed.
   */
  stillHeld(held: HeldLease): boolean {
    if (held.lost || held.released) return false;
    if (this.o.clock.now() - this.confirmedAt(held) >= this.timing.leaseMs) {
      this.markLost(held, 'expired');
      return false;
    }
    return true;
  }

  private markLost(held: HeldLease, reason: LeaseLossReason): void {
    if (held.lost || held.released) return;
    held.lost = true;
    this.forget(held);
    // Worker-liveness: the table still names this (live) session as owner; only a new session frees the lease.
    if (this.liveness && reason === 'expired') this.sessionSpoiled = true;
    this.o.metrics.increment('kinesis_consumer_leases_lost_total', 1, { worker: this.o.workerId, reason });
    this.o.logger.info('lease lost', { shardId: held.shardId, reason });
    this.o.onLost(held, reason);
  }

  private sessionSpoiled = false;

  /**
   * Renews every held lease once (exposed for tests). Expiry is checked for every lease first, and a lease whose
   * previous renewal is still in flight (a hung call) is skipped, so one stuck write never delays the others.
   * Worker-liveness mode: advances the session's liveness item instead (and, only while a KCL worker shares the
   * table, renews held leases' counters at the KCL's cadence so they never look idle to it).
   */
  async renewAll(): Promise<void> {
    if (this.liveness) await this.heartbeatOnce();
    const now = this.o.clock.now();
    const due: HeldLease[] = [];
    const foreignEvery = (this.o.foreignLeaseDurationMs ?? Math.max(this.o.leaseDurationMs, 10_000)) / 3;
    for (const held of [...this.held.values()]) {
      if (held.lost || held.released) continue;
      // Renewals failed for a whole lease duration: others may already consider it expired. Stop first.
      if (now - this.confirmedAt(held) >= this.timing.leaseMs) {
        this.markLost(held, 'expired');
        continue;
      }
      if (held.renewing) continue;
      if (this.liveness) {
        if (this.foreignSeen && now - held.lastRenewedAt + this.timing.heartbeatMs > foreignEvery)
          due.push(held);
        continue;
      }
      // A checkpoint moved the counter moments ago: skip this renewal if the next one still comes well within
      // half a lease duration of that write (busy shards then cost one write per checkpoint, not two).
      if (now - held.lastRenewedAt + this.o.renewIntervalMs <= this.o.leaseDurationMs / 2) continue;
      due.push(held);
    }
    await mapLimit(due, MAX_PARALLEL_WRITES, async (held) => {
      held.renewing = true;
      try {
        const ok = await this.withLease(held, async (c) => {
          const next = await this.o.table.renewLease(held.shardId, this.o.workerId, c);
          return { counter: next ?? c, value: next !== undefined };
        });
        if (!ok) this.markLost(held, 'taken');
        else this.checkHandoff(held);
      } catch (e) {
        if (held.lost || held.released) return;
        this.o.metrics.increment('kinesis_consumer_renew_failures_total', 1, { worker: this.o.workerId });
        this.o.logger.warn('lease renewal failed', { shardId: held.shardId, error: String(e) });
      } finally {
        held.renewing = false;
      }
    });
  }

  /**
   * Worker-liveness with a stretched heartbeat: spaces heartbeats so the fleet writes no more per lease than KCL
   * workers renewing every lease every `stretchHeartbeatToMs` would (interval = that × live workers ÷ active leases,
   * between `renewIntervalMs` and `stretchHeartbeatToMs`). The lease duration stays `leaseDurationMs` unless that
   * leaves less than {@link STRETCHED_SLACK_MS} over the interval: a survivor sees a heartbeat up to its own interval
   * after it was written and judges expiry from then, so failover is about the lease duration on average, and it
   * must stay near it (one lease per worker at the defaults: heartbeat 3.3 s, lease 4.3 s). Judged after every
   * lease-table scan (the fleet's membership and lease set are what trigger scans).
   */
  private retime(all: Lease[]): void {
    const stretch = this.o.stretchHeartbeatToMs;
    if (!this.liveness || !stretch) return;
    const leases = all.filter((l) => l.checkpoint !== 'SHARD_END').length;
    const workers = this.observed!.liveOthers() + 1;
    const base = this.o.renewIntervalMs;
    const heartbeatMs = Math.round(
      Math.min(stretch, Math.max(base, (stretch * workers) / Math.max(1, leases))),
    );
    if (heartbeatMs === this.target.heartbeatMs) return;
    this.target = {
      heartbeatMs,
      leaseMs: Math.max(this.o.leaseDurationMs, heartbeatMs + STRETCHED_SLACK_MS),
    };
    this.o.logger.info('heartbeat interval changed', {
      heartbeatMs,
      leaseDurationMs: this.target.leaseMs,
      leases,
      workers,
    });
    this.o.metrics.gauge(CONSUMER_METRICS.heartbeatInterval, heartbeatMs, { worker: this.o.workerId });
  }

  /** Worker-liveness mode: one heartbeat of this session (skipped while the previous one is still in flight). */
  private async heartbeatOnce(): Promise<void> {
    const registry = this.o.registry!;
    if (
      this.sessionSpoiled ||
      (this.session && this.o.clock.now() - this.sessionRenewedAt >= this.timing.leaseMs)
    ) {
      this.sessionSpoiled = false;
      await this.abandonSession('no heartbeat confirmed for a lease duration');
      return;
    }
    if (!this.session) {
      try {
        await this.newSession();
      } catch (e) {
        this.o.logger.warn('could not start a new worker session; retrying', { error: String(e) });
      }
      return;
    }
    if (this.heartbeating) return;
    this.heartbeating = true;
    const session = this.session;
    // A new lease duration goes to the roster with this heartbeat. A shorter one applies to this worker from now
    // (the write may land unanswered); a longer one once the write is confirmed (until then others may still judge
    // by the shorter one). A new interval under the same lease duration applies at once.
    const next = { ...this.target };
    const declare = next.leaseMs !== this.declaredLeaseMs ? next.leaseMs : undefined;
    if (declare === undefined || next.leaseMs < this.timing.leaseMs) this.timing = next;
    try {
      const sent = await this.sendHeartbeat(session, declare);
      if (session !== this.session) return;
      if (!sent) {
        // Every attempt failed and the session's time is (nearly) up: start a new one now, not at the next tick.
        if (!this.stopAll.signal.aborted)
          await this.abandonSession('no heartbeat confirmed for a lease duration');
        return;
      }
      const { r, sentAt } = sent;
      if (!r.ok) {
        await this.abandonSession(r.deadBy ? `declared dead by ${r.deadBy}` : 'liveness item gone');
        return;
      }
      this.heartbeat = r.heartbeat;
      if (declare !== undefined) {
        this.declaredLeaseMs = declare;
        this.timing = next;
      }
      this.pendingViews.push({ view: r.view, sentAt, receivedAt: this.o.clock.now() });
      // Judge the new roster now, not at the take loop's next tick (a cycle that sees no change reads nothing).
      this.wakeTake?.abort();
      this.sessionRenewedAt = Math.min(sentAt, this.sessionUnconfirmedSince ?? sentAt);
      this.sessionUnconfirmedSince = undefined;
      const stale: string[] = [];
      // Leases another worker already took (a forced steal): lost, not a request to finish up (a KCL processor
      // gets leaseLost, not shutdownRequested, as in KCL 2.x).
      for (const [leaseKey, { by, counter }] of Object.entries(r.taken)) {
        const held = this.held.get(leaseKey);
        // Only a take after our own last write (not one we have since taken back).
        if (held && !held.lost && !held.released && held.counter < counter) {
          this.o.logger.info('lease taken by another worker', { shardId: leaseKey, by });
          this.markLost(held, 'taken');
        }
        stale.push(leaseKey);
      }
      for (const [leaseKey, to] of Object.entries(r.handoffs)) {
        const held = this.held.get(leaseKey);
        if (held && !held.lost && !held.released) this.checkHandoff(held, to);
        else stale.push(leaseKey);
      }
      // Requests for leases this session no longer holds (handed over, lost): ring no more.
      if (stale.length) await registry.clearHandoffs(session, stale);
    } catch (e) {
      // Only the clearing of acted-on hand-off requests can fail here (the heartbeat itself landed).
      this.o.logger.warn('could not clear hand-off requests; the next heartbeat clears them', {
        error: String(e),
      });
    } finally {
      this.heartbeating = false;
    }
  }

  /**
   * Sends this session's heartbeat. A call that fails or does not answer within a short deadline (a fraction of
   * `leaseDurationMs − renewIntervalMs`) is sent again after a short pause, each attempt allowed twice as long as
   * the one before, for as long as the session is still ours on this worker's clock: a lost or hung call costs a
   * fraction of the lease, not the session (a write that landed unanswered is found by the next attempt's re-read).
   * @returns the answer and when the answered attempt was sent, or undefined when no attempt was answered.
   */
  private async sendHeartbeat(
    session: string,
    declareLeaseMs?: number,
  ): Promise<{ r: HeartbeatResult; sentAt: number } | undefined> {
    const base = Math.max(
      MIN_HEARTBEAT_DEADLINE_MS,
      Math.min(CALL_DEADLINE_MS, (this.timing.leaseMs - this.timing.heartbeatMs) / 2),
    );
    for (let attempt = 1; ; attempt++) {
      const sentAt = this.o.clock.now();
      this.heartbeatSentAt = sentAt;
      // Never past the moment this worker would give the session up (the last attempt gets all that is left).
      const left = this.sessionRenewedAt + this.timing.leaseMs - sentAt;
      const deadlineMs = Math.max(MIN_HEARTBEAT_DEADLINE_MS, Math.min(base * 2 ** (attempt - 1), left));
      try {
        return {
          r: await this.o.registry!.heartbeat(session, this.heartbeat, deadlineMs, declareLeaseMs),
          sentAt,
        };
      } catch (e) {
        if (session !== this.session) return undefined;
        this.sessionUnconfirmedSince ??= sentAt;
        this.o.metrics.increment('kinesis_consumer_renew_failures_total', 1, { worker: this.o.workerId });
        const pause = Math.min(HEARTBEAT_RETRY_PAUSE_MS * attempt, base);
        const retry =
          !this.stopAll.signal.aborted &&
          this.o.clock.now() + pause + MIN_HEARTBEAT_DEADLINE_MS <
            this.sessionRenewedAt + this.timing.leaseMs;
        this.o.logger.warn(retry ? 'worker heartbeat failed; sending it again' : 'worker heartbeat failed', {
          attempt,
          error: String(e),
        });
        if (!retry) return undefined;
        try {
          await this.o.sleep(pause, this.stopAll.signal);
        } catch {
          return undefined;
        }
      }
    }
  }

  /**
   * Folds the latest roster into {@link observed}. Worker-liveness mode reads nothing: the roster comes with this
   * worker's own heartbeat (the write's answer). Counter mode (a mixed awskit fleet) reads the roster.
   */
  private async observeSessions(): Promise<void> {
    if (this.liveness) {
      // Oldest first (a probe may have been answered before an earlier heartbeat).
      const views = this.pendingViews.sort((x, y) => x.sentAt - y.sentAt);
      this.pendingViews = [];
      for (const v of views) this.observed!.fold(v.view, v.sentAt, v.receivedAt);
      return;
    }
    const sentAt = this.o.clock.now();
    const view = await this.o.registry!.view();
    this.scanCounts.worker++;
    this.observed!.fold(view, sentAt, this.o.clock.now());
  }

  /**
   * Worker-liveness mode: when to read the roster between heartbeats so a session that went quiet is judged expired
   * as soon as a lease duration has passed, not at this worker's next heartbeat after that (up to a heartbeat
   * interval later). Only while some session has been quiet long enough for that to matter: live fleets never
   * probe. @returns the send time of the probe, or undefined when none is needed.
   */
  private probeAt(): number | undefined {
    if (!this.liveness || !this.session) return undefined;
    const at = this.observed!.nextExpiryAt();
    // The next heartbeat's answer comes soon enough, or a probe was already sent after that time.
    if (
      at === undefined ||
      at >= this.heartbeatSentAt + this.timing.heartbeatMs ||
      at <= this.lastProbeSentAt
    )
      return undefined;
    return at;
  }

  /** Reads the roster (consistently: a stale read could not show a quiet session's last heartbeat) for the next take cycle. */
  private async probeRoster(): Promise<void> {
    const sentAt = this.o.clock.now();
    this.lastProbeSentAt = sentAt;
    try {
      const view = await this.o.registry!.view(true);
      this.scanCounts.worker++;
      this.pendingViews.push({ view, sentAt, receivedAt: this.o.clock.now() });
    } catch (e) {
      this.o.logger.debug('roster probe failed; the next heartbeat shows the roster', { error: String(e) });
    }
  }

  /**
   * Worker-liveness mode: whether this cycle needs a full lease-table scan. Only when something changed: the
   * membership (a session appeared, disappeared, died or went quiet), a trigger (shard end, new leases), an
   * outstanding hand-off request, the periodic scan, or leases still to take after the last one — and every cycle
   * while KCL workers share the table (their leases expire by counter, as in counter mode).
   */
  private needsLeaseScan(now: number): false | 'change' | 'periodic' {
    const observed = this.observed!;
    // (membershipChanged first: it remembers the membership it saw.)
    const changed = observed.membershipChanged() || observed.leaseSetVersion !== this.scannedLeaseSetVersion;
    for (const [k, until] of this.askedFor) if (until <= now) this.askedFor.delete(k);
    const forChange =
      changed ||
      this.scanRequested ||
      this.askedFor.size > 0 ||
      // A KCL worker shares the table: its leases are judged by their counters, which only a scan shows.
      this.foreignSeen;
    this.scanRequested = false;
    if (forChange) return 'change';
    return now >= this.nextPeriodicScanAt ? 'periodic' : false;
  }

  /** One cycle of the take loop (exposed for tests): a roster probe if one is due, then {@link takeOnce}. */
  async takeCycle(): Promise<Lease[]> {
    const probe = this.probeAt();
    if (probe !== undefined && this.o.clock.now() >= probe) await this.probeRoster();
    return this.takeOnce();
  }

  /** Scans the table and takes what the plan says (exposed for tests). @returns leases taken. */
  async takeOnce(): Promise<Lease[]> {
    let periodic = false;
    if (this.liveness) {
      if (!this.session) return [];
      await this.observeSessions();
      const due = this.needsLeaseScan(this.o.clock.now());
      if (!due) return [];
      periodic = due === 'periodic';
    }
    // Worker-liveness: until this cycle's takes are done, the next cycle scans again (a failed call, a lost race).
    this.scanRequested = true;
    if (this.liveness) this.scannedLeaseSetVersion = this.observed!.leaseSetVersion;
    const own = this.o.isOwnLeaseKey ?? ((k: string) => SHARD_KEY.test(k));
    // Worker-liveness: the periodic scan (nothing known to have changed) reads eventually consistent, at half the
    // price; a scan for a known change reads consistently, so it sees that change.
    const all = (await this.o.table.listLeases({ consistent: !periodic })).filter((l) => own(l.leaseKey));
    this.scanCounts.lease++;
    const previousKeys = new Set(this.lastScan.map((l) => l.leaseKey));
    this.lastFullScanAt = this.o.clock.now();
    if (this.liveness) {
      // The periodic scan is a safety net for changes nobody announced; the fleet shares it: each of W live
      // workers scans every W × leaseScanIntervalMs (jittered), so the fleet scans about once per interval.
      const every = (this.o.leaseScanIntervalMs ?? 20_000) * (1 + this.observed!.liveOthers());
      this.nextPeriodicScanAt = this.lastFullScanAt + every * (0.75 + 0.5 * (this.o.random ?? Math.random)());
    }
    // Leases of worker-liveness sessions are judged by their session (a counter-mode worker reads the worker table
    // only when it sees such a lease: a mixed awskit fleet).
    const sessionLeases = all.filter((l) => l.awskitSession && !isForeignLease(l));
    if (!this.liveness && sessionLeases.length && this.o.registry) await this.observeSessions();
    const now = this.o.clock.now();
    const referenced = new Set(sessionLeases.map((l) => l.awskitSession!));
    this.observed?.noteReferenced(referenced, now);
    this.foreignSeen = all.some(isForeignLease);
    // Worker-liveness: keep scanning every cycle only for requests still pending on the table (our request on a
    // lease its owner still holds). A request whose lease was released and taken by someone else, or cleared, is
    // settled: without this, one such lease kept its asker scanning every cycle for 2 × the hand-off timeout.
    if (this.askedFor.size) {
      const byKey = new Map(all.map((l) => [l.leaseKey, l]));
      for (const k of this.askedFor.keys()) {
        const l = byKey.get(k);
        // Released and not yet taken: keep (this cycle's plan takes it, or the next scan shows who did).
        const pending =
          !!l && (!l.leaseOwner || (l.leaseOwner !== this.o.workerId && l.handoffTo === this.o.workerId));
        if (!pending) this.askedFor.delete(k);
      }
    }
    this.lastScan = all;
    this.retime(all);
    this.observations.update(all, now);
    if (this.takingStopped) return [];
    const plan = computeLeasesToTake({
      leases: all,
      workerId: this.o.workerId,
      held: new Set(this.held.keys()),
      isExpired: (l) =>
        l.awskitSession && !isForeignLease(l) && this.observed
          ? !!l.leaseOwner && this.observed.expired(l.awskitSession)
          : this.observations.isExpired(
              l,
              now,
              isForeignLease(l)
                ? (this.o.foreignLeaseDurationMs ?? Math.max(this.o.leaseDurationMs, 10_000))
                : this.o.leaseDurationMs,
            ),
      // A request nobody acted on for twice the hand-off timeout (its requester died) no longer counts.
      isHandoffActive: (l) =>
        this.o.handoffTimeoutMs > 0 && this.observations.handoffAge(l, now) <= 2 * this.o.handoffTimeoutMs,
      maxLeasesForWorker: this.o.maxLeasesForWorker,
      balance: this.o.balance,
      ...(this.liveness ? { liveWorkers: this.observed!.liveWorkerIds() } : {}),
      random: this.o.random ?? Math.random,
    });
    if (this.liveness) await this.observed!.cleanup(referenced, now);
    const taken: Lease[] = [];
    // Our own hand-off requests that the owner ignored (a KCL worker, a stuck handler): steal after all.
    if (this.o.handoffTimeoutMs > 0)
      for (const l of all)
        if (
          l.handoffTo === this.o.workerId &&
          l.leaseOwner &&
          l.leaseOwner !== this.o.workerId &&
          !this.held.has(l.leaseKey) &&
          this.observations.handoffAge(l, now) > this.o.handoffTimeoutMs &&
          !this.takingStopped
        ) {
          const t = await this.tryTake(l, 'stolen', true);
          if (t) taken.push(t);
        }
    for (const [k, until] of this.avoidUntil) if (until <= now) this.avoidUntil.delete(k);
    // Expired leases in waves of parallel takes (a dead worker with many leases is replaced quickly); a lost race
    // falls through to the next candidates until `needed` are taken or none are left.
    const candidates = plan.expired.filter((l) => !this.avoidUntil.has(l.leaseKey));
    let fromExpired = 0;
    while (fromExpired < plan.needed && candidates.length && !this.takingStopped) {
      const wave = candidates.splice(0, Math.min(MAX_PARALLEL_WRITES, plan.needed - fromExpired));
      for (const t of await Promise.all(wave.map((l) => this.tryTake(l, 'expired'))))
        if (t) {
          taken.push(t);
          fromExpired++;
        }
    }
    if (!this.takingStopped)
      for (const t of await Promise.all(plan.steal.map((l) => this.tryTake(l, 'stolen'))))
        if (t) taken.push(t);
    // Short of the plan while candidates remained (a fence or take lost a race, our old consumer still ran): look
    // again next cycle rather than at the periodic scan.
    this.scanRequested = fromExpired < plan.needed && plan.expired.length > 0;
    // Worker-liveness: the periodic scan found something nobody announced (leases written by a tool or another kind
    // of worker, or free leases this worker does not take): tell the fleet, so every worker looks now.
    if (periodic && (plan.expired.length > fromExpired || all.some((l) => !previousKeys.has(l.leaseKey))))
      this.announceLeaseSetChange();
    return taken;
  }

  /** Worker-liveness mode: deletes this session's liveness item (clean stop, after its leases were released). */
  async deregister(keepItem = false): Promise<void> {
    const session = this.session;
    if (!this.liveness || !session) return;
    this.session = undefined;
    // Leases abandoned to expire (a handler that did not settle) still name the session: let it go quiet instead.
    if (keepItem || [...this.held.values()].some((h) => !h.released && !h.lost)) return;
    try {
      await this.o.registry!.remove(session);
    } catch (e) {
      this.o.logger.warn('could not delete the worker item; it will be cleaned up by others', {
        error: String(e),
      });
    }
  }

  private async tryTake(seen: Lease, kind: 'expired' | 'stolen', force = false): Promise<Lease | undefined> {
    // Our previous consumer of this shard is still running (its handler outlived the lease): not yet.
    if (this.o.isBusy?.(seen.leaseKey)) return undefined;
    if (kind === 'stolen' && !force && this.o.handoffTimeoutMs > 0 && !seen.handoffTo && seen.leaseOwner) {
      // Graceful: ask the owner to hand it over; it is taken (as unowned) after the owner releases it.
      if (await this.o.table.requestHandoff(seen.leaseKey, seen.leaseOwner, this.o.workerId)) {
        // Worker-liveness: the owner does not re-read its leases; ring its session's door (seen on its heartbeat),
        // and keep scanning until the lease is released.
        if (seen.awskitSession && this.o.registry)
          await this.o.registry.requestHandoff(seen.awskitSession, seen.leaseKey, this.o.workerId);
        if (this.liveness) this.askedFor.set(seen.leaseKey, this.o.clock.now() + 2 * this.o.handoffTimeoutMs);
        this.observations.noteHandoffRequested(seen.leaseKey, this.o.workerId, this.o.clock.now());
        this.o.metrics.increment('kinesis_consumer_handoffs_requested_total', 1, { worker: this.o.workerId });
        this.o.logger.debug('asked for a lease', { shardId: seen.leaseKey, owner: seen.leaseOwner });
      }
      return undefined;
    }
    // A lease of an expired worker-liveness session: declare the session dead first (fencing its worker).
    if (
      kind === 'expired' &&
      seen.leaseOwner &&
      seen.awskitSession &&
      !isForeignLease(seen) &&
      this.observed &&
      !(await this.observed.fence(seen.awskitSession))
    )
      return undefined;
    if (this.liveness && !this.session) return undefined;
    let sentAt = this.o.clock.now();
    const first = await this.o.table.tryTakeLease(seen, this.o.workerId, this.session);
    let t = first.taken;
    if (!t && kind === 'stolen' && this.o.clock.now() - sentAt < this.o.leaseDurationMs / 2) {
      // The victim renewed between our scan and our write (it renews every second): the decision to steal rests
      // on lease counts, not on that counter, so retry once against the fresh item if the owner is unchanged.
      // Only while that decision is fresh: a take answered late (a lost answer retried by the SDK) may have seen
      // the lease leave the owner and come back to it since; stealing it then takes it from a live owner in the
      // middle of a batch. A forced steal also needs our hand-off request still on the item (a retake clears it).
      // (An expired lease whose counter moved is alive again and is never retried.)
      const fresh = first.current;
      if (
        fresh &&
        fresh.leaseOwner === seen.leaseOwner &&
        fresh.checkpoint !== 'SHARD_END' &&
        (!force || fresh.handoffTo === this.o.workerId)
      ) {
        sentAt = this.o.clock.now();
        t = await this.o.table.takeLease(fresh, this.o.workerId, this.session);
      }
    }
    if (!t) return undefined;
    // Worker-liveness: the victim of a steal does not renew, so it would only notice at its next checkpoint; ring
    // its door so its next heartbeat stops it (its release then fails the counter check, as it should).
    if (kind === 'stolen' && seen.leaseOwner && seen.awskitSession && this.o.registry)
      await this.o.registry
        .noticeTaken(seen.awskitSession, seen.leaseKey, this.o.workerId, t.leaseCounter)
        .catch(() => undefined);
    const held: HeldLease = {
      shardId: t.leaseKey,
      counter: t.leaseCounter,
      lease: t,
      lastRenewedAt: sentAt,
      lost: false,
      abort: new AbortController(),
      lock: Promise.resolve(),
    };
    this.held.set(held.shardId, held);
    this.askedFor.delete(held.shardId);
    this.o.metrics.increment(
      kind === 'stolen' ? 'kinesis_consumer_leases_stolen_total' : 'kinesis_consumer_leases_taken_total',
      1,
      { worker: this.o.workerId },
    );
    this.o.metrics.gauge('kinesis_consumer_leases_held', this.held.size, { worker: this.o.workerId });
    this.o.logger.info('lease acquired', { shardId: held.shardId, kind, previousOwner: seen.leaseOwner });
    this.o.onAcquired(held);
    return t;
  }

  private async renewLoop(): Promise<void> {
    const signal = this.stopAll.signal;
    while (!signal.aborted) {
      try {
        await this.o.sleep(this.timing.heartbeatMs, signal);
      } catch {
        break;
      }
      // Not awaited: a renewal hung on a stuck call must not stop the next round (and its expiry checks).
      void this.track(
        this.renewAll().catch((e: unknown) =>
          this.o.logger.warn('lease renewal round failed', { error: String(e) }),
        ),
      );
    }
  }

  private async takeLoop(): Promise<void> {
    const signal = this.stopAll.signal;
    while (!signal.aborted) {
      if (!this.takingStopped) {
        this.currentTake = this.takeCycle().then(
          () => undefined,
          (e: unknown) => this.o.logger.warn('lease take cycle failed', { error: String(e) }),
        );
        await this.currentTake;
        this.currentTake = undefined;
      }
      const wake = new AbortController();
      this.wakeTake = wake;
      const onStop = () => wake.abort();
      signal.addEventListener('abort', onStop, { once: true });
      // Wake for a roster probe if one falls due before the next cycle.
      const probe = this.probeAt();
      const wait =
        probe === undefined
          ? this.o.takeIntervalMs
          : Math.min(this.o.takeIntervalMs, Math.max(0, probe - this.o.clock.now()));
      try {
        await this.o.sleep(wait, wake.signal);
      } catch {
        // woken early
      } finally {
        signal.removeEventListener('abort', onStop);
      }
    }
  }
}
