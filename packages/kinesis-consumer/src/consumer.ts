import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeStreamSummaryCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import {
  backoffDelay,
  type Clock,
  createClient,
  type Logger,
  type Metrics,
  noopLogger,
  noopMetrics,
  sleep,
} from '@awskit/core';
import { addProbedLag, buildAssignments, type LocalShardInfo, type ShardAssignment } from './assignments.js';
import { efoFetcherFactory } from './efoFetcher.js';
import {
  ConsumerAccessDeniedError,
  ConsumerOptionsError,
  ConsumerStateError,
  isKinesisConsumerError,
  KinesisConsumerErrorCode,
  StreamNotFoundError,
} from './errors.js';
import { type HeldLease, LeaseCoordinator } from './leaseCoordinator.js';
import { emptyCost, LeaseTable, type LeaseTableCost } from './leaseTable.js';
import { isFinished } from './leaseTaker.js';
import {
  type ConsumedStream,
  parseMultiStreamLeaseKey,
  parseStreamArn,
  resolveStreams,
  validateStreams,
} from './multiStream.js';
import { pollingFetcherFactory } from './pollingFetcher.js';
import { type ResolvedProcessor, ShardConsumer } from './shardConsumer.js';
import { computeLeasesToCreate, listAllShards } from './shardSync.js';
import { type ConsumerStats, ConsumerStatsTracker, type StallInfo } from './stats.js';
import type {
  FetcherFactory,
  HeldLeaseInfo,
  InitialPosition,
  KinesisConsumerOptions,
  Lease,
  LeaseMode,
  LeaseView,
  ProcessorStream,
} from './types.js';
import { WorkerRegistry } from './workerRegistry.js';

/** Defaults of every tuning option, in one place. Aim: failover within ~5 s at defaults. */
/** The KCL 2.x's lease renewal interval at its default failover time (10 s): `failoverTimeMillis / 3 − epsilonMillis` (25 ms). */
export const KCL_RENEW_INTERVAL_MS = 3_308;

export const CONSUMER_DEFAULTS = {
  initialPosition: 'LATEST' as InitialPosition,
  leaseDurationMs: 3_000,
  foreignLeaseDurationMs: 10_000,
  shutdownTimeoutMs: 30_000,
  takeIntervalMs: 1_000,
  shardSyncIntervalMs: 60_000,
  maxLeasesForWorker: Number.POSITIVE_INFINITY,
  balance: true,
  gracefulHandoffTimeoutMs: 10_000,
  handlerBackoff: { baseMs: 100, capMs: 10_000 },
  dropRecordsOutsideHashRange: true,
  checkpointIntervalMs: 5_000,
  startAttempts: 20,
  leaseMode: 'worker-liveness' as LeaseMode,
  leaseScanIntervalMs: 20_000,
} as const;

/** SDK error names that no retry of a start-up call can fix. */
const PERMANENT_START_ERRORS = new Set([
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'ExpiredTokenException',
  'ValidationException',
  'InvalidArgumentException',
  'CredentialsProviderError',
]);

/** Whether a failed start-up step may succeed when tried again (a throttle, a 5xx, a reset or timeout). */
function isTransientStartError(e: unknown): boolean {
  if (
    isKinesisConsumerError(e, KinesisConsumerErrorCode.StreamNotFound) ||
    isKinesisConsumerError(e, KinesisConsumerErrorCode.AccessDenied) ||
    isKinesisConsumerError(e, KinesisConsumerErrorCode.InvalidOptions) ||
    isKinesisConsumerError(e, KinesisConsumerErrorCode.NotRunning)
  )
    return false;
  for (let c: unknown = e, depth = 0; c && depth < 5; c = (c as { cause?: unknown }).cause, depth++)
    if (PERMANENT_START_ERRORS.has((c as { name?: string }).name ?? '')) return false;
  return true;
}

/**
 * Inactivity limit of the Kinesis calls the consumer makes itself: a GetRecords answers in well under a second and
 * an enhanced fan-out subscription sends an event at least every few seconds.
 */
const KINESIS_SILENCE_LIMIT_MS = 30_000;

/** A monotonic clock: lease expiry must not jump with wall-clock adjustments. */
const monotonicClock: Clock = { now: () => performance.now() };

/**
 * Events of {@link KinesisConsumer}. In multi-stream mode (`streams`) every shard event also names the shard's
 * stream (`streamName`); with one stream it is not passed.
 */
export interface KinesisConsumerEvents {
  leaseAcquired: [shardId: string, streamName?: string];
  leaseLost: [shardId: string, streamName?: string];
  /** This worker gave a lease up: `stop()`, a graceful hand-off to another worker, or a shard it failed to read. */
  leaseReleased: [shardId: string, streamName?: string];
  shardEnded: [shardId: string, childShardIds: string[], streamName?: string];
  /** A problem that did not stop the worker (a shard read failed, a sync failed). Logged when nobody listens. */
  error: [error: unknown, shardId?: string, streamName?: string];
  /** A held shard's checkpoint has not moved for `stallThresholdMs` while records wait (once per episode). */
  shardStalled: [info: StallInfo];
}

function validate(o: KinesisConsumerOptions): void {
  const problems: { path: string; message: string }[] = [];
  const bad = (path: string, message: string) => problems.push({ path, message });
  if (!o || typeof o !== 'object')
    throw new ConsumerOptionsError([{ path: '', message: 'options are required' }]);
  const isPosition = (ip: unknown) =>
    ip === 'LATEST' ||
    ip === 'TRIM_HORIZON' ||
    (!!ip &&
      typeof ip === 'object' &&
      (ip as { timestamp?: unknown }).timestamp instanceof Date &&
      !Number.isNaN((ip as { timestamp: Date }).timestamp.getTime()));
  if (o.streams !== undefined) {
    // Multi-stream mode: `streams` replaces streamName/streamARN.
    if (o.streamName || o.streamARN)
      bad('streams', 'set streams (several streams) or streamName/streamARN (one stream), not both');
    validateStreams(o.streams, bad, isPosition);
    if (o.efo?.consumerARN)
      bad(
        'efo.consumerARN',
        'a consumer ARN belongs to one stream: with streams, set consumerName (registered per stream)',
      );
  } else {
    if (!o.streamName && !o.streamARN)
      bad('streamName', 'set streamName or streamARN (or streams for several)');
    if (o.streamName && o.streamARN) bad('streamARN', 'set streamName or streamARN, not both');
  }
  if (!o.applicationName || typeof o.applicationName !== 'string') bad('applicationName', 'required');
  else if (!/^[a-zA-Z0-9_.-]{3,255}$/.test(o.tableName ?? o.applicationName))
    bad(
      o.tableName ? 'tableName' : 'applicationName',
      'must be a valid DynamoDB table name ([a-zA-Z0-9_.-]{3,255})',
    );
  const p = o.processor as unknown;
  if (
    typeof p !== 'function' &&
    !(p && typeof p === 'object' && ('processRecords' in p || 'createProcessor' in p))
  )
    bad('processor', 'a batch handler function, a RecordProcessor or a RecordProcessorFactory');
  if (o.initialPosition !== undefined && !isPosition(o.initialPosition))
    bad('initialPosition', "'LATEST', 'TRIM_HORIZON' or { timestamp: Date }");
  const positive = (path: string, v: unknown) => {
    if (v !== undefined && (typeof v !== 'number' || !(v > 0))) bad(path, 'must be a positive number');
  };
  positive('leaseDurationMs', o.leaseDurationMs);
  positive('foreignLeaseDurationMs', o.foreignLeaseDurationMs);
  positive('shutdownTimeoutMs', o.shutdownTimeoutMs);
  if (o.startAttempts !== undefined && !(Number.isInteger(o.startAttempts) && o.startAttempts >= 1))
    bad('startAttempts', 'must be a whole number ≥ 1');
  positive('renewIntervalMs', o.renewIntervalMs);
  positive('takeIntervalMs', o.takeIntervalMs);
  positive('shardSyncIntervalMs', o.shardSyncIntervalMs);
  positive('maxLeasesForWorker', o.maxLeasesForWorker);
  if (
    o.gracefulHandoffTimeoutMs !== undefined &&
    (typeof o.gracefulHandoffTimeoutMs !== 'number' || !(o.gracefulHandoffTimeoutMs >= 0))
  )
    bad('gracefulHandoffTimeoutMs', 'must be 0 (off) or a positive number');
  if (
    o.checkpointIntervalMs !== undefined &&
    (typeof o.checkpointIntervalMs !== 'number' || !(o.checkpointIntervalMs >= 0))
  )
    bad('checkpointIntervalMs', 'must be 0 (every batch) or a positive number');
  positive('stallThresholdMs', o.stallThresholdMs);
  if (o.mode !== undefined && o.mode !== 'polling' && o.mode !== 'efo') bad('mode', "'polling' or 'efo'");
  if (o.leaseMode !== undefined && o.leaseMode !== 'counter' && o.leaseMode !== 'worker-liveness')
    bad('leaseMode', "'counter' or 'worker-liveness'");
  positive('leaseScanIntervalMs', o.leaseScanIntervalMs);
  const lease = o.leaseDurationMs ?? CONSUMER_DEFAULTS.leaseDurationMs;
  if (o.renewIntervalMs !== undefined && o.renewIntervalMs >= lease)
    bad('renewIntervalMs', 'must be shorter than leaseDurationMs (a third of it is typical)');
  if (
    o.polling?.maxRecordsPerFetch !== undefined &&
    !(o.polling.maxRecordsPerFetch >= 1 && o.polling.maxRecordsPerFetch <= 10_000)
  )
    bad('polling.maxRecordsPerFetch', 'must be 1–10000');
  if (o.polling?.maxPrefetchBatches !== undefined && !(o.polling.maxPrefetchBatches >= 1))
    bad('polling.maxPrefetchBatches', 'must be ≥ 1');
  if (problems.length) throw new ConsumerOptionsError(problems);
}

function resolveProcessor(
  o: KinesisConsumerOptions,
  shardId: string,
  stream: ProcessorStream,
): ResolvedProcessor {
  const p = o.processor;
  if (typeof p === 'function') return { kind: 'batch', handler: p };
  if ('createProcessor' in p) return { kind: 'kcl', processor: p.createProcessor(shardId, stream) };
  return { kind: 'kcl', processor: p };
}

/**
 * A Kinesis consumer with KCL-compatible DynamoDB leases: several workers (processes or hosts) share a stream's
 * shards, fail over within about one lease duration, follow splits and merges, and checkpoint after processing
 * (at-least-once).
 *
 * @example
 * const consumer = new KinesisConsumer({
 *   streamName: 'orders', applicationName: 'orders-indexer', initialPosition: 'TRIM_HORIZON',
 *   processor: async (records) => { for (const r of records) await index(r) },
 * });
 * await consumer.start();
 * process.on('SIGTERM', () => consumer.stop());
 */
export class KinesisConsumer extends EventEmitter<KinesisConsumerEvents> {
  /** This worker's id (the `leaseOwner` it writes). */
  readonly workerId: string;
  /** The lease table's name. */
  readonly tableName: string;
  private readonly o: KinesisConsumerOptions;
  private readonly logger: Logger;
  private readonly metrics: Metrics;
  private readonly statsTracker: ConsumerStatsTracker;
  private readonly fetcherFactory: FetcherFactory;
  private readonly sleepFn: (ms: number, signal?: AbortSignal) => Promise<void>;
  private state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
  private kinesis?: KinesisClient;
  private table?: LeaseTable;
  private coordinator?: LeaseCoordinator;
  private readonly consumers = new Map<string, ShardConsumer>();
  private readonly syncAbort = new AbortController();
  private syncLoop?: Promise<void>;
  private stopping?: Promise<void>;
  /** Multi-stream mode: the streams, resolved at start (by stream identifier `account:stream:creationEpoch`). */
  private streams?: Map<string, ConsumedStream>;

  /** @throws {ConsumerOptionsError} listing every invalid option. */
  constructor(options: KinesisConsumerOptions) {
    super();
    validate(options);
    this.o = options;
    this.workerId =
      options.workerId ?? `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
    this.tableName = options.tableName ?? options.applicationName;
    this.logger = options.logger ?? noopLogger;
    // Every metric goes through the stats tracker (stats(), stall detection, toPrometheus()) to the user's metrics.
    this.statsTracker = new ConsumerStatsTracker({
      workerId: this.workerId,
      clock: options.clock ?? monotonicClock,
      downstream: options.metrics ?? noopMetrics,
      logger: this.logger,
      stallThresholdMs: options.stallThresholdMs,
      heldShards: () => [...(this.coordinator?.held.keys() ?? [])],
      onStall: (info) => this.emit('shardStalled', info),
    });
    this.metrics = this.statsTracker;
    // One factory per consumer: EFO registers the stream consumer once for all shards.
    const efo = () =>
      efoFetcherFactory({ ...options.efo, consumerName: options.consumerName ?? options.applicationName });
    this.fetcherFactory = this.statsTracker.wrapFetcherFactory(
      options.fetcherFactory ??
        (options.mode === 'efo'
          ? options.streams
            ? perStreamFactory(efo)
            : efo()
          : pollingFetcherFactory(options.polling)),
    );
    this.sleepFn = options.sleep ?? sleep;
  }

  private report(error: unknown, shardId?: string): void {
    if (this.listenerCount('error') > 0)
      this.emit('error', error, ...(shardId === undefined ? [] : this.names(shardId)));
    else this.logger.error('consumer error', { shardId, error: String(error) });
  }

  /** Event arguments for a lease key: `[shardId]`, or `[shardId, streamName]` in multi-stream mode. */
  private names(leaseKey: string): [shardId: string, streamName?: string] {
    const m = this.streams ? parseMultiStreamLeaseKey(leaseKey) : undefined;
    return m ? [m.shardId, m.streamName] : [leaseKey];
  }

  /** Multi-stream mode: the configured stream a lease key belongs to. */
  private streamOf(leaseKey: string): ConsumedStream | undefined {
    const m = parseMultiStreamLeaseKey(leaseKey);
    return m ? this.streams?.get(m.streamIdentifier) : undefined;
  }

  /**
   * Checks the stream, creates the lease table if missing (on-demand billing), creates leases for shards without
   * one, and starts taking leases and processing.
   * @throws {StreamNotFoundError} @throws {ConsumerAccessDeniedError} @throws {LeaseTableError}
   */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new ConsumerStateError(`start() called while ${this.state}`);
    this.state = 'starting';
    try {
      const o = this.o;
      const leaseMs = o.leaseDurationMs ?? CONSUMER_DEFAULTS.leaseDurationMs;
      // No call may hang forever: a stuck lease write would hold every later write of that lease behind it.
      this.kinesis =
        o.kinesisClient ??
        (await createClient(KinesisClient, {
          requestTimeoutMs: KINESIS_SILENCE_LIMIT_MS,
          connectionTimeoutMs: 5_000,
          ...o.clientOptions,
          service: 'kinesis',
        }));
      const dynamo =
        o.dynamoClient ??
        (await createClient(DynamoDBClient, {
          requestTimeoutMs: Math.max(2_000, leaseMs),
          connectionTimeoutMs: 3_000,
          ...o.clientOptions,
          service: 'dynamodb',
        }));
      const stream = o.streams
        ? o.streams.map((s) => (typeof s === 'string' ? s : (s.streamARN ?? s.streamName!))).join(', ')
        : (o.streamARN ?? o.streamName!);
      const kinesis = this.kinesis;
      const table = new LeaseTable({
        client: dynamo,
        tableName: this.tableName,
        sleep: this.sleepFn,
        onCall: (operation, units) => {
          const labels = { worker: this.workerId, operation };
          this.metrics.increment('kinesis_consumer_lease_table_calls_total', 1, labels);
          if (units)
            this.metrics.increment('kinesis_consumer_lease_table_capacity_units_total', units, labels);
        },
      });
      this.table = table;
      const leaseMode = o.leaseMode ?? CONSUMER_DEFAULTS.leaseMode;
      const registry = new WorkerRegistry({ client: dynamo, leaseTable: table, sleep: this.sleepFn });
      // Worker-liveness: the worker table is created alongside the lease table, not after it (on AWS each new table
      // takes seconds to become ACTIVE), once the streams are known to exist (a typo creates no tables). Awaited
      // below; handled here so a failed lease-table step leaves no unhandled rejection behind.
      let workerTable: Promise<void> | undefined;
      await this.retryStart(async () => {
        await this.describeStreams(kinesis);
        if (leaseMode === 'worker-liveness' && !workerTable) {
          workerTable = this.retryStart(() => registry.ensureTable());
          workerTable.catch(() => undefined);
        }
        await table.ensureTable();
        await this.syncShards();
      });
      await workerTable;
      if (this.stopping) throw new ConsumerStateError('stop() was called while start() was running');
      const leaseDurationMs = o.leaseDurationMs ?? CONSUMER_DEFAULTS.leaseDurationMs;
      this.coordinator = new LeaseCoordinator({
        leaseMode,
        registry,
        leaseScanIntervalMs: o.leaseScanIntervalMs ?? CONSUMER_DEFAULTS.leaseScanIntervalMs,
        table,
        workerId: this.workerId,
        clock: o.clock ?? monotonicClock,
        sleep: this.sleepFn,
        leaseDurationMs,
        foreignLeaseDurationMs: o.foreignLeaseDurationMs ?? CONSUMER_DEFAULTS.foreignLeaseDurationMs,
        isBusy: (shardId) => this.consumers.has(shardId),
        ...(this.streams ? { isOwnLeaseKey: (key: string) => this.streamOf(key) !== undefined } : {}),
        renewIntervalMs: o.renewIntervalMs ?? Math.max(1, Math.floor(leaseDurationMs / 3)),
        ...((o.stretchHeartbeat ?? (o.leaseDurationMs === undefined && o.renewIntervalMs === undefined))
          ? { stretchHeartbeatToMs: KCL_RENEW_INTERVAL_MS }
          : {}),
        takeIntervalMs: o.takeIntervalMs ?? CONSUMER_DEFAULTS.takeIntervalMs,
        maxLeasesForWorker: o.maxLeasesForWorker ?? CONSUMER_DEFAULTS.maxLeasesForWorker,
        balance: o.balance ?? CONSUMER_DEFAULTS.balance,
        handoffTimeoutMs: o.gracefulHandoffTimeoutMs ?? CONSUMER_DEFAULTS.gracefulHandoffTimeoutMs,
        onHandoffRequested: (held) => this.handOver(held),
        onReleased: (held) => this.emit('leaseReleased', ...this.names(held.shardId)),
        logger: this.logger,
        metrics: this.metrics,
        onAcquired: (held) => this.startShard(held),
        onLost: (held) => {
          this.emit('leaseLost', ...this.names(held.shardId));
        },
      });
      const coordinator = this.coordinator;
      await this.retryStart(() => coordinator.init());
      if (this.stopping) throw new ConsumerStateError('stop() was called while start() was running');
      this.coordinator.start();
      this.statsTracker.start();
      this.syncLoop = this.runSyncLoop();
      this.state = 'running';
      this.logger.info('consumer started', { workerId: this.workerId, table: this.tableName, stream });
    } catch (e) {
      this.state = 'stopped';
      throw e;
    }
  }

  /**
   * Runs the start-up calls, again after a transient failure (with backoff, up to `startAttempts` tries) like the
   * KCL's initialization; `stop()` ends the tries.
   */
  private async retryStart(steps: () => Promise<void>): Promise<void> {
    const attempts = this.o.startAttempts ?? CONSUMER_DEFAULTS.startAttempts;
    for (let attempt = 1; ; attempt++) {
      if (this.stopping) throw new ConsumerStateError('stop() was called while start() was running');
      try {
        await steps();
        return;
      } catch (e) {
        if (this.stopping) throw new ConsumerStateError('stop() was called while start() was running');
        if (attempt >= attempts || !isTransientStartError(e)) throw e;
        const delayMs = backoffDelay(attempt - 1, { baseMs: 250, capMs: 5_000 });
        this.logger.warn('consumer start-up failed; retrying', {
          attempt,
          of: attempts,
          delayMs,
          error: String(e),
        });
        await this.sleepFn(delayMs, this.syncAbort.signal).catch(() => undefined);
      }
    }
  }

  /**
   * Checks the stream exists; in multi-stream mode resolves every stream (ARN, account, creation epoch).
   * @throws {StreamNotFoundError} @throws {ConsumerAccessDeniedError}
   */
  private async describeStreams(kinesis: KinesisClient): Promise<void> {
    const o = this.o;
    if (o.streams) {
      this.streams = new Map((await resolveStreams(kinesis, o.streams)).map((c) => [c.identifier, c]));
      return;
    }
    const stream = o.streamARN ?? o.streamName!;
    try {
      await kinesis.send(
        new DescribeStreamSummaryCommand(
          o.streamARN ? { StreamARN: o.streamARN } : { StreamName: o.streamName },
        ),
      );
    } catch (e) {
      const name = (e as { name?: string }).name;
      if (name === 'ResourceNotFoundException') throw new StreamNotFoundError(stream, e);
      if (name === 'AccessDeniedException')
        throw new ConsumerAccessDeniedError('kinesis:DescribeStreamSummary', stream, e);
      throw e;
    }
  }

  /** Another worker asked for a lease: finish up and release it (see `gracefulHandoffTimeoutMs`). */
  private handOver(held: HeldLease): void {
    const o = this.o;
    // Do not take it straight back: it is meant for the worker that asked.
    this.coordinator!.avoid(
      held.shardId,
      Math.max(
        o.leaseDurationMs ?? CONSUMER_DEFAULTS.leaseDurationMs,
        3 * (o.takeIntervalMs ?? CONSUMER_DEFAULTS.takeIntervalMs),
      ),
    );
    const sc = this.consumers.get(held.shardId);
    if (sc) sc.requestShutdown();
    else void this.coordinator!.release(held);
  }

  private startShard(held: HeldLease): void {
    const o = this.o;
    const multi = this.streams ? this.streamOf(held.shardId) : undefined;
    if (this.streams && !multi) {
      // Not one of ours (the coordinator only takes our streams' leases): give it back at once.
      void this.coordinator!.release(held);
      return;
    }
    const stream = multi ? multi.ref : { streamName: o.streamName, streamARN: o.streamARN };
    const processorStream: ProcessorStream = multi
      ? {
          streamName: multi.streamName,
          streamARN: multi.streamARN,
          accountId: multi.accountId,
          creationEpoch: multi.creationEpoch,
          streamIdentifier: multi.identifier,
          leaseKey: held.shardId,
        }
      : {
          streamName: o.streamName ?? parseStreamArn(o.streamARN ?? '')?.streamName ?? o.streamARN ?? '',
          ...(o.streamARN ? { streamARN: o.streamARN } : {}),
          leaseKey: held.shardId,
        };
    const sc = new ShardConsumer({
      held,
      coordinator: this.coordinator!,
      table: this.table!,
      kinesis: this.kinesis!,
      stream,
      ...(multi ? { streamIdentifier: multi.identifier, streamName: multi.streamName } : {}),
      processor: resolveProcessor(
        o,
        multi ? held.shardId.slice(multi.identifier.length + 1) : held.shardId,
        processorStream,
      ),
      fetcherFactory: this.fetcherFactory,
      initialPosition: multi?.initialPosition ?? o.initialPosition ?? CONSUMER_DEFAULTS.initialPosition,
      handlerBackoff: { ...CONSUMER_DEFAULTS.handlerBackoff, ...o.handlerBackoff },
      onError: o.onError,
      onBadRecord: o.onBadRecord,
      dropRecordsOutsideHashRange:
        o.dropRecordsOutsideHashRange ?? CONSUMER_DEFAULTS.dropRecordsOutsideHashRange,
      logger: this.logger,
      metrics: this.metrics,
      sleep: this.sleepFn,
      report: (e, shardId) => this.report(e, shardId),
      failureCooldownMs: Math.max(5_000, o.leaseDurationMs ?? CONSUMER_DEFAULTS.leaseDurationMs),
      checkpointIntervalMs: o.checkpointIntervalMs ?? CONSUMER_DEFAULTS.checkpointIntervalMs,
      onShardEnded: (key, children) => {
        const [shardId, streamName] = this.names(key);
        if (streamName === undefined) this.emit('shardEnded', shardId, children);
        else this.emit('shardEnded', shardId, children, streamName);
      },
    });
    this.consumers.set(held.shardId, sc);
    void sc.done.finally(() => {
      if (this.consumers.get(held.shardId) === sc) this.consumers.delete(held.shardId);
    });
    this.emit('leaseAcquired', ...this.names(held.shardId));
  }

  /**
   * The leases a shard sync compares with the stream: the take cycle's last scan when it is recent (no second scan),
   * else an eventually consistent scan (half the price). Both are fine: creates and deletes are conditional writes.
   */
  private async leasesForSync(): Promise<Lease[]> {
    const every = this.o.shardSyncIntervalMs ?? CONSUMER_DEFAULTS.shardSyncIntervalMs;
    return this.coordinator?.recentScan(every) ?? (await this.table!.listLeases({ consistent: false }));
  }

  /** Creates leases for shards that have none (see `computeLeasesToCreate`). @returns leases created. */
  async syncShards(): Promise<number> {
    if (this.streams) return this.syncStreams(this.streams);
    const table = this.table!;
    const shards = await listAllShards(this.kinesis!, {
      streamName: this.o.streamName,
      streamARN: this.o.streamARN,
    });
    const leases = await this.leasesForSync();
    const toCreate = computeLeasesToCreate(
      shards,
      new Set(leases.map((l) => l.leaseKey)),
      this.o.initialPosition ?? CONSUMER_DEFAULTS.initialPosition,
    );
    let created = 0;
    for (const l of toCreate) if (await table.createLeaseIfNotExists(l)) created++;
    // Finished leases of shards that left the stream's retention are no longer needed by anyone.
    const live = new Set(shards.map((s) => s.ShardId));
    for (const l of leases)
      if (isFinished(l) && !live.has(l.leaseKey) && /^shardId-/.test(l.leaseKey))
        await table.deleteLease(l.leaseKey, l.leaseCounter);
    if (created) this.logger.info('created leases for new shards', { count: created });
    return created;
  }

  /**
   * Multi-stream mode: {@link syncShards} for every stream against one scan of the table. A stream whose listing
   * fails does not hold the others back; the first failure is thrown after all were tried.
   */
  private async syncStreams(streams: Map<string, ConsumedStream>): Promise<number> {
    const table = this.table!;
    const leases = await this.leasesForSync();
    const keys = new Set(leases.map((l) => l.leaseKey));
    let created = 0;
    let failure: unknown;
    for (const c of streams.values()) {
      try {
        const shards = await listAllShards(this.kinesis!, c.ref);
        const toCreate = computeLeasesToCreate(
          shards,
          keys,
          c.initialPosition ?? this.o.initialPosition ?? CONSUMER_DEFAULTS.initialPosition,
          c.identifier,
        );
        let n = 0;
        for (const l of toCreate) if (await table.createLeaseIfNotExists(l)) n++;
        // Finished leases of this stream's shards that left its retention are no longer needed by anyone.
        const live = new Set(shards.map((s) => s.ShardId));
        for (const l of leases) {
          const m = parseMultiStreamLeaseKey(l.leaseKey);
          if (isFinished(l) && m?.streamIdentifier === c.identifier && !live.has(m.shardId))
            await table.deleteLease(l.leaseKey, l.leaseCounter);
        }
        if (n) this.logger.info('created leases for new shards', { stream: c.streamName, count: n });
        created += n;
      } catch (e) {
        failure ??= e;
      }
    }
    if (failure !== undefined) throw failure;
    return created;
  }

  private async runSyncLoop(): Promise<void> {
    const signal = this.syncAbort.signal;
    const every = this.o.shardSyncIntervalMs ?? CONSUMER_DEFAULTS.shardSyncIntervalMs;
    while (!signal.aborted) {
      try {
        await this.sleepFn(every, signal);
      } catch {
        break;
      }
      // Worker-liveness mode: one worker of the fleet syncs (see isShardSyncLeader).
      if (this.coordinator && !this.coordinator.isShardSyncLeader()) continue;
      try {
        if ((await this.syncShards()) > 0) this.coordinator?.leaseSetChanged();
      } catch (e) {
        this.report(e);
      }
    }
  }

  /**
   * Graceful stop: stops taking leases, lets each shard finish its batch in flight (and KCL processors
   * checkpoint in `shutdownRequested`), then releases every lease so other workers take them at once.
   * Safe to call more than once.
   */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.stopping = (async () => {
      if (this.state === 'new') {
        this.state = 'stopped';
        return;
      }
      this.state = 'stopping';
      this.syncAbort.abort();
      this.coordinator?.stopTaking();
      // A take cycle already running may still start shards: let it finish, then shut every shard down.
      await this.coordinator?.takeCycleDone();
      const all = [...this.consumers.values()];
      for (const c of all) c.requestShutdown();
      const limitMs = this.o.shutdownTimeoutMs ?? CONSUMER_DEFAULTS.shutdownTimeoutMs;
      const gaveUp = new AbortController();
      await Promise.race([
        Promise.allSettled(all.map((c) => c.done)),
        this.sleepFn(limitMs, gaveUp.signal).catch(() => undefined),
      ]);
      gaveUp.abort();
      let abandoned = false;
      for (const c of all)
        if (!c.ended) {
          abandoned = true;
          // Its handler has not settled: no checkpoint, no release (another worker must not read the shard while
          // this handler may still act on it); the lease expires after leaseDurationMs.
          const held = this.coordinator?.held.get(c.shardId);
          if (held) this.coordinator!.forget(held);
          this.report(
            new ConsumerStateError(
              `stop(): the handler of ${c.shardId} did not finish within shutdownTimeoutMs (${limitMs} ms); its lease was abandoned to expire, not released`,
            ),
            c.shardId,
          );
        }
      for (const held of [...(this.coordinator?.held.values() ?? [])]) await this.coordinator!.release(held);
      await this.coordinator?.stop();
      await this.coordinator?.deregister(abandoned);
      this.statsTracker.stop();
      await this.syncLoop;
      this.state = 'stopped';
      this.logger.info('consumer stopped', { workerId: this.workerId });
    })();
    return this.stopping;
  }

  /** Leases this worker holds, with checkpoint, state and the last `millisBehindLatest` seen per shard. */
  heldLeases(): HeldLeaseInfo[] {
    const out: HeldLeaseInfo[] = [];
    for (const [shardId, held] of this.coordinator?.held ?? []) {
      const c = this.consumers.get(shardId);
      const [id, streamName] = this.names(shardId);
      const info: HeldLeaseInfo = {
        shardId: id,
        ...(streamName === undefined ? {} : { streamName, leaseKey: shardId }),
        leaseCounter: held.counter,
        checkpoint: c?.checkpointPosition ?? {
          sequenceNumber: held.lease.checkpoint,
          subSequenceNumber: held.lease.checkpointSubSequenceNumber,
        },
        state: c?.state ?? 'initializing',
        recordsProcessed: c?.recordsProcessed ?? 0,
      };
      if (c?.millisBehindLatest !== undefined) info.millisBehindLatest = c.millisBehindLatest;
      out.push(info);
    }
    return out.sort((a, b) => (a.leaseKey ?? a.shardId).localeCompare(b.leaseKey ?? b.shardId));
  }

  /** The lease table as of this worker's last scan (every `takeIntervalMs`), with lag for shards held here. */
  leaseView(): LeaseView[] {
    return (this.coordinator?.lastScan ?? [])
      .map((l) => {
        const [shardId, streamName] = this.names(l.leaseKey);
        const v: LeaseView = {
          shardId,
          ...(streamName === undefined ? {} : { streamName, leaseKey: l.leaseKey }),
          leaseCounter: l.leaseCounter,
          checkpoint: { sequenceNumber: l.checkpoint, subSequenceNumber: l.checkpointSubSequenceNumber },
          parentShardIds: l.parentShardIds,
        };
        if (l.leaseOwner) v.owner = l.leaseOwner;
        if (l.handoffTo) v.handoffTo = l.handoffTo;
        const lag = this.consumers.get(l.leaseKey)?.millisBehindLatest;
        if (lag !== undefined) v.millisBehindLatest = lag;
        return v;
      })
      .sort((a, b) => (a.leaseKey ?? a.shardId).localeCompare(b.leaseKey ?? b.shardId));
  }

  /** Per-shard (lag, records, bytes, batch time, handler errors, checkpoint age, stalled) and per-worker stats. */
  stats(): ConsumerStats {
    return this.statsTracker.stats();
  }

  /** Every metric of this worker in the Prometheus text format (serve it from `/metrics`). */
  toPrometheus(): string {
    this.statsTracker.check();
    return this.statsTracker.registry.toPrometheus();
  }

  /**
   * The lease table as it is now (a fresh consistent scan): each shard's owner, status and checkpoint, with lag
   * and checkpoint age for shards held here; `probeLag` also measures the lag of shards held elsewhere (one
   * GetRecords each, from their checkpoint).
   * @throws {ConsumerStateError} before `start()`. @throws {LeaseTableError}
   */
  async assignments(options: { probeLag?: boolean } = {}): Promise<ShardAssignment[]> {
    if (!this.table || !this.kinesis) throw new ConsumerStateError('assignments() needs a started consumer');
    const local = new Map<string, LocalShardInfo>();
    for (const s of this.statsTracker.stats().shards)
      if (s.held)
        local.set(s.leaseKey ?? s.shardId, {
          millisBehindLatest: s.millisBehindLatest,
          checkpointAgeMs: s.checkpointAgeMs,
          stalled: s.stalled,
        });
    const own = this.streams
      ? (l: { leaseKey: string }) => this.streamOf(l.leaseKey) !== undefined
      : (l: { leaseKey: string }) => parseMultiStreamLeaseKey(l.leaseKey) === undefined;
    const rows = buildAssignments((await this.table.listLeases()).filter(own), this.workerId, local);
    if (options.probeLag)
      await addProbedLag(
        rows,
        this.kinesis,
        this.streams
          ? (row) => (row.leaseKey ? this.streamOf(row.leaseKey)?.ref : undefined)
          : { streamName: this.o.streamName, streamARN: this.o.streamARN },
      );
    return rows;
  }

  /** DynamoDB calls this worker made on the lease table (reads = Scan/GetItem, writes = conditional writes). */
  leaseTableCalls(): { reads: number; writes: number } {
    return { ...(this.table?.calls ?? { reads: 0, writes: 0 }) };
  }

  /**
   * What this worker's lease-table calls cost so far: calls and consumed capacity units per operation (UpdateItem,
   * PutItem, GetItem, Scan, Query, DeleteItem), as DynamoDB reported them. Divide by run time and leases/workers
   * for per-lease-hour and per-worker-hour figures (see the README's "What the lease table costs").
   */
  leaseTableCost(): LeaseTableCost {
    const c = this.table?.cost ?? emptyCost();
    return { calls: { ...c.calls }, units: { ...c.units }, readUnits: c.readUnits, writeUnits: c.writeUnits };
  }
}

/** Multi-stream enhanced fan-out: one factory (so one registered stream consumer) per stream. */
function perStreamFactory(make: () => FetcherFactory): FetcherFactory {
  const byStream = new Map<string, FetcherFactory>();
  return (ctx) => {
    const key = ctx.streamARN ?? ctx.streamName ?? '';
    let f = byStream.get(key);
    if (!f) {
      f = make();
      byStream.set(key, f);
    }
    return f(ctx);
  };
}
