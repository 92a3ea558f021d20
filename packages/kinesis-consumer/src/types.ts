import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { _Record, ChildShard, KinesisClient } from '@aws-sdk/client-kinesis';
import type { ClientOptions, Clock, Logger, Metrics } from '@awskit/core';
import type { EfoOptions } from './efoFetcher.js';

/** The KCL's sentinel checkpoints, stored verbatim in the lease table's `checkpoint` attribute. */
export const SentinelCheckpoint = {
  TRIM_HORIZON: 'TRIM_HORIZON',
  LATEST: 'LATEST',
  AT_TIMESTAMP: 'AT_TIMESTAMP',
  SHARD_END: 'SHARD_END',
} as const;
/** Union of {@link SentinelCheckpoint} values. */
export type SentinelCheckpoint = (typeof SentinelCheckpoint)[keyof typeof SentinelCheckpoint];

/** A position in a shard: a sequence number plus the KPL sub-record index inside it (0 when not aggregated). */
export interface ExtendedSequenceNumber {
  sequenceNumber: string;
  subSequenceNumber: number;
}

/** One row of the lease table, in the KCL's shape (see the README for the attribute mapping). */
export interface Lease {
  /** The shard id (the table's hash key). */
  leaseKey: string;
  /** Worker holding the lease; undefined = unassigned. */
  leaseOwner?: string;
  /** Fencing token: every write is conditional on it and bumps it. */
  leaseCounter: number;
  /** A sequence number or a {@link SentinelCheckpoint}. */
  checkpoint: string;
  checkpointSubSequenceNumber: number;
  pendingCheckpoint?: string;
  pendingCheckpointSubSequenceNumber?: number;
  ownerSwitchesSinceCheckpoint: number;
  /**
   * All parents (one after a split, two after a merge). Stored as the string set `parentShardId`. Plain shard ids,
   * also in multi-stream mode (the parent's lease key is then the same stream's key of that shard, as in the KCL).
   */
  parentShardIds: string[];
  childShardIds: string[];
  startingHashKey?: string;
  endingHashKey?: string;
  /**
   * Multi-stream leases only (KCL `MultiStreamLease`): the stream identifier `account:stream:creationEpoch`, stored
   * as `streamName` (S) like the KCL does, and the shard id, stored as `shardId` (S).
   */
  streamIdentifier?: string;
  /** Multi-stream leases only: the Kinesis shard id (the lease key ends with it). */
  shardId?: string;
  /**
   * awskit extension (`awskitLatestStartedAt`, N, epoch ms): when the first owner of a `LATEST` lease started
   * reading. A later owner reads `AT_TIMESTAMP` from there instead of `LATEST`, so records that arrived before the
   * first checkpoint are not skipped after a crash. The KCL ignores the attribute.
   */
  latestStartedAt?: number;
  /**
   * awskit extension (`awskitHandoffTo`, S): a worker asked the owner to hand this lease over (graceful
   * rebalancing). Cleared when the lease is released or taken.
   */
  handoffTo?: string;
  /**
   * awskit extension (`awskitOwner`, S): the awskit worker that took this lease. A lease whose `leaseOwner` equals
   * it is held by an awskit worker and judged by `leaseDurationMs`; any other owned lease belongs to a KCL worker
   * (which never writes this attribute) and is judged by `foreignLeaseDurationMs`.
   */
  awskitOwner?: string;
  /**
   * KCL 3.x graceful hand-off (`checkpointOwner`, S): the previous owner is still finishing the shard while
   * `leaseOwner` names the next one. awskit never steals such a lease and judges it by `foreignLeaseDurationMs`.
   */
  checkpointOwner?: string;
  /**
   * awskit extension (`awskitSession`, S), worker-liveness mode only: the liveness item (in the worker table) of the
   * process that took this lease. The lease is held while that item advances; its counter changes only on take,
   * release and checkpoint. The KCL ignores the attribute (and sees such a lease as idle: see the README).
   */
  awskitSession?: string;
}

/** See {@link KinesisConsumerBaseOptions.leaseMode}. */
export type LeaseMode = 'counter' | 'worker-liveness';

/** Where to start in shards that have no checkpoint yet. */
export type InitialPosition = 'LATEST' | 'TRIM_HORIZON' | { timestamp: Date };

/** A user record handed to the processor: deaggregated, with the shard it came from. */
export interface ConsumerRecord {
  data: Uint8Array;
  partitionKey: string;
  explicitHashKey?: string;
  sequenceNumber: string;
  /** Index inside a KPL aggregate (0 for plain records). */
  subSequenceNumber: number;
  /** True when the record came out of a KPL aggregate. */
  aggregated: boolean;
  approximateArrivalTimestamp?: Date;
  shardId: string;
}

/** Context passed to a {@link BatchHandler}. */
export interface BatchContext {
  shardId: string;
  /** The stream the shard belongs to (in multi-stream mode, tells the streams apart). */
  streamName?: string;
  /** How far behind the tip of the shard this batch was, when the service said so. */
  millisBehindLatest?: number;
  /** Aborted when the lease is lost (another worker now owns the shard). */
  signal: AbortSignal;
  /** 1 for the first attempt at this batch, 2 for the first retry, … */
  attempt: number;
}

/**
 * The simple processor: called with each batch of one shard, in order; the consumer checkpoints the batch's last
 * record after the promise resolves. A rejection is retried with backoff (never skipped silently).
 */
export type BatchHandler = (records: ConsumerRecord[], ctx: BatchContext) => Promise<void> | void;

/** Checkpoints progress of one shard (KCL's `RecordProcessorCheckpointer`). */
export interface Checkpointer {
  /**
   * Records `position` (default: the last record delivered to the processor) as processed.
   * @throws {InvalidCheckpointError} when it is before the last checkpoint or after the last delivered record.
   * @throws {LeaseLostError} when this worker no longer holds the lease.
   */
  checkpoint(position?: ExtendedSequenceNumber | ConsumerRecord): Promise<void>;
  /** Two-phase checkpoint: stores a pending checkpoint the next owner sees in `initialize`. */
  prepareCheckpoint(position?: ExtendedSequenceNumber | ConsumerRecord): Promise<void>;
}

/** KCL-style callbacks for one shard. Only `processRecords` is required; nothing is checkpointed automatically. */
export interface RecordProcessor {
  initialize?(input: {
    shardId: string;
    /** The shard's stream (tells the streams of a multi-stream consumer apart). */
    streamName?: string;
    checkpoint: ExtendedSequenceNumber;
    pendingCheckpoint?: ExtendedSequenceNumber;
  }): Promise<void> | void;
  processRecords(input: {
    shardId: string;
    streamName?: string;
    records: ConsumerRecord[];
    millisBehindLatest?: number;
    checkpointer: Checkpointer;
  }): Promise<void> | void;
  /** The lease was taken by another worker; checkpointing is no longer possible. */
  leaseLost?(input: { shardId: string; streamName?: string }): Promise<void> | void;
  /** The shard was closed (split/merge) and fully read. The consumer checkpoints `SHARD_END` after this returns. */
  shardEnded?(input: {
    shardId: string;
    streamName?: string;
    checkpointer: Checkpointer;
  }): Promise<void> | void;
  /** `stop()` was called; the lease is still held, so this is the place to checkpoint. */
  shutdownRequested?(input: {
    shardId: string;
    streamName?: string;
    checkpointer: Checkpointer;
  }): Promise<void> | void;
}

/** Creates one {@link RecordProcessor} per shard (the KCL's processor factory). */
export interface RecordProcessorFactory {
  /** `stream` names the shard's stream (and, in multi-stream mode, its account and creation epoch). */
  createProcessor(shardId: string, stream: ProcessorStream): RecordProcessor;
}

/** The stream of a shard, as passed to {@link RecordProcessorFactory.createProcessor}. */
export interface ProcessorStream {
  streamName: string;
  streamARN?: string;
  /** Multi-stream mode: the stream's account, creation epoch and identifier `account:stream:creationEpoch`. */
  accountId?: string;
  creationEpoch?: number;
  streamIdentifier?: string;
  /** The shard's lease key (`shardId` for one stream, `account:stream:creationEpoch:shardId` for several). */
  leaseKey: string;
}

/**
 * One entry of `streams` (multi-stream mode) in its long form, like the KCL's `StreamConfig`: a stream by name or
 * ARN, optionally with the creation epoch of its lease keys and its own initial position.
 */
export interface StreamConfig {
  streamName?: string;
  /** By ARN (the account is read from it; needed for another account's stream). */
  streamARN?: string;
  /**
   * The creation epoch in this stream's lease keys. @default the stream's creation time in epoch milliseconds
   * (DescribeStreamSummary). Set it to the value a KCL application sharing the table used.
   */
  creationEpoch?: number;
  /** Where this stream's shards without a checkpoint start. @default the consumer's `initialPosition` */
  initialPosition?: InitialPosition;
}

/** What the user decides after a handler failure. `skip` checkpoints past the batch (after you dead-lettered it). */
export type HandlerErrorAction = 'retry' | 'skip';

/** Information passed to `onError`. */
export interface HandlerErrorInfo {
  shardId: string;
  streamName?: string;
  records: ConsumerRecord[];
  /** 1 after the first failure. */
  attempt: number;
}

/** A record that could not be deaggregated (bad MD5/protobuf): it is delivered raw, and reported here. */
export interface BadRecordInfo {
  shardId: string;
  streamName?: string;
  sequenceNumber: string;
  error: Error;
}

/** Where a fetcher starts reading. */
export type StartingPosition =
  | { type: 'TRIM_HORIZON' | 'LATEST' }
  | { type: 'AT_TIMESTAMP'; timestamp: Date }
  | { type: 'AT_SEQUENCE_NUMBER' | 'AFTER_SEQUENCE_NUMBER'; sequenceNumber: string };

/** One batch from a fetcher (polling GetRecords today; SubscribeToShard events later). */
export interface FetchedBatch {
  records: _Record[];
  millisBehindLatest?: number;
  /** Present at shard end. */
  childShards?: ChildShard[];
  /** True when the shard is closed and fully read: no more batches follow. */
  shardEnded: boolean;
}

/** Reads one shard in order, buffering a bounded number of batches ahead of the processor. */
export interface ShardFetcher {
  /** The next batch; waits for one. Resolves `undefined` once closed. */
  next(): Promise<FetchedBatch | undefined>;
  /** Stops fetching and drops buffered batches. */
  close(): void;
}

/** Everything a fetcher needs to read one shard. */
export interface FetcherContext {
  kinesis: KinesisClient;
  streamName?: string;
  streamARN?: string;
  shardId: string;
  /** The shard's lease key when it differs from `shardId` (multi-stream mode): unique across streams. */
  leaseKey?: string;
  start: StartingPosition;
  logger: Logger;
  metrics: Metrics;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Builds a fetcher for one shard. The polling fetcher is the default; enhanced fan-out plugs in here. */
export type FetcherFactory = (ctx: FetcherContext) => ShardFetcher;

/** Tuning of the polling fetcher. */
export interface PollingOptions {
  /** Records per GetRecords call (Kinesis max 10 000). @default 10_000 */
  maxRecordsPerFetch?: number;
  /** Wait after an empty GetRecords at the tip of the shard. @default 250 */
  idleTimeBetweenReadsMs?: number;
  /** Minimum time between GetRecords calls on one shard (Kinesis allows 5/s per shard for all readers). @default 200 */
  minTimeBetweenReadsMs?: number;
  /** Batches fetched ahead of the processor; fetching pauses while the buffer is full. @default 3 */
  maxPrefetchBatches?: number;
  /** Backoff after throttling or a failed call. @default { baseMs: 200, capMs: 5_000 } */
  backoff?: { baseMs?: number; capMs?: number };
}

/** Clients: pass your own, or let the consumer build the missing ones from `clientOptions` with `@awskit/core`. */
export interface ClientChoice {
  /** Kinesis client to read with. @default createClient(KinesisClient, clientOptions) */
  kinesisClient?: KinesisClient;
  /** DynamoDB client for the lease table. @default createClient(DynamoDBClient, clientOptions) */
  dynamoClient?: DynamoDBClient;
  /** Options for clients the consumer builds itself (endpoint, region, profile, `local`). */
  clientOptions?: ClientOptions;
}

/** Options of {@link KinesisConsumer}. */
export interface KinesisConsumerBaseOptions {
  /** Stream to read (or `streamARN`, or `streams`). */
  streamName?: string;
  /** Stream ARN (or `streamName`, or `streams`). */
  streamARN?: string;
  /**
   * Multi-stream mode (the KCL's `MultiStreamTracker`): several streams read by one worker group with one lease
   * table, instead of `streamName`/`streamARN`. Names, ARNs or {@link StreamConfig}s. Lease keys are the KCL's
   * `account:stream:creationEpoch:shardId`; every worker of the application should list the same streams (leases of
   * streams not listed are left alone: not taken, not deleted).
   */
  streams?: (string | StreamConfig)[];
  /** Application name; names the lease table (KCL-compatible). */
  applicationName: string;
  /** Lease table name. @default applicationName */
  tableName?: string;
  /** This worker's id, stored as `leaseOwner`. @default `${hostname}:${pid}:${random}` */
  workerId?: string;
  /** Where shards without a checkpoint start. @default 'LATEST' */
  initialPosition?: InitialPosition;
  /** A batch handler (auto-checkpoint), a KCL-style processor, or a processor factory. */
  processor: BatchHandler | RecordProcessor | RecordProcessorFactory;
  /**
   * A lease held by an awskit worker is expired when its counter has not changed for this long (no clock sync
   * needed). Also the local limit: a worker stops delivering a shard whose last successful lease write was sent
   * longer ago than this. @default 3_000
   */
  leaseDurationMs?: number;
  /**
   * Mixed fleets: a lease held by a worker that is not awskit (a Java/Python KCL worker sharing the table; it
   * renews about every `failoverTimeMillis / 3`) is expired only when its counter has not changed for this long.
   * Set it to the KCL application's `failoverTimeMillis` if you changed that. @default 10_000 (the KCL default)
   */
  foreignLeaseDurationMs?: number;
  /**
   * How held leases are kept alive.
   * - `'counter'`: every held lease's `leaseCounter` is renewed every `renewIntervalMs` and every worker scans the
   *   lease table every `takeIntervalMs` (the KCL 2.x scheme at a shorter lease; DynamoDB traffic grows with shards).
   * - `'worker-liveness'`: each worker process advances its own entry of one roster item in a second table,
   *   `<lease table>-awskit-workers`, every `renewIntervalMs`; the write answers with the whole roster, so watching
   *   the fleet costs no reads. Lease items change only on take, release and checkpoint. The lease table is
   *   scanned when the roster shows a change (a worker joined, left, died or announced new/ended leases) and, as a
   *   safety net, about once per `leaseScanIntervalMs` by the whole fleet. A lease is expired when its owner's
   *   entry has not advanced for `leaseDurationMs`; the taker first fences that entry (a conditional write), so the
   *   old owner can never advance it again. Traffic grows with workers, not shards.
   *   All awskit workers of an application must run a version that knows this mode (any mode); a KCL worker
   *   sharing the table is detected and then held leases are also renewed at the KCL's cadence (see the README).
   * @default 'worker-liveness'
   */
  leaseMode?: LeaseMode;
  /** How often held leases are renewed (`'counter'`), or the liveness item advanced (`'worker-liveness'`). @default leaseDurationMs / 3 */
  renewIntervalMs?: number;
  /**
   * `'worker-liveness'` only: when the fleet has few leases per worker, space this worker's heartbeats out (up to
   * the KCL's renewal interval, 3.3 s) so the fleet writes no more per lease than KCL workers renewing every lease
   * would (heartbeat interval ≈ 3.3 s × workers ÷ leases, never below `renewIntervalMs`); the lease duration grows
   * to heartbeat + 1 s where that is more than `leaseDurationMs`. Each worker writes the lease duration it uses into
   * its roster entry, so others judge it by that. With 1 lease per worker at the defaults: heartbeat 3.3 s, lease
   * 4.3 s (failover ~1–7.6 s, median ~3.3 s measured); from 3.3 leases per worker up: unchanged (1 s, 3 s).
   * @default true when neither `leaseDurationMs` nor `renewIntervalMs` is set, else false
   */
  stretchHeartbeat?: boolean;
  /**
   * How often the lease table is scanned to take expired/unassigned leases and balance (`'counter'`), or the last
   * roster checked for a change that needs a scan (`'worker-liveness'`). @default 1_000
   */
  takeIntervalMs?: number;
  /**
   * `'worker-liveness'` only: the fleet scans the lease table about this often even when nothing changed (each of
   * W live workers every W × this, jittered), a safety net for changes nobody announced. @default 20_000 (the KCL
   * 2.x take interval)
   */
  leaseScanIntervalMs?: number;
  /** How often shards are listed to find shards without leases. @default 60_000 */
  shardSyncIntervalMs?: number;
  /** Most leases this worker holds. @default Infinity */
  maxLeasesForWorker?: number;
  /** Steal leases from over-loaded workers to balance toward ⌈leases/workers⌉. @default true */
  balance?: boolean;
  /**
   * Balancing hands leases over gracefully: the taker asks, the owner finishes its batch, checkpoints and releases,
   * so a shard is never processed by two workers at once. If the owner has not let go after this long, the lease
   * is stolen anyway. 0 steals at once (KCL 2.x behaviour: faster, but the old owner's batch in flight overlaps).
   * @default 10_000
   */
  gracefulHandoffTimeoutMs?: number;
  /**
   * How long `stop()` waits for batches in flight (and KCL `shutdownRequested` callbacks) to finish. A shard whose
   * handler has not settled by then is abandoned without a checkpoint or a release: its lease expires after
   * `leaseDurationMs` and the next owner re-reads the unfinished batch. @default 30_000
   */
  shutdownTimeoutMs?: number;
  /**
   * How many times `start()` tries its start-up calls (describe the stream, create or find the lease table, the first
   * shard sync) when they fail for a transient reason (throttling, 5xx, a reset or timed-out connection — after the
   * SDK's own retries), with backoff from 250 ms up to 5 s between tries, like the KCL's
   * `maxInitializationAttempts`. Permanent errors (unknown stream, access denied, bad input) fail at once. `stop()`
   * during the tries ends `start()` with `KINESIS_CONSUMER_NOT_RUNNING`. @default 20
   */
  startAttempts?: number;
  /**
   * Batch handler only: at most one checkpoint write per shard per this interval. A batch that completes sooner
   * after the last write is checkpointed by the next write (a later batch, or a timer once the interval is up).
   * A final checkpoint of the last processed record is always written on `stop()`, a hand-off, a release after a
   * read failure, and at shard end (`SHARD_END`). After a crash (or a lost lease) the next owner re-reads what was
   * processed since the last write: at most about this interval's worth of records per shard. 0 checkpoints after
   * every batch. KCL-style processors checkpoint themselves and ignore it. @default 5_000
   */
  checkpointIntervalMs?: number;
  /** Polling fetcher tuning. */
  polling?: PollingOptions;
  /** Retry backoff of a failing handler. @default { baseMs: 100, capMs: 10_000 } */
  handlerBackoff?: { baseMs?: number; capMs?: number };
  /** Called after each handler failure; return 'skip' to checkpoint past the batch. @default always 'retry' */
  onError?: (error: unknown, info: HandlerErrorInfo) => HandlerErrorAction | Promise<HandlerErrorAction>;
  /** Called for a record whose KPL aggregate is malformed (it is still delivered raw). */
  onBadRecord?: (info: BadRecordInfo) => void;
  /** Drop KPL user records whose hash key is outside the shard's range (post-reshard duplicates), like the KCL. @default true */
  dropRecordsOutsideHashRange?: boolean;
  /** Builds a fetcher per shard (polling by default; enhanced fan-out plugs in here). */
  fetcherFactory?: FetcherFactory;
  /**
   * How shards are read: `polling` (GetRecords, shared 2 MB/s per shard) or `efo` (enhanced fan-out:
   * SubscribeToShard, a dedicated 2 MB/s per shard for this application). Ignored when `fetcherFactory` is set.
   * @default 'polling'
   */
  mode?: 'polling' | 'efo';
  /** Stream consumer name for `mode: 'efo'`; registered if missing (every worker of the app shares it). @default applicationName */
  consumerName?: string;
  /** Enhanced fan-out tuning (`mode: 'efo'`). */
  efo?: Omit<EfoOptions, 'consumerName'>;
  /**
   * A held shard whose checkpoint has not moved for this long while records wait (a batch in the processor, or
   * the reader behind the tip) is reported stalled: `shardStalled` event, warning, `kinesis_consumer_shard_stalled`.
   * @default 60_000
   */
  stallThresholdMs?: number;
  /** @default noopLogger */
  logger?: Logger;
  /** @default noopMetrics */
  metrics?: Metrics;
  /** Monotonic clock used for lease expiry (inject in tests). @default performance.now */
  clock?: Clock;
  /** Sleep used by every loop (inject in tests). @default core's sleep */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Options of {@link KinesisConsumer}. */
export type KinesisConsumerOptions = KinesisConsumerBaseOptions & ClientChoice;

/** A lease this worker holds, as reported by `heldLeases()`. */
export interface HeldLeaseInfo {
  shardId: string;
  /** Multi-stream mode: the shard's stream and lease key (`account:stream:creationEpoch:shardId`). */
  streamName?: string;
  leaseKey?: string;
  leaseCounter: number;
  checkpoint: ExtendedSequenceNumber;
  /** 'blocked' never appears: children are taken only after their parents end. */
  state: 'initializing' | 'processing' | 'ending' | 'shutting-down';
  millisBehindLatest?: number;
  recordsProcessed: number;
}

/** A row of the lease table as seen by this worker (the basis of issue 5's `assignments()`). */
export interface LeaseView {
  shardId: string;
  /** Multi-stream mode: the shard's stream and lease key. */
  streamName?: string;
  leaseKey?: string;
  owner?: string;
  leaseCounter: number;
  checkpoint: ExtendedSequenceNumber;
  parentShardIds: string[];
  /** A worker that asked for this lease (graceful hand-off in progress). */
  handoffTo?: string;
  /** Only known for shards this worker holds. */
  millisBehindLatest?: number;
}
