import { hostname } from 'node:os';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { Logger, Metrics } from '@awskit/core';
import { type BatchHandler, KinesisConsumer, type ShardAssignment } from '@awskit/kinesis-consumer';
import { RateMeter } from './rate.js';
import type { ConsumeOptions, ErrorView } from './types.js';

const LEASE_SCAN_REUSE_MS = 2_000;

/** One shard's lease as the dashboard shows it. */
export interface ShardLease {
  shardId: string;
  owner?: string;
  status: ShardAssignment['status'];
  checkpoint: string;
  leaseCounter: number;
  millisBehindLatest?: number;
  checkpointAgeMs?: number;
  stalled?: boolean;
}

/** Per worker and shard: records handled and their rate (what the dashboard shows). */
interface Counter {
  meter: RateMeter;
}

/** The consumer workers of one stream running in this process, with what the dashboard needs from them. */
export class ConsumerPool {
  readonly workers: KinesisConsumer[] = [];
  readonly stream: string;
  readonly applicationName: string;
  private readonly counters = new Map<string, Counter>();
  private started = false;
  private scan: { at: number; rows: ShardAssignment[] } | undefined;

  constructor(
    o: ConsumeOptions,
    private readonly deps: {
      kinesisClient: KinesisClient;
      dynamoClient: DynamoDBClient;
      logger: Logger;
      metrics: Metrics;
      onError: (e: Omit<ErrorView, 'time'>) => void;
    },
  ) {
    this.stream = o.stream;
    this.applicationName = o.applicationName ?? `awskit-server-${o.stream}`;
    const n = o.workers ?? 1;
    const prefix = o.workerIdPrefix ?? `${hostname()}:${process.pid}`;
    for (let i = 1; i <= n; i++) {
      const workerId = `${prefix}-w${i}`;
      const consumer = new KinesisConsumer({
        streamName: o.stream,
        applicationName: this.applicationName,
        workerId,
        processor: this.wrap(workerId, o.handler),
        kinesisClient: deps.kinesisClient,
        dynamoClient: deps.dynamoClient,
        logger: deps.logger,
        metrics: deps.metrics,
        ...(o.onError ? { onError: o.onError } : {}),
        ...(o.initialPosition ? { initialPosition: o.initialPosition } : {}),
        ...(o.leaseDurationMs ? { leaseDurationMs: o.leaseDurationMs } : {}),
        ...(o.takeIntervalMs ? { takeIntervalMs: o.takeIntervalMs } : {}),
        ...(o.shardSyncIntervalMs ? { shardSyncIntervalMs: o.shardSyncIntervalMs } : {}),
        ...(o.polling ? { polling: o.polling } : {}),
      });
      consumer.on('error', (e, shardId) =>
        deps.onError({ source: 'consumer', message: errorText(e), ...(shardId ? { shardId } : {}) }),
      );
      this.workers.push(consumer);
    }
  }

  /** Counts what the user's handler processed, and reports its failures (they are still retried by the consumer). */
  private wrap(workerId: string, handler: BatchHandler): BatchHandler {
    return async (records, ctx) => {
      try {
        await handler(records, ctx);
      } catch (e) {
        this.deps.onError({ source: 'handler', message: errorText(e), shardId: ctx.shardId });
        throw e;
      }
      this.counter(workerId, ctx.shardId).meter.add(records.length);
    };
  }

  private counter(workerId: string, shardId: string): Counter {
    const k = `${workerId}\u0000${shardId}`;
    let c = this.counters.get(k);
    if (!c) {
      c = { meter: new RateMeter() };
      this.counters.set(k, c);
    }
    return c;
  }

  /** Starts every worker (they check the stream and create the lease table if needed). */
  async start(): Promise<void> {
    // One at a time: the first creates the lease table and the leases; the others then find them.
    for (const w of this.workers) await w.start();
    this.started = true;
  }

  /** Graceful stop of every worker: in-flight batches finish and leases are released. */
  async stop(): Promise<void> {
    this.started = false;
    await Promise.allSettled(this.workers.map((w) => w.stop()));
  }

  /**
   * Every shard's lease as it is now (one worker's `assignments()`: a fresh consistent scan of the lease table),
   * with lag, checkpoint age and stall state from whichever of this process's workers holds the shard.
   */
  async leases(): Promise<Map<string, ShardLease>> {
    const out = new Map<string, ShardLease>();
    const reader = this.workers[0];
    if (!this.started || !reader) return out;
    // Each call scans the lease table (read capacity on a real account): reuse a scan for a couple of seconds.
    if (!this.scan || Date.now() - this.scan.at >= LEASE_SCAN_REUSE_MS) {
      this.scan = { at: Date.now(), rows: await reader.assignments() };
    }
    for (const a of this.scan.rows) {
      const v: ShardLease = {
        shardId: a.shardId,
        status: a.status,
        checkpoint: a.checkpoint.sequenceNumber,
        leaseCounter: a.leaseCounter,
      };
      if (a.owner) v.owner = a.owner;
      out.set(a.shardId, v);
    }
    // Shards held here: the holder's own checkpoint and ownership are newer than the (reused) scan.
    for (const w of this.workers) {
      for (const h of w.heldLeases()) {
        const v = out.get(h.shardId);
        if (!v || v.status === 'ended') continue;
        v.owner = w.workerId;
        v.status = 'owned';
        v.checkpoint = h.checkpoint.sequenceNumber;
        v.leaseCounter = Math.max(v.leaseCounter, h.leaseCounter);
      }
    }
    for (const w of this.workers) {
      for (const s of w.stats().shards) {
        const v = out.get(s.shardId);
        if (!s.held || !v || v.owner !== w.workerId) continue;
        if (s.millisBehindLatest !== undefined) v.millisBehindLatest = s.millisBehindLatest;
        if (s.checkpointAgeMs !== undefined) v.checkpointAgeMs = s.checkpointAgeMs;
        v.stalled = s.stalled;
      }
    }
    return out;
  }

  /** Records/s and totals per shard, summed over workers. */
  shardRates(): Map<string, { perSecond: number; total: number }> {
    const out = new Map<string, { perSecond: number; total: number }>();
    for (const [k, c] of this.counters) {
      const shardId = k.split('\u0000')[1]!;
      const prev = out.get(shardId) ?? { perSecond: 0, total: 0 };
      out.set(shardId, {
        perSecond: prev.perSecond + c.meter.perSecond(),
        total: prev.total + c.meter.total,
      });
    }
    return out;
  }

  /** Each worker with the shards it holds and what it processed. */
  workerViews(): { workerId: string; shardIds: string[]; perSecond: number; total: number }[] {
    return this.workers.map((w) => {
      let perSecond = 0;
      let total = 0;
      for (const [k, c] of this.counters) {
        if (k.startsWith(`${w.workerId}\u0000`)) {
          perSecond += c.meter.perSecond();
          total += c.meter.total;
        }
      }
      return { workerId: w.workerId, shardIds: w.heldLeases().map((h) => h.shardId), perSecond, total };
    });
  }
}

/** A short, secret-free description of an error for the dashboard. */
export function errorText(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: string }).code;
    return `${code && !e.message.includes(code) ? `${code}: ` : ''}${e.message}`.slice(0, 300);
  }
  return String(e).slice(0, 300);
}
