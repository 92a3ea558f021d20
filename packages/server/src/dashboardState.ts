import { DescribeStreamSummaryCommand, type KinesisClient, type Shard } from '@aws-sdk/client-kinesis';
import { toAwskitError } from '@awskit/core';
import { listShards } from '@awskit/kinesis-aggregation';
import type { KinesisProducer } from '@awskit/kinesis-producer';
import type { ConsumerPool, ShardLease } from './consumers.js';
import type { RateMeter } from './rate.js';
import type {
  DashboardState,
  ErrorView,
  ShardView,
  StreamView,
  ThroughputSample,
  WorkerView,
} from './types.js';

/** What the server tracks per ingest stream. */
export interface IngestStream {
  name: string;
  producer: KinesisProducer;
  maxBufferedBytes: number;
  meter: RateMeter;
  rejected: number;
  failed: number;
}

interface ShardCache {
  at: number;
  shards: Shard[];
  status?: string;
  retentionHours?: number;
  error?: string;
}

const SHARD_CACHE_MS = 2_000;
const RECENT_ERRORS = 20;
const STATE_REUSE_MS = 250;
/** Samples kept for the throughput chart (two minutes at the default one-second dashboard interval). */
export const THROUGHPUT_SAMPLES = 120;

/** Builds the dashboard's view: ListShards (cached briefly) joined with the consumers' leases and counters. */
export class DashboardStateBuilder {
  private readonly cache = new Map<string, ShardCache>();
  private readonly loading = new Map<string, Promise<ShardCache>>();
  private readonly recent: ErrorView[] = [];
  private errorsTotal = 0;
  private readonly started = Date.now();
  private building: Promise<DashboardState> | undefined;
  private last: { at: number; state: DashboardState } | undefined;
  private readonly samples: ThroughputSample[] = [];

  constructor(
    private readonly deps: {
      kinesis: KinesisClient;
      streams: Map<string, IngestStream>;
      pools: ConsumerPool[];
      version: string;
      target: DashboardState['target'];
    },
  ) {}

  /**
   * Takes one throughput sample (local counters only, no AWS call). The server calls it once per dashboard
   * interval from its start, whether or not a dashboard is open, so the chart has a history on first load.
   */
  sample(): ThroughputSample {
    let ingest = 0;
    for (const s of this.deps.streams.values()) ingest += s.meter.perSecond();
    let consumed = 0;
    for (const pool of this.deps.pools) for (const w of pool.workerViews()) consumed += w.perSecond;
    const sample = { time: Date.now(), in: ingest, out: consumed };
    this.samples.push(sample);
    if (this.samples.length > THROUGHPUT_SAMPLES) this.samples.shift();
    return sample;
  }

  /** The latest state built, if it is younger than `maxAgeMs` (what the dashboard page is served with). */
  lastState(maxAgeMs: number): DashboardState | undefined {
    return this.last && Date.now() - this.last.at <= maxAgeMs
      ? { ...this.last.state, throughput: [...this.samples] }
      : undefined;
  }

  /** Records an error for the dashboard's error list. */
  addError(e: Omit<ErrorView, 'time'>): void {
    this.errorsTotal++;
    this.recent.unshift({ time: new Date().toISOString(), ...e });
    if (this.recent.length > RECENT_ERRORS) this.recent.length = RECENT_ERRORS;
  }

  private async loadShards(stream: string): Promise<ShardCache> {
    const cached = this.cache.get(stream);
    if (cached && Date.now() - cached.at < SHARD_CACHE_MS) return cached;
    let p = this.loading.get(stream);
    if (!p) {
      p = (async (): Promise<ShardCache> => {
        const entry: ShardCache = { at: Date.now(), shards: [] };
        try {
          const summary = await this.deps.kinesis.send(
            new DescribeStreamSummaryCommand({ StreamName: stream }),
          );
          entry.status = summary.StreamDescriptionSummary?.StreamStatus;
          entry.retentionHours = summary.StreamDescriptionSummary?.RetentionPeriodHours;
          entry.shards = await listShards(this.deps.kinesis, { streamName: stream });
        } catch (e) {
          entry.error = toAwskitError(e, { service: 'kinesis', resource: stream }).message;
        }
        this.cache.set(stream, entry);
        return entry;
      })().finally(() => this.loading.delete(stream));
      this.loading.set(stream, p);
    }
    // A stale view beats waiting on a slow ListShards when we have one.
    return cached ?? p;
  }

  /**
   * The current state of every stream, worker and recent error. Concurrent callers (SSE tick, `/api/state`) share
   * one build, and a build younger than {@link STATE_REUSE_MS} is reused: each build scans the lease table.
   */
  build(): Promise<DashboardState> {
    if (this.building) return this.building;
    if (this.last && Date.now() - this.last.at < STATE_REUSE_MS) return Promise.resolve(this.last.state);
    this.building = this.buildNow()
      .then((state) => {
        this.last = { at: Date.now(), state };
        return state;
      })
      .finally(() => {
        this.building = undefined;
      });
    return this.building;
  }

  private async buildNow(): Promise<DashboardState> {
    const names = new Set<string>([...this.deps.streams.keys(), ...this.deps.pools.map((p) => p.stream)]);
    const streams: StreamView[] = [];
    for (const name of names) {
      const pool = this.deps.pools.find((p) => p.stream === name);
      const ingest = this.deps.streams.get(name);
      const cache = await this.loadShards(name);
      let leases = new Map<string, ShardLease>();
      let leaseError: string | undefined;
      try {
        if (pool) leases = await pool.leases();
      } catch (e) {
        leaseError = toAwskitError(e, { service: 'dynamodb' }).message;
      }
      const rates = pool?.shardRates() ?? new Map();
      const shards: ShardView[] = cache.shards.map((s) => {
        const id = s.ShardId!;
        const lease = leases.get(id);
        const rate = rates.get(id);
        const v: ShardView = {
          shardId: id,
          open: !s.SequenceNumberRange?.EndingSequenceNumber,
          recordsPerSecond: rate?.perSecond ?? 0,
          recordsProcessed: rate?.total ?? 0,
        };
        if (s.ParentShardId) v.parentShardId = s.ParentShardId;
        if (s.AdjacentParentShardId) v.adjacentParentShardId = s.AdjacentParentShardId;
        if (lease) {
          v.leaseStatus = lease.status;
          v.checkpoint = lease.checkpoint;
          if (lease.owner) v.owner = lease.owner;
          if (lease.millisBehindLatest !== undefined) v.lagMs = lease.millisBehindLatest;
          if (lease.checkpointAgeMs !== undefined) v.checkpointAgeMs = lease.checkpointAgeMs;
          if (lease.stalled) v.stalled = true;
        }
        return v;
      });
      const view: StreamView = {
        name,
        shards,
        consumed: !!pool,
        ingest: {
          recordsTotal: ingest?.meter.total ?? 0,
          recordsPerSecond: ingest?.meter.perSecond() ?? 0,
          rejectedTotal: ingest?.rejected ?? 0,
          failedTotal: ingest?.failed ?? 0,
          bufferedBytes: ingest?.producer.bufferedBytes ?? 0,
          maxBufferedBytes: ingest?.maxBufferedBytes ?? 0,
        },
      };
      if (cache.status) view.status = cache.status;
      if (cache.retentionHours !== undefined) view.retentionHours = cache.retentionHours;
      if (cache.error ?? leaseError) view.error = (cache.error ?? leaseError)!;
      streams.push(view);
    }
    const workers: WorkerView[] = [];
    for (const pool of this.deps.pools)
      for (const w of pool.workerViews())
        workers.push({
          workerId: w.workerId,
          stream: pool.stream,
          shardIds: w.shardIds,
          recordsPerSecond: w.perSecond,
          recordsProcessed: w.total,
        });
    return {
      time: new Date().toISOString(),
      uptimeMs: Date.now() - this.started,
      version: this.deps.version,
      target: this.deps.target,
      streams,
      workers,
      errors: { total: this.errorsTotal, recent: [...this.recent] },
      throughput: [...this.samples],
    };
  }
}
