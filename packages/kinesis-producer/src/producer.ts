import { Writable } from 'node:stream';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { clientResolution, createClient } from '@awskit/core';
import {
  RecordAggregator,
  type UserRecord,
  userRecordHashKeyHex,
  validateUserRecord,
} from '@awskit/kinesis-aggregation';
import { LOCAL_ENDPOINT_DEFAULTS } from './defaults.js';
import { InvalidRecordError, KinesisProducerError, RecordExpiredError } from './errors.js';
import {
  type Pending,
  PRODUCER_SILENCE_LIMIT_MS,
  type PutAllOptions,
  type PutAllSummary,
  type ShardState,
  UNPREDICTED,
} from './producerState.js';
import { Deque } from './queue.js';
import { ShardRateLimiter } from './rateLimiter.js';
import { ResponseLayer } from './responses.js';
import type { ProducerStats, PutResult } from './types.js';

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
export class KinesisProducer extends ResponseLayer {
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

  protected hasRoom(size: number): boolean {
    return this.buffered === 0 || this.buffered + size <= this.opts.maxBufferedBytes;
  }

  protected admit(p: Pending): void {
    this.buffered += p.size;
    this.bufferedCount++;
    this.enqueue(p);
    this.schedulePump();
  }

  protected override shard(id: string): ShardState {
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

  protected enqueue(p: Pending): void {
    this.shard(this.predict(p.hashKey)).queue.push(p);
    this.queuedBytes += p.size;
    this.queuedCount++;
  }

  /** Puts records back at the front of their shard queues (retries, refused entries), oldest first. */
  protected override requeueFront(items: Pending[]): void {
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
  protected override rebucket(): void {
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

  protected release(p: Pending): void {
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

  protected override succeed(p: Pending, result: PutResult, now: number): void {
    if (p.settled) return;
    this.release(p);
    this.metrics.observe('kinesis_producer_put_latency_ms', now - p.putAt, this.labels);
    p.resolve(result);
  }

  protected override fail(p: Pending, error: KinesisProducerError): void {
    if (p.settled) return;
    this.release(p);
    this.counters.failed++;
    this.metrics.increment('kinesis_producer_errors_total', 1, { ...this.labels, code: error.code });
    p.reject(error);
  }

  protected override expire(p: Pending): void {
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

  protected override client(): Promise<KinesisClient> {
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
  protected applyEndpointDefaults(client: KinesisClient): void {
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
}
