import type { KinesisClient, PutRecordsCommandOutput } from '@aws-sdk/client-kinesis';
import {
  type Clock,
  type Labels,
  type Logger,
  type Metrics,
  noopLogger,
  noopMetrics,
  systemClock,
} from '@awskit/core';
import {
  type EncodedRecord,
  RecordAggregator,
  type ShardMap,
  type UserRecord,
} from '@awskit/kinesis-aggregation';
import { resolveTuning } from './defaults.js';
import { KinesisProducerError } from './errors.js';
import { Deque } from './queue.js';
import type { ShardRateLimiter } from './rateLimiter.js';
import type { KinesisProducerOptions, ProducerStats, ProducerTuning, PutResult } from './types.js';

/** Queue key of records whose shard is unknown (no shard map yet): sent one by one, without aggregation. */
export const UNPREDICTED = '';
export const THROUGHPUT_EXCEEDED = 'ProvisionedThroughputExceededException';
/** `lastErrorCode` of a user record that landed on a shard whose hash-key range does not hold its hash key. */
export const WRONG_SHARD = 'WrongShard';
/** `lastErrorCode` of a user record that landed on a shard whose hash-key range could not be loaded. */
export const SHARD_RANGE_UNKNOWN = 'ShardRangeUnknown';

/** A user record inside the producer, from `put` until it settles. */
export interface Pending extends UserRecord {
  seq: number;
  /** Billable bytes: data + UTF-8 partition key. */
  size: number;
  /** Hash key as 32 hex digits (cheaper per record than a BigInt; sorts the same). */
  hashKey: string;
  putAt: number;
  deadline: number;
  /** When it entered its shard queue; it is due to be sent `maxBufferedTimeMs` later. 0 = due now. */
  queuedAt: number;
  notBefore: number;
  attempts: number;
  lastErrorCode?: string;
  lastErrorMessage?: string;
  settled: boolean;
  resolve: (r: PutResult) => void;
  reject: (e: Error) => void;
}

export interface ShardState {
  id: string;
  queue: Deque<Pending>;
  inFlight: number;
  /** Ordered mode: no sends before this time (a retry is waiting at the head). */
  blockedUntil: number;
  limiter: ShardRateLimiter | undefined;
}

/** One Kinesis record of a PutRecords request. */
export interface Entry {
  shardId: string;
  items: Pending[];
  record: EncodedRecord;
}

/** A shard's hash-key range as 32-hex-digit strings (compare like the numbers, see `Pending.hashKey`). */
export interface HexRange {
  startHex: string;
  endHex: string;
}

/** A user record that Kinesis accepted on a shard whose hash-key range is not known yet (see `onResponse`). */
export interface Unverified {
  p: Pending;
  result: PutResult;
  /** Shard-map loads started before it landed: only a load started later is sure to list its shard. */
  loadsStarted: number;
}

export interface FlushWaiter {
  seq: number;
  remaining: number;
  resolve: () => void;
}

/** Options of {@link KinesisProducer.putAll}. */
export interface PutAllOptions {
  /** Called for every record that Kinesis accepted. */
  onResult?: (result: PutResult, record: UserRecord, index: number) => void;
  /** Called for every record that failed (invalid, expired, rejected). */
  onError?: (error: Error, record: UserRecord, index: number) => void;
}

/** What {@link KinesisProducer.putAll} resolves to. */
export interface PutAllSummary {
  succeeded: number;
  failed: number;
}

export const isThrottleName = (name: string) =>
  name === THROUGHPUT_EXCEEDED || name === 'ThrottlingException' || name === 'LimitExceededException';

/** Inactivity limit of the calls of a client the producer builds itself (a PutRecords answers within seconds). */
export const PRODUCER_SILENCE_LIMIT_MS = 30_000;

/**
 * The state of a {@link KinesisProducer} (options, shard queues, shard map, counters) and its constructor. The
 * producer is split by concern into layers, each a file: `shardMap.ts` (loading the shard map, checking where
 * records landed), `requests.ts` (building and sending PutRecords requests), `responses.ts` (results, retries,
 * expiry) and `producer.ts` (the public API, buffering and settling). Methods a lower layer calls on a higher one
 * are declared abstract here.
 */
export abstract class ProducerState {
  protected readonly opts: Required<ProducerTuning>;
  protected readonly target: { StreamName?: string; StreamARN?: string };
  protected readonly stream: { streamName?: string; streamARN?: string };
  protected readonly streamLabel: string;
  protected readonly labels: Labels;
  protected readonly logger: Logger;
  protected readonly metrics: Metrics;
  protected readonly clock: Clock;
  protected readonly random: () => number;
  protected readonly ownClient: boolean;
  protected clientPromise: Promise<KinesisClient> | undefined;
  protected readonly clientSource: KinesisProducerOptions;

  protected readonly shards = new Map<string, ShardState>();
  protected roundRobin = 0;
  protected delayed: Pending[] = [];
  protected readonly waiters = new Deque<Pending>();
  protected capacityWaiters: (() => void)[] = [];
  protected flushWaiters: FlushWaiter[] = [];
  protected aggregator: RecordAggregator<Pending>;

  protected shardMap: ShardMap | undefined;
  /** Hash-key ranges of every shard of the last ListShards, closed ones included (the parents of a reshard). */
  protected shardRanges = new Map<string, HexRange>();
  /** Accepted user records waiting for the next shard map to tell whether they landed inside their shard's range. */
  protected unverified: Unverified[] = [];
  protected mapState: 'none' | 'loading' | 'ready' | 'failed' = 'none';
  protected mapLoading = false;
  protected mapLoadsStarted = 0;
  protected mapStale = false;
  protected mapFailures = 0;
  protected mapRetryAt = 0;
  protected rebucketPending = false;

  protected buffered = 0;
  protected bufferedCount = 0;
  protected queuedBytes = 0;
  protected queuedCount = 0;
  protected inFlight = 0;
  protected forcing = 0;
  protected seq = 0;
  protected closed = false;
  protected closing: Promise<void> | undefined;
  protected pumpScheduled = false;
  protected timer: NodeJS.Timeout | undefined;
  protected timerAt = Number.POSITIVE_INFINITY;
  protected readonly counters: ProducerStats = {
    userRecordsReceived: 0,
    userRecordsPut: 0,
    kinesisRecordsPut: 0,
    userBytesPut: 0,
    kinesisBytesPut: 0,
    requests: 0,
    retries: 0,
    throttles: 0,
    expired: 0,
    failed: 0,
    shardMapRefreshes: 0,
    wrongShardResent: 0,
  };

  protected abstract client(): Promise<KinesisClient>;

  protected abstract expire(p: Pending): void;

  protected abstract fail(p: Pending, error: KinesisProducerError): void;

  protected abstract onRequestError(entries: Entry[], e: unknown): void;

  protected abstract onResponse(entries: Entry[], out: PutRecordsCommandOutput): void;

  protected abstract rebucket(): void;

  protected abstract requeueFront(items: Pending[]): void;

  protected abstract resendWrongShard(items: Pending[], shardId: string, now: number): void;

  protected abstract schedulePump(): void;

  protected abstract scheduleWake(now: number): void;

  protected abstract shard(id: string): ShardState;

  protected abstract succeed(p: Pending, result: PutResult, now: number): void;

  /**
   * @param options stream (`streamName` or `streamARN`), client (`client` or `clientOptions`) and tuning; see
   *   {@link KinesisProducerOptions} for every option and its default.
   * @throws {KinesisProducerError} code `KINESIS_PRODUCER_INVALID_OPTIONS` listing every bad option.
   */
  constructor(options: KinesisProducerOptions) {
    const problems: string[] = [];
    if (!options.streamName && !options.streamARN) problems.push('streamName or streamARN is required');
    if (options.streamName && options.streamARN) problems.push('give streamName or streamARN, not both');
    if (options.client && options.clientOptions) problems.push('give client or clientOptions, not both');
    if (problems.length > 0) {
      throw new KinesisProducerError(
        'KINESIS_PRODUCER_INVALID_OPTIONS',
        `Invalid producer options: ${problems.join('; ')}`,
        {
          details: { problems },
        },
      );
    }
    this.opts = resolveTuning(options);
    this.target = options.streamARN ? { StreamARN: options.streamARN } : { StreamName: options.streamName! };
    this.stream = options.streamARN ? { streamARN: options.streamARN } : { streamName: options.streamName! };
    this.streamLabel = options.streamName ?? options.streamARN!.split('/').pop()!;
    this.labels = { stream: this.streamLabel };
    this.logger = options.logger ?? noopLogger;
    this.metrics = options.metrics ?? noopMetrics;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.ownClient = !options.client;
    this.clientSource = options;
    this.aggregator = new RecordAggregator<Pending>({
      maxBytes: this.opts.aggregationMaxBytes,
      maxCount: this.opts.aggregationMaxCount,
    });
  }
}
