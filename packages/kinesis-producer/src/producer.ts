import { Writable } from 'node:stream';
import { KinesisClient, PutRecordsCommand, type PutRecordsCommandOutput } from '@aws-sdk/client-kinesis';
import {
  backoffDelay,
  type Clock,
  clientResolution,
  createClient,
  type Labels,
  type Logger,
  type Metrics,
  noopLogger,
  noopMetrics,
  systemClock,
  toAwskitError,
} from '@awskit/core';
import {
  type EncodedRecord,
  hashKeyToHex,
  listShards,
  RecordAggregator,
  ShardMap,
  type UserRecord,
  userRecordHashKeyHex,
  validateUserRecord,
} from '@awskit/kinesis-aggregation';
import { LOCAL_ENDPOINT_DEFAULTS, resolveTuning } from './defaults.js';
import { InvalidRecordError, KinesisProducerError, RecordExpiredError } from './errors.js';
import { Deque } from './queue.js';
import { ShardRateLimiter } from './rateLimiter.js';
import type { KinesisProducerOptions, ProducerStats, ProducerTuning, PutResult } from './types.js';

/** Queue key of records whose shard is unknown (no shard map yet): sent one by one, without aggregation. */
const UNPREDICTED = '';
const THROUGHPUT_EXCEEDED = 'ProvisionedThroughputExceededException';
/** `lastErrorCode` of a user record that landed on a shard whose hash-key range does not hold its hash key. */
const WRONG_SHARD = 'WrongShard';
/** `lastErrorCode` of a user record that landed on a shard whose hash-key range could not be loaded. */
const SHARD_RANGE_UNKNOWN = 'ShardRangeUnknown';

/** A user record inside the producer, from `put` until it settles. */
interface Pending extends UserRecord {
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

interface ShardState {
  id: string;
  queue: Deque<Pending>;
  inFlight: number;
  /** Ordered mode: no sends before this time (a retry is waiting at the head). */
  blockedUntil: number;
  limiter: ShardRateLimiter | undefined;
}

/** One Kinesis record of a PutRecords request. */
interface Entry {
  shardId: string;
  items: Pending[];
  record: EncodedRecord;
}

/** A shard's hash-key range as 32-hex-digit strings (compare like the numbers, see `Pending.hashKey`). */
interface HexRange {
  startHex: string;
  endHex: string;
}

/** A user record that Kinesis accepted on a shard whose hash-key range is not known yet (see `onResponse`). */
interface Unverified {
  p: Pending;
  result: PutResult;
  /** Shard-map loads started before it landed: only a load started later is sure to list its shard. */
  loadsStarted: number;
}

interface FlushWaiter {
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

const isThrottleName = (name: string) =>
  name === THROUGHPUT_EXCEEDED || name === 'ThrottlingException' || name === 'LimitExceededException';

/** Inactivity limit of the calls of a client the producer builds itself (a PutRecords answers within seconds). */
const PRODUCER_SILENCE_LIMIT_MS = 30_000;

/**
 * A Kinesis producer in the style of the KPL, in pure TypeScript: it aggregates user records per predicted shard,
 * batches them into PutRecords calls, rate-limits each shard, retries only what failed (with backoff and jitter)
 * until each record's TTL, and resolves every `put` with where the record landed.
 *
 * @example
 * const producer = new KinesisProducer({ streamName: 'orders', clientOptions: { region: 'eu-west-1' } });
 * const { shardId, sequenceNumber } = await producer.put({ data: Buffer.from('{"id":1}'), partitionKey: 'user-1' });
 * await producer.close();
 */
export class KinesisProducer {
  private readonly opts: Required<ProducerTuning>;
  private readonly target: { StreamName?: string; StreamARN?: string };
  private readonly stream: { streamName?: string; streamARN?: string };
  private readonly streamLabel: string;
  private readonly labels: Labels;
  private readonly logger: Logger;
  private readonly metrics: Metrics;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly ownClient: boolean;
  private clientPromise: Promise<KinesisClient> | undefined;
  private readonly clientSource: KinesisProducerOptions;

  private readonly shards = new Map<string, ShardState>();
  private roundRobin = 0;
  private delayed: Pending[] = [];
  private readonly waiters = new Deque<Pending>();
  private capacityWaiters: (() => void)[] = [];
  private flushWaiters: FlushWaiter[] = [];
  private aggregator: RecordAggregator<Pending>;

  private shardMap: ShardMap | undefined;
  /** Hash-key ranges of every shard of the last ListShards, closed ones included (the parents of a reshard). */
  private shardRanges = new Map<string, HexRange>();
  /** Accepted user records waiting for the next shard map to tell whether they landed inside their shard's range. */
  private unverified: Unverified[] = [];
  private mapState: 'none' | 'loading' | 'ready' | 'failed' = 'none';
  private mapLoading = false;
  private mapLoadsStarted = 0;
  private mapStale = false;
  private mapFailures = 0;
  private mapRetryAt = 0;
  private rebucketPending = false;

  private buffered = 0;
  private bufferedCount = 0;
  private queuedBytes = 0;
  private queuedCount = 0;
  private inFlight = 0;
  private forcing = 0;
  private seq = 0;
  private closed = false;
  private closing: Promise<void> | undefined;
  private pumpScheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private readonly counters: ProducerStats = {
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

  /** Bytes of user records held (waiting in the buffer or in flight). */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** User records held (buffered or in flight), not counting puts waiting for room. */
  get bufferedRecords(): number {
    return this.bufferedCount;
  }

  /** True when a new `put` would wait for room (`maxBufferedBytes` reached). Check it to apply backpressure. */
  get isFull(): boolean {
    return this.waiters.length > 0 || this.buffered >= this.opts.maxBufferedBytes;
  }

  /** PutRecords requests in flight. */
  get inFlightRequests(): number {
    return this.inFlight;
  }

  /** Counters since creation (a copy). */
  get stats(): ProducerStats {
    return { ...this.counters };
  }

  /**
   * Queues a record and resolves once Kinesis has accepted it on the shard whose hash-key range holds its hash key,
   * with that shard and the sequence number (a record an aggregate carried onto the wrong child of a split is
   * re-sent first). When the buffer is full the record waits for room first (backpressure); puts are admitted in
   * call order.
   *
   * Rejects at once with {@link InvalidRecordError} for a record Kinesis would refuse, later with
   * {@link RecordExpiredError} when it could not be written within `recordTtlMs`, or with a
   * {@link KinesisProducerError} (`PUT_FAILED`, `KINESIS_PRODUCER_THROTTLED`, `PRODUCER_CLOSED`). Nothing is dropped silently.
   */
  put(record: UserRecord): Promise<PutResult> {
    if (this.closed) {
      return Promise.reject(
        new KinesisProducerError('PRODUCER_CLOSED', 'put() after close()', {
          hint: 'Create a new producer, or finish putting before calling close().',
        }),
      );
    }
    const problems = validateUserRecord(record, { maxRecordBytes: this.opts.maxRecordBytes });
    if (problems.length > 0) {
      this.counters.failed++;
      this.metrics.increment('kinesis_producer_errors_total', 1, { ...this.labels, code: 'INVALID_RECORD' });
      return Promise.reject(new InvalidRecordError(problems));
    }
    const now = this.clock.now();
    let resolve!: (r: PutResult) => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<PutResult>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const p: Pending = {
      data: record.data,
      partitionKey: record.partitionKey,
      seq: ++this.seq,
      size: record.data.byteLength + Buffer.byteLength(record.partitionKey, 'utf8'),
      hashKey: userRecordHashKeyHex(record),
      putAt: now,
      deadline: now + this.opts.recordTtlMs,
      queuedAt: now,
      notBefore: 0,
      attempts: 0,
      settled: false,
      resolve,
      reject,
    };
    if (record.explicitHashKey !== undefined) p.explicitHashKey = record.explicitHashKey;
    this.counters.userRecordsReceived++;
    if (this.waiters.length === 0 && this.hasRoom(p.size)) this.admit(p);
    else this.waiters.push(p);
    return promise;
  }

  /** Resolves when `isFull` is false (immediately if it already is). */
  waitForCapacity(): Promise<void> {
    if (!this.isFull) return Promise.resolve();
    return new Promise((resolve) => this.capacityWaiters.push(resolve));
  }

  /**
   * Sends everything buffered now, without waiting for `maxBufferedTimeMs`, and resolves when every record put
   * before the call has settled (succeeded or failed). Never rejects: per-record failures go to each `put`.
   */
  async flush(): Promise<void> {
    const outstanding = this.bufferedCount + this.waiters.length;
    if (outstanding === 0) return;
    this.forcing++;
    try {
      const done = new Promise<void>((resolve) =>
        this.flushWaiters.push({ seq: this.seq, remaining: outstanding, resolve }),
      );
      this.schedulePump();
      await done;
    } finally {
      this.forcing--;
    }
  }

  /**
   * Stops accepting records, flushes everything and waits for it to settle, then releases the client if the
   * producer created it. Safe to call more than once.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      await this.flush();
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      if (this.ownClient && this.clientPromise) {
        const client = await this.clientPromise.catch(() => undefined);
        client?.destroy();
      }
    })();
    return this.closing;
  }

  /**
   * Puts every record of a (sync or async) iterable with backpressure, then flushes. Per-record outcomes go to the
   * callbacks; resolves with the counts.
   */
  async putAll(
    records: Iterable<UserRecord> | AsyncIterable<UserRecord>,
    options: PutAllOptions = {},
  ): Promise<PutAllSummary> {
    const summary: PutAllSummary = { succeeded: 0, failed: 0 };
    let index = 0;
    for await (const record of records) {
      if (this.isFull) await this.waitForCapacity();
      const i = index++;
      this.put(record).then(
        (r) => {
          summary.succeeded++;
          options.onResult?.(r, record, i);
        },
        (e: Error) => {
          summary.failed++;
          options.onError?.(e, record, i);
        },
      );
    }
    await this.flush();
    // let the last settlement callbacks run
    await new Promise((r) => setImmediate(r));
    return summary;
  }

  /**
   * A Writable (object mode) to pipe user records into. A write completes once the record is buffered
   * (backpressure follows `isFull`); `final` flushes. Per-record failures are passed to `onError` and emitted as
   * `'recordError'` events; the stream itself does not fail on them.
   */
  writable(options: { onError?: (error: Error, record: UserRecord) => void } = {}): Writable {
    const stream: Writable = new Writable({
      objectMode: true,
      write: (record: UserRecord, _enc, cb) => {
        this.put(record).catch((e: Error) => {
          options.onError?.(e, record);
          stream.emit('recordError', e, record);
        });
        if (this.isFull) this.waitForCapacity().then(() => cb(), cb);
        else cb();
      },
      final: (cb) => {
        this.flush().then(() => cb(), cb);
      },
    });
    return stream;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // buffering

  private hasRoom(size: number): boolean {
    return this.buffered === 0 || this.buffered + size <= this.opts.maxBufferedBytes;
  }

  private admit(p: Pending): void {
    this.buffered += p.size;
    this.bufferedCount++;
    this.enqueue(p);
    this.schedulePump();
  }

  private predict(hashKey: string): string {
    return this.shardMap?.shardForHex(hashKey) ?? UNPREDICTED;
  }

  private shard(id: string): ShardState {
    let s = this.shards.get(id);
    if (!s) {
      s = {
        id,
        queue: new Deque(),
        inFlight: 0,
        blockedUntil: 0,
        limiter:
          id === UNPREDICTED ? undefined : new ShardRateLimiter(this.opts.rateLimitPercent, this.clock),
      };
      this.shards.set(id, s);
    }
    return s;
  }

  private enqueue(p: Pending): void {
    this.shard(this.predict(p.hashKey)).queue.push(p);
    this.queuedBytes += p.size;
    this.queuedCount++;
  }

  /** Puts records back at the front of their shard queues (retries, refused entries), oldest first. */
  private requeueFront(items: Pending[]): void {
    const byShard = new Map<string, Pending[]>();
    for (const p of items.sort((a, b) => a.seq - b.seq)) {
      const id = this.predict(p.hashKey);
      let list = byShard.get(id);
      if (!list) {
        list = [];
        byShard.set(id, list);
      }
      list.push(p);
      this.queuedBytes += p.size;
      this.queuedCount++;
    }
    for (const [id, list] of byShard) this.shard(id).queue.unshiftAll(list);
  }

  /** After the shard map changed: re-predict every queued record (in put order) so no aggregate straddles shards. */
  private rebucket(): void {
    this.rebucketPending = false;
    const all: Pending[] = [];
    for (const s of this.shards.values()) {
      for (const p of s.queue.drain()) all.push(p);
    }
    this.queuedBytes = 0;
    this.queuedCount = 0;
    all.sort((a, b) => a.seq - b.seq);
    for (const p of all) this.enqueue(p);
    for (const [id, s] of this.shards) {
      if (s.queue.length === 0 && s.inFlight === 0 && id !== UNPREDICTED && !this.shardMap?.rangeOf(id)) {
        this.shards.delete(id);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // settling

  private release(p: Pending): void {
    p.settled = true;
    this.buffered -= p.size;
    this.bufferedCount--;
    if (this.flushWaiters.length > 0) {
      for (const f of this.flushWaiters) if (p.seq <= f.seq) f.remaining--;
      const done = this.flushWaiters.filter((f) => f.remaining <= 0);
      if (done.length > 0) {
        this.flushWaiters = this.flushWaiters.filter((f) => f.remaining > 0);
        for (const f of done) f.resolve();
      }
    }
    while (this.waiters.length > 0 && this.hasRoom(this.waiters.peek()!.size))
      this.admit(this.waiters.shift()!);
    if (this.capacityWaiters.length > 0 && !this.isFull) {
      const ws = this.capacityWaiters;
      this.capacityWaiters = [];
      for (const w of ws) w();
    }
  }

  private succeed(p: Pending, result: PutResult, now: number): void {
    if (p.settled) return;
    this.release(p);
    this.metrics.observe('kinesis_producer_put_latency_ms', now - p.putAt, this.labels);
    p.resolve(result);
  }

  private fail(p: Pending, error: KinesisProducerError): void {
    if (p.settled) return;
    this.release(p);
    this.counters.failed++;
    this.metrics.increment('kinesis_producer_errors_total', 1, { ...this.labels, code: error.code });
    p.reject(error);
  }

  private expire(p: Pending): void {
    this.counters.expired++;
    this.metrics.increment('kinesis_producer_expired_total', 1, this.labels);
    this.fail(
      p,
      new RecordExpiredError({
        attempts: p.attempts,
        ttlMs: this.opts.recordTtlMs,
        ...(p.lastErrorCode !== undefined && { lastErrorCode: p.lastErrorCode }),
        ...(p.lastErrorMessage !== undefined && { lastErrorMessage: p.lastErrorMessage }),
      }),
    );
  }

  // ---------------------------------------------------------------------------------------------------------------
  // sending

  private client(): Promise<KinesisClient> {
    this.clientPromise ??= (
      this.clientSource.client
        ? Promise.resolve(this.clientSource.client)
        : createClient(KinesisClient, {
            // A PutRecords that never answers must fail (and be retried) rather than hold its records forever.
            requestTimeoutMs: PRODUCER_SILENCE_LIMIT_MS,
            connectionTimeoutMs: 5_000,
            ...this.clientSource.clientOptions,
            maxAttempts: 1,
          })
    ).then((client) => {
      this.applyEndpointDefaults(client);
      return client;
    });
    return this.clientPromise;
  }

  /** Against a local emulator, use {@link LOCAL_ENDPOINT_DEFAULTS} for the options the caller left unset. */
  private applyEndpointDefaults(client: KinesisClient): void {
    if (!clientResolution(client)?.endpoint.local) return;
    const applied: Record<string, number> = {};
    for (const [key, value] of Object.entries(LOCAL_ENDPOINT_DEFAULTS) as [
      keyof typeof LOCAL_ENDPOINT_DEFAULTS,
      number,
    ][]) {
      if (this.clientSource[key] === undefined) {
        this.opts[key] = value;
        applied[key] = value;
      }
    }
    this.aggregator = new RecordAggregator<Pending>({
      maxBytes: this.opts.aggregationMaxBytes,
      maxCount: this.opts.aggregationMaxCount,
    });
    this.logger.debug('kinesis producer: local endpoint, using local defaults', applied);
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => this.pump());
  }

  private startMapLoad(): void {
    if (this.mapLoading) return;
    this.mapLoading = true;
    if (this.mapState === 'none') this.mapState = 'loading';
    void this.loadShardMap(++this.mapLoadsStarted);
  }

  private async loadShardMap(load: number): Promise<void> {
    try {
      const client = await this.client();
      // Without ShardFilter (not every emulator has it): closed shards are dropped below.
      const shards = await listShards(client, this.stream, {
        callTimeoutMs: this.opts.requestTimeoutMs,
        maxResults: 1000,
      });
      const open = shards.filter((s) => s.SequenceNumberRange?.EndingSequenceNumber === undefined);
      this.shardMap = new ShardMap(open);
      const ranges = new Map<string, HexRange>();
      for (const s of shards) {
        const start = s.HashKeyRange?.StartingHashKey;
        const end = s.HashKeyRange?.EndingHashKey;
        if (s.ShardId === undefined || start === undefined || end === undefined) continue;
        ranges.set(s.ShardId, { startHex: hashKeyToHex(BigInt(start)), endHex: hashKeyToHex(BigInt(end)) });
      }
      this.shardRanges = ranges;
      this.mapState = 'ready';
      this.mapStale = false;
      this.mapFailures = 0;
      this.counters.shardMapRefreshes++;
      this.metrics.increment('kinesis_producer_shard_map_refreshes_total', 1, this.labels);
      this.logger.debug('kinesis producer: shard map loaded', {
        stream: this.streamLabel,
        shards: this.shardMap.size,
      });
      this.verifyUnverified(load, this.clock.now());
      if (this.opts.ordered && this.inFlight > 0) this.rebucketPending = true;
      else this.rebucket();
    } catch (e) {
      this.mapFailures++;
      this.mapRetryAt = this.clock.now() + Math.min(30_000, 1000 * 1.5 ** (this.mapFailures - 1));
      if (!this.shardMap) this.mapState = 'failed';
      const err = toAwskitError(e, { service: 'kinesis', operation: 'ListShards' });
      this.logger.warn(
        this.shardMap
          ? 'kinesis producer: cannot refresh the shard map; retrying with backoff'
          : 'kinesis producer: cannot load the shard map; records go unaggregated until it loads',
        {
          stream: this.streamLabel,
          code: err.code,
          error: err.message,
          retryInMs: this.mapRetryAt - this.clock.now(),
        },
      );
    } finally {
      this.mapLoading = false;
      this.schedulePump();
    }
  }

  private pump(): void {
    this.pumpScheduled = false;
    if (this.mapState === 'none') {
      this.startMapLoad();
      return;
    }
    if (this.mapState === 'loading') return; // the first load calls pump when it ends
    const now = this.clock.now();
    // a failed load (first or refresh) is retried after its backoff, not in a loop
    if (!this.mapLoading && (this.mapStale || this.mapState === 'failed') && now >= this.mapRetryAt) {
      this.startMapLoad();
    }
    if (this.unverified.length > 0) this.expireUnverified(now);
    if (this.rebucketPending) {
      if (this.inFlight > 0) return;
      this.rebucket();
    }
    this.promoteDelayed(now);
    // ordered: while some records wait to learn whether they landed in range, later records of their keys must not
    // overtake them (one of those could land in range first)
    const hold = this.opts.ordered && this.unverified.length > 0;
    while (!hold && this.inFlight < this.opts.maxInFlightRequests) {
      const entries = this.buildRequest(now);
      if (!entries) break;
      void this.send(entries);
    }
    this.metrics.gauge('kinesis_producer_buffered_bytes', this.buffered, this.labels);
    this.metrics.gauge('kinesis_producer_buffered_records', this.bufferedCount, this.labels);
    this.scheduleWake(now);
  }

  private promoteDelayed(now: number): void {
    if (this.delayed.length === 0) return;
    const due = this.delayed.filter((p) => p.notBefore <= now);
    if (due.length === 0) return;
    this.delayed = this.delayed.filter((p) => p.notBefore > now);
    for (const p of due) p.queuedAt = 0;
    this.requeueFront(due);
  }

  private isDue(s: ShardState, now: number): boolean {
    const head = s.queue.peek();
    return head !== undefined && head.queuedAt + this.opts.maxBufferedTimeMs <= now;
  }

  private buildRequest(now: number): Entry[] | undefined {
    const o = this.opts;
    const force = this.forcing > 0 || this.closed;
    const full =
      this.queuedBytes >= o.collectionMaxBytes ||
      (!o.aggregation && this.queuedCount >= o.collectionMaxCount);
    const ids = [...this.shards.keys()];
    const start = this.roundRobin++ % Math.max(1, ids.length);
    const entries: Entry[] = [];
    let bytes = 0;
    for (let k = 0; k < ids.length; k++) {
      if (entries.length >= o.collectionMaxCount || bytes >= o.collectionMaxBytes) break;
      const s = this.shards.get(ids[(start + k) % ids.length]!)!;
      if (s.queue.length === 0) continue;
      if (o.ordered && (s.inFlight > 0 || s.blockedUntil > now)) continue;
      if (!force && !full && !this.isDue(s, now)) continue;
      while (entries.length < o.collectionMaxCount && (!s.limiter || s.limiter.canSend())) {
        const entry = this.takeEntry(s, now, o.collectionMaxBytes - bytes, entries.length === 0);
        if (!entry) break;
        entries.push(entry);
        bytes += entry.record.sizeBytes;
        s.limiter?.take(entry.record.sizeBytes);
        if (o.ordered) break;
      }
    }
    return entries.length > 0 ? entries : undefined;
  }

  /** The head of the shard queue, after rejecting expired records. */
  private liveHead(s: ShardState, now: number): Pending | undefined {
    for (;;) {
      const p = s.queue.peek();
      if (!p || p.deadline > now) return p;
      s.queue.shift();
      this.queuedBytes -= p.size;
      this.queuedCount--;
      this.expire(p);
    }
  }

  private dequeue(s: ShardState): Pending {
    const p = s.queue.shift()!;
    this.queuedBytes -= p.size;
    this.queuedCount--;
    return p;
  }

  private takeEntry(s: ShardState, now: number, bytesLeft: number, requestEmpty: boolean): Entry | undefined {
    const first = this.liveHead(s, now);
    // a record bigger than collectionMaxBytes still goes, alone in its request
    if (!first || (first.size > bytesLeft && !requestEmpty)) return undefined;
    if (!this.opts.aggregation || s.id === UNPREDICTED) {
      const p = this.dequeue(s);
      const record: EncodedRecord = {
        data: p.data,
        partitionKey: p.partitionKey,
        aggregated: false,
        userRecordCount: 1,
        sizeBytes: p.size,
      };
      if (p.explicitHashKey !== undefined) record.explicitHashKey = p.explicitHashKey;
      return { shardId: s.id, items: [p], record };
    }
    const agg = this.aggregator;
    const limit = Math.min(this.opts.aggregationMaxBytes, bytesLeft);
    for (;;) {
      const p = this.liveHead(s, now);
      if (!p) break;
      if (agg.count > 0 && (agg.sizeWith(p) > limit || agg.count >= this.opts.aggregationMaxCount)) break;
      agg.tryAdd(p);
      this.dequeue(s);
      // a lone record over the aggregation limit goes alone (KPL)
      if (agg.count === 1 && p.size >= limit) break;
    }
    if (agg.count === 0) return undefined;
    const { record, items } = agg.build();
    return { shardId: s.id, items, record };
  }

  private async send(entries: Entry[]): Promise<void> {
    const shardsInRequest = new Set<ShardState>();
    for (const e of entries) {
      const s = this.shards.get(e.shardId);
      if (s) shardsInRequest.add(s);
      for (const p of e.items) p.attempts++;
    }
    for (const s of shardsInRequest) s.inFlight++;
    this.inFlight++;
    this.counters.requests++;
    const started = this.clock.now();
    try {
      const client = await this.client();
      const out = await client.send(
        new PutRecordsCommand({
          ...this.target,
          Records: entries.map((e) => ({
            Data: e.record.data,
            PartitionKey: e.record.partitionKey,
            ...(e.record.explicitHashKey !== undefined && { ExplicitHashKey: e.record.explicitHashKey }),
          })),
        }),
        { abortSignal: AbortSignal.timeout(this.opts.requestTimeoutMs) },
      );
      this.onResponse(entries, out);
    } catch (e) {
      this.onRequestError(entries, e);
    } finally {
      this.metrics.observe('kinesis_producer_request_latency_ms', this.clock.now() - started, this.labels);
      this.inFlight--;
      for (const s of shardsInRequest) s.inFlight--;
      this.schedulePump();
    }
  }

  private onResponse(entries: Entry[], out: PutRecordsCommandOutput): void {
    const results = out.Records ?? [];
    const now = this.clock.now();
    if (results.length !== entries.length) {
      for (const e of entries)
        this.retryOrFail(
          e.items,
          'RecordCountMismatch',
          `${results.length} results for ${entries.length} records`,
          true,
          now,
        );
      return;
    }
    let kinesisPut = 0;
    let kinesisBytes = 0;
    let userPut = 0;
    let userBytes = 0;
    let throttled = 0;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      const r = results[i]!;
      if (r.SequenceNumber && r.ShardId) {
        kinesisPut++;
        kinesisBytes += e.record.sizeBytes;
        const delivered = this.settleAccepted(e, r.ShardId, r.SequenceNumber, now);
        userPut += delivered.count;
        userBytes += delivered.bytes;
      } else {
        const code = r.ErrorCode ?? 'Unknown';
        if (code === THROUGHPUT_EXCEEDED) {
          throttled++;
          this.shards.get(e.shardId)?.limiter?.throttled();
        }
        // KMS errors other than throttling will not heal by retrying
        const retryable = !code.startsWith('KMS') || code === 'KMSThrottlingException';
        this.retryOrFail(e.items, code, r.ErrorMessage, retryable, now);
      }
    }
    this.counters.kinesisRecordsPut += kinesisPut;
    this.counters.kinesisBytesPut += kinesisBytes;
    this.counters.userRecordsPut += userPut;
    this.counters.userBytesPut += userBytes;
    this.counters.throttles += throttled;
    const m = this.metrics;
    m.increment('kinesis_producer_user_records_put_total', userPut, this.labels);
    m.increment('kinesis_producer_kinesis_records_put_total', kinesisPut, this.labels);
    m.increment('kinesis_producer_user_bytes_put_total', userBytes, this.labels);
    m.increment('kinesis_producer_kinesis_bytes_put_total', kinesisBytes, this.labels);
    if (throttled > 0) m.increment('kinesis_producer_throttles_total', throttled, this.labels);
  }

  /**
   * Settles the user records of a Kinesis record that Kinesis accepted on `shardId`: those whose hash key is in the
   * shard's hash-key range succeed; the others (an aggregate predicted for a shard that was split meanwhile carries
   * records of the sibling) are re-sent; when the shard's range is not known yet they wait for the next shard map.
   * @returns count and bytes of the user records that succeeded now.
   */
  private settleAccepted(
    e: Entry,
    shardId: string,
    sequenceNumber: string,
    now: number,
  ): { count: number; bytes: number } {
    const range = this.shardRanges.get(shardId);
    // The hash key Kinesis routed this Kinesis record by (a record sent on its own: its own key; an aggregate: its
    // first user record's key). A user record with exactly that key is on the shard that owns it, by definition.
    let routeHex: string | undefined;
    const wrongShard: Pending[] = [];
    let unknownRange = false;
    let contradicted = false;
    let count = 0;
    let bytes = 0;
    for (let j = 0; j < e.items.length; j++) {
      const p = e.items[j]!;
      const result: PutResult = { shardId, sequenceNumber, attempts: p.attempts };
      if (e.record.aggregated) result.subSequenceNumber = j;
      let inRange: boolean | undefined;
      if (range !== undefined && p.hashKey >= range.startHex && p.hashKey <= range.endHex) inRange = true;
      else {
        routeHex ??= userRecordHashKeyHex(e.record);
        if (p.hashKey === routeHex) {
          inRange = true;
          // re-sending could only land it here again; our listing disagrees with Kinesis' routing: reload it
          if (range !== undefined) contradicted = true;
        } else if (range !== undefined) inRange = false;
      }
      if (inRange === true) {
        count++;
        bytes += p.size;
        this.succeed(p, result, now);
      } else if (inRange === false) {
        // On the shard, but outside its range: KCL-style consumers drop it (dropRecordsOutsideHashRange), so for
        // them it was never written. Re-send it (the KPL's "Wrong Shard" retry).
        wrongShard.push(p);
      } else {
        // a shard missing from our last ListShards (a child created since): decide once its range is known
        unknownRange = true;
        this.unverified.push({ p, result, loadsStarted: this.mapLoadsStarted });
      }
    }
    if (!this.mapStale) {
      let reason: string | undefined;
      if (unknownRange) reason = 'landed on a shard missing from the shard map';
      else if (contradicted) reason = "the shard map's hash-key range disagrees with where Kinesis routed";
      else if (e.shardId !== UNPREDICTED && shardId !== e.shardId) {
        // the map may already know the reshard (reloaded while this request was in flight)
        routeHex ??= userRecordHashKeyHex(e.record);
        if (this.predict(routeHex) !== shardId) reason = 'landed on an unexpected shard';
      }
      if (reason !== undefined) {
        this.mapStale = true;
        this.logger[contradicted ? 'warn' : 'debug'](
          `kinesis producer: ${reason}; refreshing the shard map`,
          {
            stream: this.streamLabel,
            predicted: e.shardId,
            actual: shardId,
          },
        );
      }
    }
    if (wrongShard.length > 0) this.resendWrongShard(wrongShard, shardId, now);
    return { count, bytes };
  }

  /**
   * Re-sends user records that Kinesis accepted on `shardId` although that shard's hash-key range does not hold
   * their hash key: re-predicted with the current map and re-aggregated, counted as attempts, within their TTL.
   */
  private resendWrongShard(items: Pending[], shardId: string, now: number): void {
    const live = items.filter((p) => !p.settled);
    this.counters.wrongShardResent += live.length;
    this.metrics.increment('kinesis_producer_wrong_shard_resent_total', live.length, this.labels);
    this.logger.debug('kinesis producer: re-sending user records that landed outside their shard', {
      stream: this.streamLabel,
      shardId,
      userRecords: live.length,
    });
    // With a map that knows where they belong, at once; while it is being reloaded, with the retry backoff (so a
    // map that keeps failing to load does not turn into a PutRecords loop).
    this.retryOrFail(
      live,
      WRONG_SHARD,
      `landed on ${shardId}, whose hash-key range does not hold the record's hash key (the stream was resharded)`,
      true,
      now,
      !this.mapStale,
    );
  }

  /** After shard-map load number `load`: settle the records that were waiting for their shard's range. */
  private verifyUnverified(load: number, now: number): void {
    if (this.unverified.length === 0) return;
    const waiting = this.unverified;
    this.unverified = [];
    const wrongByShard = new Map<string, Pending[]>();
    let userPut = 0;
    let userBytes = 0;
    for (const u of waiting) {
      if (u.p.settled) continue;
      const range = this.shardRanges.get(u.result.shardId);
      if (range === undefined && load <= u.loadsStarted) {
        // this listing may predate the shard: wait for the next one
        this.unverified.push(u);
        this.mapStale = true;
        continue;
      }
      if (range !== undefined && u.p.hashKey >= range.startHex && u.p.hashKey <= range.endHex) {
        userPut++;
        userBytes += u.p.size;
        this.succeed(u.p, u.result, now);
        continue;
      }
      if (range === undefined) {
        this.logger.warn(
          'kinesis producer: ListShards does not list a shard that accepted records; re-sending',
          {
            stream: this.streamLabel,
            shardId: u.result.shardId,
          },
        );
      }
      const list = wrongByShard.get(u.result.shardId) ?? [];
      list.push(u.p);
      wrongByShard.set(u.result.shardId, list);
    }
    for (const [shardId, items] of wrongByShard) this.resendWrongShard(items, shardId, now);
    this.counters.userRecordsPut += userPut;
    this.counters.userBytesPut += userBytes;
    this.metrics.increment('kinesis_producer_user_records_put_total', userPut, this.labels);
    this.metrics.increment('kinesis_producer_user_bytes_put_total', userBytes, this.labels);
  }

  /**
   * Rejects the records whose TTL passed while waiting for their shard's range (ListShards kept failing). They may
   * be on the stream, but nothing says a KCL-style consumer will deliver them, so they are not reported written.
   */
  private expireUnverified(now: number): void {
    const live: Unverified[] = [];
    for (const u of this.unverified) {
      if (u.p.settled) continue;
      if (u.p.deadline > now) {
        live.push(u);
        continue;
      }
      u.p.lastErrorCode = SHARD_RANGE_UNKNOWN;
      u.p.lastErrorMessage = `landed on ${u.result.shardId} (sequence number ${u.result.sequenceNumber}), whose hash-key range could not be loaded to check that the record belongs there`;
      this.expire(u.p);
    }
    this.unverified = live;
  }

  private onRequestError(entries: Entry[], e: unknown): void {
    const now = this.clock.now();
    const raw = e as {
      name?: string;
      message?: string;
      $fault?: string;
      $metadata?: { httpStatusCode?: number };
    };
    const err = toAwskitError(e, {
      service: 'kinesis',
      operation: 'PutRecords',
      resource: `stream "${this.streamLabel}"`,
    });
    const name = raw?.name && raw.name !== 'Error' ? raw.name : err.code;
    const status = raw?.$metadata?.httpStatusCode;
    const throttled = isThrottleName(name) || err.code === 'THROTTLED';
    const retryable =
      throttled ||
      err.code === 'ENDPOINT_UNREACHABLE' ||
      err.code === 'LOCAL_ENDPOINT_UNREACHABLE' ||
      raw?.$fault === 'server' ||
      (status !== undefined && status >= 500) ||
      name === 'TimeoutError' ||
      name === 'AbortError' ||
      name === 'RequestTimeout';
    if (throttled) {
      this.counters.throttles += entries.length;
      this.metrics.increment('kinesis_producer_throttles_total', entries.length, this.labels);
      for (const en of entries) this.shards.get(en.shardId)?.limiter?.throttled();
    }
    this.logger.warn('kinesis producer: PutRecords failed', {
      stream: this.streamLabel,
      error: name,
      retrying: retryable,
      kinesisRecords: entries.length,
    });
    if (!retryable) {
      for (const en of entries) {
        for (const p of en.items) {
          this.fail(
            p,
            new KinesisProducerError('PUT_FAILED', err.message, {
              cause: err,
              ...(err.hint !== undefined && { hint: err.hint }),
            }),
          );
        }
      }
      return;
    }
    for (const en of entries) this.retryOrFail(en.items, name, raw?.message ?? err.message, true, now);
  }

  private retryOrFail(
    items: Pending[],
    code: string,
    message: string | undefined,
    retryable: boolean,
    now: number,
    immediate = false,
  ): void {
    const retry: Pending[] = [];
    // one delay for the whole failed Kinesis record, so its user records are retried (re-aggregated) together
    const attempts = items.reduce((m, p) => Math.max(m, p.attempts), 1);
    const notBefore = immediate
      ? now
      : now +
        backoffDelay(attempts - 1, {
          baseMs: this.opts.retryBaseDelayMs,
          capMs: this.opts.retryMaxDelayMs,
          random: this.random,
        });
    for (const p of items) {
      p.lastErrorCode = code;
      if (message !== undefined) p.lastErrorMessage = message;
      if (!retryable) {
        this.fail(
          p,
          new KinesisProducerError(
            'PUT_FAILED',
            `Kinesis rejected the record: ${code}${message ? `: ${message}` : ''}`,
            {
              hint: 'This error is not retryable; check the stream, its encryption key and your permissions.',
              details: { errorCode: code },
            },
          ),
        );
        continue;
      }
      if (code === THROUGHPUT_EXCEEDED && this.opts.failIfThrottled) {
        this.fail(
          p,
          new KinesisProducerError(
            'KINESIS_PRODUCER_THROTTLED',
            `Throttled and failIfThrottled is set: ${message ?? code}`,
            {
              hint: 'Unset failIfThrottled to retry throttled records until their TTL, or add shards.',
              details: { errorCode: code },
            },
          ),
        );
        continue;
      }
      p.notBefore = notBefore;
      if (p.notBefore >= p.deadline) {
        this.expire(p);
        continue;
      }
      retry.push(p);
    }
    if (retry.length === 0) return;
    this.counters.retries += retry.length;
    this.metrics.increment('kinesis_producer_retries_total', retry.length, this.labels);
    if (this.opts.ordered) {
      // back to the front of the queue: later records of the same keys must not overtake them
      for (const p of retry) p.queuedAt = 0;
      this.requeueFront(retry);
      for (const p of retry) {
        const s = this.shard(this.predict(p.hashKey));
        s.blockedUntil = Math.max(s.blockedUntil, p.notBefore);
      }
    } else {
      for (const p of retry) this.delayed.push(p);
    }
  }

  private scheduleWake(now: number): void {
    let at = Number.POSITIVE_INFINITY;
    for (const s of this.shards.values()) {
      const head = s.queue.peek();
      if (!head) continue;
      at = Math.min(at, head.deadline);
      if (this.opts.ordered && s.blockedUntil > now) at = Math.min(at, s.blockedUntil);
      else if (s.limiter && !s.limiter.canSend()) at = Math.min(at, now + s.limiter.msUntilOpen());
      else if (!this.isDue(s, now)) at = Math.min(at, head.queuedAt + this.opts.maxBufferedTimeMs);
    }
    for (const p of this.delayed) at = Math.min(at, p.notBefore);
    for (const u of this.unverified) at = Math.min(at, u.p.deadline);
    if (
      !this.mapLoading &&
      (this.mapState === 'failed' || this.mapStale) &&
      (this.queuedCount > 0 || this.delayed.length > 0 || this.unverified.length > 0)
    )
      at = Math.min(at, this.mapRetryAt);
    if (at === Number.POSITIVE_INFINITY) return;
    if (this.timer && this.timerAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Number.POSITIVE_INFINITY;
        this.pump();
      },
      Math.max(0, at - now),
    );
  }
}
