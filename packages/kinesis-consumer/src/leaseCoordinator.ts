import { type Clock, isAwskitError, type Logger, type Metrics } from '@awskit/core';
import { KinesisConsumerErrorCode, LeaseLostError } from './errors.js';
import type { LeaseTable } from './leaseTable.js';
import { computeLeasesToTake, isForeignLease, LeaseObservations } from './leaseTaker.js';
import type { ExtendedSequenceNumber, Lease } from './types.js';

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
  /**
   * True while this worker still runs a consumer of the shard (a handler that outlived its lease): the lease is
   * not taken again until it has ended, so one worker never processes a shard twice at once.
   */
  isBusy?: (shardId: string) => boolean;
}

const SHARD_KEY = /^shardId-/;
/** Lease-table writes in flight at once per worker (the KCL's maxLeaseRenewalThreads is 20). */
const MAX_PARALLEL_WRITES = 16;

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

  constructor(options: LeaseCoordinatorOptions) {
    this.o = options;
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
    this.wakeTake?.abort();
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

  /** Stops both loops. Held leases are not released: release them first. */
  async stop(): Promise<void> {
    this.takingStopped = true;
    this.stopAll.abort();
    this.trigger();
    await Promise.allSettled(this.loops);
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
  private checkHandoff(held: HeldLease): void {
    const by = this.o.table.handoffRequestedBy(held.shardId);
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
    if (this.o.clock.now() - held.lastRenewedAt >= this.o.leaseDurationMs) {
      this.markLost(held, 'expired');
      return false;
    }
    return true;
  }

  private markLost(held: HeldLease, reason: LeaseLossReason): void {
    if (held.lost || held.released) return;
    held.lost = true;
    this.forget(held);
    this.o.metrics.increment('kinesis_consumer_leases_lost_total', 1, { worker: this.o.workerId, reason });
    this.o.logger.info('lease lost', { shardId: held.shardId, reason });
    this.o.onLost(held, reason);
  }

  /**
   * Renews every held lease once (exposed for tests). Expiry is checked for every lease first, and a lease whose
   * previous renewal is still in flight (a hung call) is skipped, so one stuck write never delays the others.
   */
  async renewAll(): Promise<void> {
    const now = this.o.clock.now();
    const due: HeldLease[] = [];
    for (const held of [...this.held.values()]) {
      if (held.lost || held.released) continue;
      // Renewals failed for a whole lease duration: others may already consider it expired. Stop first.
      if (now - held.lastRenewedAt >= this.o.leaseDurationMs) {
        this.markLost(held, 'expired');
        continue;
      }
      if (held.renewing) continue;
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

  /** Scans the table and takes what the plan says (exposed for tests). @returns leases taken. */
  async takeOnce(): Promise<Lease[]> {
    const all = (await this.o.table.listLeases()).filter((l) => SHARD_KEY.test(l.leaseKey));
    const now = this.o.clock.now();
    this.lastScan = all;
    this.observations.update(all, now);
    if (this.takingStopped) return [];
    const plan = computeLeasesToTake({
      leases: all,
      workerId: this.o.workerId,
      held: new Set(this.held.keys()),
      isExpired: (l) =>
        this.observations.isExpired(
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
      random: this.o.random ?? Math.random,
    });
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
    return taken;
  }

  private async tryTake(seen: Lease, kind: 'expired' | 'stolen', force = false): Promise<Lease | undefined> {
    // Our previous consumer of this shard is still running (its handler outlived the lease): not yet.
    if (this.o.isBusy?.(seen.leaseKey)) return undefined;
    if (kind === 'stolen' && !force && this.o.handoffTimeoutMs > 0 && !seen.handoffTo && seen.leaseOwner) {
      // Graceful: ask the owner to hand it over; it is taken (as unowned) after the owner releases it.
      if (await this.o.table.requestHandoff(seen.leaseKey, seen.leaseOwner, this.o.workerId)) {
        this.observations.noteHandoffRequested(seen.leaseKey, this.o.workerId, this.o.clock.now());
        this.o.metrics.increment('kinesis_consumer_handoffs_requested_total', 1, { worker: this.o.workerId });
        this.o.logger.debug('asked for a lease', { shardId: seen.leaseKey, owner: seen.leaseOwner });
      }
      return undefined;
    }
    let sentAt = this.o.clock.now();
    let t = await this.o.table.takeLease(seen, this.o.workerId);
    if (!t && kind === 'stolen' && this.o.clock.now() - sentAt < this.o.leaseDurationMs / 2) {
      // The victim renewed between our scan and our write (it renews every second): the decision to steal rests
      // on lease counts, not on that counter, so retry once against the fresh item if the owner is unchanged.
      // Only while that decision is fresh: a take answered late (a lost answer retried by the SDK) may have seen
      // the lease leave the owner and come back to it since; stealing it then takes it from a live owner in the
      // middle of a batch. A forced steal also needs our hand-off request still on the item (a retake clears it).
      // (An expired lease whose counter moved is alive again and is never retried.)
      const fresh = await this.o.table.getLease(seen.leaseKey);
      if (
        fresh &&
        fresh.leaseOwner === seen.leaseOwner &&
        fresh.checkpoint !== 'SHARD_END' &&
        (!force || fresh.handoffTo === this.o.workerId)
      ) {
        sentAt = this.o.clock.now();
        t = await this.o.table.takeLease(fresh, this.o.workerId);
      }
    }
    if (!t) return undefined;
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
        await this.o.sleep(this.o.renewIntervalMs, signal);
      } catch {
        break;
      }
      // Not awaited: a renewal hung on a stuck call must not stop the next round (and its expiry checks).
      void this.renewAll().catch((e: unknown) =>
        this.o.logger.warn('lease renewal round failed', { error: String(e) }),
      );
    }
  }

  private async takeLoop(): Promise<void> {
    const signal = this.stopAll.signal;
    while (!signal.aborted) {
      if (!this.takingStopped) {
        this.currentTake = this.takeOnce().then(
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
      try {
        await this.o.sleep(this.o.takeIntervalMs, wake.signal);
      } catch {
        // woken early
      } finally {
        signal.removeEventListener('abort', onStop);
      }
    }
  }
}
