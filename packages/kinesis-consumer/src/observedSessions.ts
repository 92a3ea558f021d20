import type { Clock, Logger, Metrics } from '@awskit/core';
import { type RosterView, type WorkerRegistry, workerIdOf } from './workerRegistry.js';

/** What this worker last saw of one session, on its own monotonic clock. */
interface SessionState {
  heartbeat: number;
  dead: boolean;
  /** The lease duration the session declared (its own `leaseDurationMs`), or this worker's when it declared none. */
  leaseMs: number;
  /** When this worker first saw the current heartbeat value (not when it was written). */
  changedAt: number;
  /** Named by a lease but absent from the rosters seen so far (see {@link ObservedSessions.noteReferenced}). */
  missing?: boolean;
}

/** Options of {@link ObservedSessions}. */
export interface ObservedSessionsOptions {
  registry: WorkerRegistry;
  clock: Clock;
  leaseDurationMs: number;
  workerId: string;
  logger: Logger;
  metrics: Metrics;
  /** This process's own session (never judged expired). */
  ownSession: () => string | undefined;
}

/**
 * The fleet's worker-liveness sessions as this worker has seen them in roster views, and the judgements made from
 * them: which sessions are expired (their heartbeat did not change for a lease duration), which workers are live,
 * who is the shard-sync leader, whether the membership changed, and the fencing of a session before its leases
 * are taken. Nothing here reads on its own except {@link fence} (one conditional write, or a consistent read of a
 * missing session) and {@link cleanup}.
 */
export class ObservedSessions {
  private readonly sessions = new Map<string, SessionState>();
  /** When the newest view folded in was requested: expiry is judged up to then, not up to now. */
  private viewSentAt = Number.NEGATIVE_INFINITY;
  private membershipKey = '';
  private readonly fencing = new Map<string, Promise<boolean>>();
  /** The highest lease-set version in the views seen. */
  leaseSetVersion = 0;

  constructor(private readonly o: ObservedSessionsOptions) {}

  /** Folds in a roster view requested at `sentAt` and answered at `receivedAt` (this worker's clock). */
  fold(view: RosterView, sentAt: number, receivedAt: number): void {
    this.viewSentAt = Math.max(this.viewSentAt, sentAt);
    this.leaseSetVersion = Math.max(this.leaseSetVersion, view.leaseSetVersion);
    const seen = new Set<string>();
    for (const w of view.sessions) {
      seen.add(w.session);
      const prev = this.sessions.get(w.session);
      const leaseMs = w.leaseDurationMs ?? this.o.leaseDurationMs;
      if (!prev || prev.heartbeat !== w.heartbeat || prev.missing)
        this.sessions.set(w.session, {
          heartbeat: w.heartbeat,
          dead: !!w.deadBy,
          leaseMs,
          changedAt: receivedAt,
        });
      else if (w.deadBy) prev.dead = true;
    }
    for (const [k, v] of this.sessions) if (!seen.has(k) && !v.missing) this.sessions.delete(k);
  }

  /**
   * Whether a session is expired: declared dead, or its heartbeat did not change for its lease duration (the one it
   * declared: a worker with a longer lease than this one's is not judged by this one's).
   */
  expired(session: string): boolean {
    if (session === this.o.ownSession()) return false;
    const s = this.sessions.get(session);
    if (!s) return false;
    // Unchanged from when a view first showed it until the last view was requested: no heartbeat in between.
    return s.dead || this.viewSentAt - s.changedAt > s.leaseMs;
  }

  private live(session: string, s: SessionState): boolean {
    return !s.dead && !s.missing && !this.expired(session);
  }

  /** The worker ids of the live sessions seen, this worker's among them, each once. */
  liveWorkerIds(): string[] {
    const out = new Set([this.o.workerId]);
    for (const [k, v] of this.sessions) if (this.live(k, v)) out.add(workerIdOf(k));
    return [...out];
  }

  /**
   * The earliest send time of a roster view that would show one of the other live sessions expired if its heartbeat
   * has not moved by then; undefined when there is none.
   */
  nextExpiryAt(): number | undefined {
    let at = Number.POSITIVE_INFINITY;
    const own = this.o.ownSession();
    for (const [k, v] of this.sessions)
      if (k !== own && this.live(k, v)) at = Math.min(at, v.changedAt + v.leaseMs + 1);
    return Number.isFinite(at) ? at : undefined;
  }

  /** How many live sessions other than this one were seen. */
  liveOthers(): number {
    let n = 0;
    for (const [k, v] of this.sessions) if (k !== this.o.ownSession() && this.live(k, v)) n++;
    return n;
  }

  /** Whether `session` has the smallest key of the live sessions seen (the shard-sync leader). */
  isLeader(session: string): boolean {
    for (const [k, v] of this.sessions) if (k < session && this.live(k, v)) return false;
    return true;
  }

  /** Whether the membership (sessions seen and which of them are live) changed since the last call. */
  membershipChanged(): boolean {
    const key = [...this.sessions.entries()]
      .map(([k, v]) => `${k}:${v.dead || this.expired(k) ? 'x' : 'o'}`)
      .sort()
      .join(',');
    const changed = key !== this.membershipKey;
    this.membershipKey = key;
    return changed;
  }

  /**
   * Sessions named by leases (`referenced`) that no roster view showed are tracked as missing (a session deleted
   * after a clean stop, or not yet visible to an eventually consistent read) until {@link fence} reads them; missing
   * ones no lease names any more are forgotten.
   */
  noteReferenced(referenced: ReadonlySet<string>, now: number): void {
    for (const session of referenced)
      if (!this.sessions.has(session))
        this.sessions.set(session, {
          heartbeat: -1,
          dead: false,
          leaseMs: this.o.leaseDurationMs,
          changedAt: now,
          missing: true,
        });
    for (const [k, v] of this.sessions) if (v.missing && !referenced.has(k)) this.sessions.delete(k);
  }

  /**
   * Before taking a lease of an expired session: declare the session dead, conditional on the heartbeat that
   * stopped advancing, so its worker can never confirm its leases again (it stops acting on them a lease duration
   * after its last confirmed heartbeat, which is before now). A missing session is read consistently first.
   * @returns whether the session's leases may be taken.
   */
  async fence(session: string): Promise<boolean> {
    // A dead worker's leases are taken in parallel waves: one fence (one write) per session, not one per lease.
    const inFlight = this.fencing.get(session);
    if (inFlight) return inFlight;
    const p = this.fenceOnce(session).finally(() => this.fencing.delete(session));
    this.fencing.set(session, p);
    return p;
  }

  private async fenceOnce(session: string): Promise<boolean> {
    const s = this.sessions.get(session);
    if (!s) return false;
    if (s.dead) return true;
    if (s.missing) {
      const fresh = await this.o.registry.get(session);
      if (!fresh) return true;
      this.sessions.set(session, {
        heartbeat: fresh.heartbeat,
        dead: !!fresh.deadBy,
        leaseMs: fresh.leaseDurationMs ?? this.o.leaseDurationMs,
        changedAt: this.o.clock.now(),
      });
      return !!fresh.deadBy;
    }
    const ok = await this.o.registry.fence(session, s.heartbeat, this.o.workerId);
    if (ok) {
      s.dead = true;
      this.o.metrics.increment('kinesis_consumer_sessions_fenced_total', 1, { worker: this.o.workerId });
      this.o.logger.info('worker session declared dead', { session });
    } else {
      // It advanced after all: alive.
      s.changedAt = this.o.clock.now();
    }
    return ok;
  }

  /**
   * Removes worker entries nobody needs any more: sessions declared dead (or quiet for ten lease durations) that no
   * lease names. Keeps the roster, and so every heartbeat's answer, small.
   */
  async cleanup(referenced: ReadonlySet<string>, now: number): Promise<void> {
    const own = this.o.ownSession();
    for (const [session, v] of this.sessions) {
      if (v.missing || referenced.has(session) || session === own) continue;
      if (!(v.dead || now - v.changedAt > 10 * v.leaseMs)) continue;
      try {
        if (!v.dead && !(await this.o.registry.fence(session, v.heartbeat, this.o.workerId))) continue;
        await this.o.registry.remove(session);
        this.sessions.delete(session);
      } catch (e) {
        this.o.logger.debug('could not remove a dead worker item', { session, error: String(e) });
      }
    }
  }
}
