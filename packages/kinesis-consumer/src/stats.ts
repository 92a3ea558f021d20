import {
  type Clock,
  type Labels,
  type Logger,
  type Metrics,
  MetricsRegistry,
  type SummaryValue,
} from '@awskit/core';
import { CONSUMER_METRICS as M } from './metrics.js';
import { parseMultiStreamLeaseKey } from './multiStream.js';
import type { FetchedBatch, FetcherFactory, ShardFetcher } from './types.js';

/** Observability of one shard as seen by this worker. */
export interface ShardStats {
  shardId: string;
  /**
   * Multi-stream mode: the shard's stream and lease key (`account:stream:creationEpoch:shardId`, which is also the
   * `shard` label of its metrics).
   */
  streamName?: string;
  leaseKey?: string;
  /** True while this worker holds the shard's lease. */
  held: boolean;
  /** From the last read (GetRecords or a SubscribeToShard event). */
  millisBehindLatest?: number;
  recordsProcessed: number;
  /** Bytes of the Kinesis records (aggregates counted once) of processed batches. */
  bytesProcessed: number;
  batches: number;
  /** Processor time per batch over the recent window, in ms. */
  batchDurationMs?: { p50: number; p99: number; max: number; count: number };
  handlerErrors: number;
  checkpoints: number;
  /** Time since the checkpoint last moved (or since the lease was taken), in ms. */
  checkpointAgeMs?: number;
  /** Lease renewed, records waiting (a batch in the processor or the reader behind the tip), checkpoint not moving. */
  stalled: boolean;
}

/** Observability of this worker's leases. */
export interface WorkerStats {
  workerId: string;
  leasesHeld: number;
  leasesTaken: number;
  leasesStolen: number;
  leasesLost: number;
  leasesReleased: number;
  renewFailures: number;
  stalledShards: number;
}

/** What `KinesisConsumer.stats()` returns. */
export interface ConsumerStats {
  worker: WorkerStats;
  shards: ShardStats[];
}

/** Passed to the `shardStalled` event and hook. */
export interface StallInfo {
  shardId: string;
  /** Multi-stream mode: the shard's stream and lease key. */
  streamName?: string;
  leaseKey?: string;
  /** How long the checkpoint has not moved, in ms. */
  checkpointAgeMs: number;
  millisBehindLatest?: number;
  /** True when a batch is in the processor (a slow or failing handler), false when the reader is behind. */
  batchInFlight: boolean;
}

/** Options of {@link ConsumerStatsTracker}. */
export interface StatsTrackerOptions {
  workerId: string;
  clock: Clock;
  /** The user's metrics: every call is forwarded. */
  downstream: Metrics;
  logger: Logger;
  /** @default 60_000 */
  stallThresholdMs?: number;
  /** Shards whose lease this worker holds now. */
  heldShards: () => string[];
  onStall?: (info: StallInfo) => void;
}

interface ShardState {
  recordsProcessed: number;
  bytesProcessed: number;
  batches: number;
  handlerErrors: number;
  checkpoints: number;
  millisBehindLatest?: number;
  /** Last checkpoint, or when processing (re)started. */
  progressAt: number;
  /** Bytes of the batch handed out last, credited when it completes. */
  pendingBytes: number;
  batchInFlight: boolean;
  stalled: boolean;
  /** When this worker was first seen not holding the shard (pruned after {@link FORGET_AFTER_MS}). */
  notHeldSince?: number;
}

/** Shards given up (lost, released, ended) stay in `stats()` this long, then are forgotten (resharding churn). */
const FORGET_AFTER_MS = 10 * 60_000;

/** Default stall threshold: well above a normal batch, below what an operator would call "stuck". */
export const STALL_THRESHOLD_MS = 60_000;

/** `shardId` of a stats key, plus stream and lease key when it is a multi-stream lease key. */
function namesOf(key: string): { shardId: string; streamName?: string; leaseKey?: string } {
  const m = parseMultiStreamLeaseKey(key);
  return m ? { shardId: m.shardId, streamName: m.streamName, leaseKey: key } : { shardId: key };
}

function shardOf(labels: Labels | undefined): string | undefined {
  const s = labels?.shard;
  return s === undefined ? undefined : String(s);
}

/**
 * Turns the consumer's metric calls into per-shard and per-worker stats, forwards them to the user's metrics and
 * an internal {@link MetricsRegistry} (for `toPrometheus()`), measures bytes and delivery latency by wrapping the
 * fetchers, and detects stalls: a shard whose lease is held (so renewed) and whose checkpoint has not moved for
 * `stallThresholdMs` while records wait. A stall sets `kinesis_consumer_shard_stalled`, counts
 * `kinesis_consumer_stalls_total`, logs a warning and calls `onStall` once per episode.
 */
export class ConsumerStatsTracker implements Metrics {
  /** Every metric of this consumer (Prometheus text via `registry.toPrometheus()`). */
  readonly registry = new MetricsRegistry();
  private readonly shards = new Map<string, ShardState>();
  private readonly worker = {
    leasesHeld: 0,
    leasesTaken: 0,
    leasesStolen: 0,
    leasesLost: 0,
    leasesReleased: 0,
    renewFailures: 0,
  };
  private timer?: NodeJS.Timeout;
  private readonly stallThresholdMs: number;

  constructor(private readonly o: StatsTrackerOptions) {
    this.stallThresholdMs = o.stallThresholdMs ?? STALL_THRESHOLD_MS;
  }

  private shard(id: string): ShardState {
    let s = this.shards.get(id);
    if (!s) {
      s = {
        recordsProcessed: 0,
        bytesProcessed: 0,
        batches: 0,
        handlerErrors: 0,
        checkpoints: 0,
        progressAt: this.o.clock.now(),
        pendingBytes: 0,
        batchInFlight: false,
        stalled: false,
      };
      this.shards.set(id, s);
    }
    return s;
  }

  private forwardIncrement(name: string, value: number, labels?: Labels): void {
    this.o.downstream.increment(name, value, labels);
    this.registry.increment(name, value, labels);
  }

  private forwardGauge(name: string, value: number, labels?: Labels): void {
    this.o.downstream.gauge(name, value, labels);
    this.registry.gauge(name, value, labels);
  }

  private completeBatch(s: ShardState, id: string): void {
    if (s.pendingBytes) this.forwardIncrement(M.bytesProcessed, s.pendingBytes, { shard: id });
    s.bytesProcessed += s.pendingBytes;
    s.pendingBytes = 0;
    s.batchInFlight = false;
  }

  increment(name: string, value = 1, labels?: Labels): void {
    this.forwardIncrement(name, value, labels);
    const id = shardOf(labels);
    const w = this.worker;
    switch (name) {
      case M.recordsProcessed:
        if (id) {
          const s = this.shard(id);
          s.recordsProcessed += value;
          s.batches++;
          // Counted once the processor finished the batch handed out last: its bytes are processed too.
          this.completeBatch(s, id);
        }
        break;
      case M.handlerErrors:
        if (id) this.shard(id).handlerErrors += value;
        break;
      case M.checkpoints:
        if (id) {
          const s = this.shard(id);
          s.checkpoints += value;
          s.progressAt = this.o.clock.now();
        }
        break;
      case M.leasesTaken:
        w.leasesTaken += value;
        break;
      case M.leasesStolen:
        w.leasesStolen += value;
        break;
      case M.leasesLost:
        w.leasesLost += value;
        break;
      case M.leasesReleased:
        w.leasesReleased += value;
        break;
      case M.renewFailures:
        w.renewFailures += value;
        break;
    }
  }

  gauge(name: string, value: number, labels?: Labels): void {
    this.forwardGauge(name, value, labels);
    const id = shardOf(labels);
    if (name === M.millisBehindLatest && id) this.shard(id).millisBehindLatest = value;
    else if (name === M.leasesHeld) this.worker.leasesHeld = value;
  }

  observe(name: string, value: number, labels?: Labels): void {
    this.o.downstream.observe(name, value, labels);
    this.registry.observe(name, value, labels);
  }

  /** Wraps a fetcher factory to measure bytes, delivery latency and batches in flight per shard. */
  wrapFetcherFactory(inner: FetcherFactory): FetcherFactory {
    return (ctx) => {
      const fetcher = inner(ctx);
      const id = ctx.leaseKey ?? ctx.shardId;
      const s = this.shard(id);
      // (Re)starting on a shard: the stall clock starts now, not at an old checkpoint of a previous owner.
      s.progressAt = this.o.clock.now();
      s.pendingBytes = 0;
      s.batchInFlight = false;
      s.stalled = false;
      const wrapped: ShardFetcher = {
        next: async () => {
          // The shard consumer asks for the next batch only after the previous one was handled; one that
          // delivered nothing (every record filtered out) is not counted as processed bytes.
          s.pendingBytes = 0;
          s.batchInFlight = false;
          const b: FetchedBatch | undefined = await fetcher.next();
          if (b?.records.length) {
            let bytes = 0;
            for (const r of b.records) bytes += r.Data?.byteLength ?? 0;
            s.pendingBytes = bytes;
            s.batchInFlight = true;
            const arrived = b.records[0]!.ApproximateArrivalTimestamp;
            if (arrived)
              this.observe(M.deliveryLatencyMs, Math.max(0, Date.now() - arrived.getTime()), { shard: id });
          }
          return b;
        },
        close: () => fetcher.close(),
      };
      return wrapped;
    };
  }

  /** Updates checkpoint ages and stall state of held shards (runs on a timer between `start()` and `stop()`). */
  check(): void {
    const now = this.o.clock.now();
    const held = new Set(this.o.heldShards());
    for (const [id, s] of this.shards) {
      if (!held.has(id)) {
        s.notHeldSince ??= now;
        if (now - s.notHeldSince > FORGET_AFTER_MS) this.shards.delete(id);
        if (s.stalled) {
          s.stalled = false;
          this.forwardGauge(M.shardStalled, 0, { shard: id });
        }
        continue;
      }
      s.notHeldSince = undefined;
      const age = now - s.progressAt;
      this.forwardGauge(M.checkpointAgeMs, Math.round(age), { shard: id });
      const waiting = s.batchInFlight || (s.millisBehindLatest ?? 0) > 0;
      const stalled = waiting && age >= this.stallThresholdMs;
      if (stalled === s.stalled) continue;
      s.stalled = stalled;
      this.forwardGauge(M.shardStalled, stalled ? 1 : 0, { shard: id });
      if (!stalled) {
        this.o.logger.info('shard no longer stalled', { shardId: id });
        continue;
      }
      this.forwardIncrement(M.stalls, 1, { shard: id });
      const info: StallInfo = {
        ...namesOf(id),
        checkpointAgeMs: Math.round(age),
        batchInFlight: s.batchInFlight,
      };
      if (s.millisBehindLatest !== undefined) info.millisBehindLatest = s.millisBehindLatest;
      this.o.logger.warn('shard stalled: lease held, records waiting, checkpoint not moving', { ...info });
      this.o.onStall?.(info);
    }
  }

  /** Starts the periodic check (every quarter of the stall threshold, at most once a second). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.check(), Math.min(1_000, Math.max(10, this.stallThresholdMs / 4)));
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** A snapshot of per-shard and per-worker stats. */
  stats(): ConsumerStats {
    const now = this.o.clock.now();
    const held = new Set(this.o.heldShards());
    const summaries = new Map<string, SummaryValue>();
    for (const m of this.registry.snapshot())
      if (m.name === M.batchDurationMs && typeof m.value !== 'number' && m.labels.shard !== undefined)
        summaries.set(String(m.labels.shard), m.value);
    const shards: ShardStats[] = [...this.shards.entries()]
      .map(([id, s]) => {
        const out: ShardStats = {
          ...namesOf(id),
          held: held.has(id),
          recordsProcessed: s.recordsProcessed,
          bytesProcessed: s.bytesProcessed,
          batches: s.batches,
          handlerErrors: s.handlerErrors,
          checkpoints: s.checkpoints,
          stalled: held.has(id) && s.stalled,
        };
        if (s.millisBehindLatest !== undefined) out.millisBehindLatest = s.millisBehindLatest;
        if (held.has(id)) out.checkpointAgeMs = Math.round(now - s.progressAt);
        const sum = summaries.get(id);
        if (sum) out.batchDurationMs = { p50: sum.p50, p99: sum.p99, max: sum.max, count: sum.count };
        return out;
      })
      .sort((a, b) => (a.leaseKey ?? a.shardId).localeCompare(b.leaseKey ?? b.shardId));
    return {
      worker: {
        workerId: this.o.workerId,
        ...this.worker,
        leasesHeld: held.size,
        stalledShards: shards.filter((s) => s.stalled).length,
      },
      shards,
    };
  }
}
