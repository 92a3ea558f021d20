import {
  type _Record,
  type ChildShard,
  DescribeStreamConsumerCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  RegisterStreamConsumerCommand,
  type StartingPosition as SdkStartingPosition,
  SubscribeToShardCommand,
  type SubscribeToShardEvent,
} from '@aws-sdk/client-kinesis';
import { backoffDelay, isAwskitError } from '@awskit/core';
import { listShards } from '@awskit/kinesis-aggregation';
import { BatchQueue } from './batchQueue.js';
import { CALL_DEADLINE_MS, callDeadline } from './deadline.js';
import { EfoRegistrationError, KinesisConsumerErrorCode } from './errors.js';
import { pinnedStart } from './records.js';
import type {
  FetchedBatch,
  FetcherContext,
  FetcherFactory,
  ShardFetcher,
  StartingPosition,
} from './types.js';

/** Tuning of the enhanced fan-out fetcher. */
export interface EfoOptions {
  /** Name of the stream consumer to register (or reuse). @default the application name */
  consumerName?: string;
  /** Use this registered consumer instead of registering one by name. */
  consumerARN?: string;
  /**
   * No event for this long means the subscription is half-open (the connection died without an error): abort it
   * and resubscribe from the last continuation. The service sends an event at least every few seconds, even with
   * no records. @default 30_000
   */
  idleTimeoutMs?: number;
  /**
   * Resubscribe after this long, ahead of the service ending every subscription at 5 minutes, so a subscription
   * never ends in the middle of a long handler call. @default 290_000
   */
  maxSubscriptionMs?: number;
  /** Kinesis allows one SubscribeToShard per second per shard per consumer. @default 1_000 */
  minTimeBetweenSubscribesMs?: number;
  /** Batches (events) buffered ahead of the processor; reading pauses while full (TCP back-pressure). @default 3 */
  maxPrefetchBatches?: number;
  /** Backoff after a failed subscription (never shorter than `minTimeBetweenSubscribesMs`). @default { baseMs: 1_000, capMs: 10_000 } */
  backoff?: { baseMs?: number; capMs?: number };
  /** How long to wait for a new stream consumer to become ACTIVE. @default 120_000 */
  registerTimeoutMs?: number;
  /**
   * A subscription that sits at the tip of its shard this long checks (ListShards, shared by all shards, then
   * GetRecords) whether the shard was closed. AWS reports shard end in the event itself; emulators such as
   * kinesis-mock never do, and a closed shard would otherwise never reach SHARD_END. @default 10_000
   */
  shardEndCheckIntervalMs?: number;
}

/** Defaults of {@link EfoOptions}. */
export const EFO_DEFAULTS = {
  idleTimeoutMs: 30_000,
  maxSubscriptionMs: 290_000,
  minTimeBetweenSubscribesMs: 1_000,
  maxPrefetchBatches: 3,
  backoff: { baseMs: 1_000, capMs: 10_000 },
  registerTimeoutMs: 120_000,
  shardEndCheckIntervalMs: 10_000,
} as const;

type ResolvedEfoOptions = Required<Omit<EfoOptions, 'backoff' | 'consumerARN' | 'consumerName'>> & {
  backoff: { baseMs: number; capMs: number };
};

const FATAL = new Set(['AccessDeniedException', 'KMSAccessDeniedException', 'KMSNotFoundException']);

function errName(e: unknown): string {
  return (e as { name?: string })?.name ?? '';
}

function compareSeq(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function toSdkPosition(p: StartingPosition): SdkStartingPosition {
  if (p.type === 'AT_TIMESTAMP') return { Type: 'AT_TIMESTAMP', Timestamp: p.timestamp };
  if (p.type === 'AT_SEQUENCE_NUMBER' || p.type === 'AFTER_SEQUENCE_NUMBER')
    return { Type: p.type, SequenceNumber: p.sequenceNumber };
  return { Type: p.type };
}

class IdleTimeout extends Error {
  override readonly name = 'IdleTimeout';
}

/**
 * State shared by the fetchers of one consumer: the registered stream consumer's ARN (registered once) and a
 * short-lived cache of which shards are closed.
 */
class EfoShared {
  private consumerARN?: Promise<string>;
  private closed?: { at: number; ids: Promise<Set<string>> };

  constructor(
    private readonly options: EfoOptions,
    private readonly sleep: FetcherContext['sleep'],
  ) {}

  /** Registers the stream consumer if missing and waits until it is ACTIVE (memoized; retried after failure). */
  consumer(ctx: FetcherContext): Promise<string> {
    if (this.options.consumerARN) return Promise.resolve(this.options.consumerARN);
    this.consumerARN ??= this.register(ctx).catch((e) => {
      this.consumerARN = undefined;
      throw e;
    });
    return this.consumerARN;
  }

  private async register(ctx: FetcherContext): Promise<string> {
    const { kinesis } = ctx;
    const name = this.options.consumerName;
    if (!name) throw new EfoRegistrationError('enhanced fan-out needs a consumerName or consumerARN');
    const streamARN =
      ctx.streamARN ??
      (await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: ctx.streamName }), callDeadline()))
        .StreamDescriptionSummary!.StreamARN!;
    const timeout = this.options.registerTimeoutMs ?? EFO_DEFAULTS.registerTimeoutMs;
    const deadline = performance.now() + timeout;
    for (let attempt = 0; ; attempt++) {
      let status: string | undefined;
      let arn: string | undefined;
      try {
        const d = await kinesis.send(
          new DescribeStreamConsumerCommand({ StreamARN: streamARN, ConsumerName: name }),
          callDeadline(),
        );
        status = d.ConsumerDescription?.ConsumerStatus;
        arn = d.ConsumerDescription?.ConsumerARN;
      } catch (e) {
        if (errName(e) !== 'ResourceNotFoundException') throw e;
        try {
          const r = await kinesis.send(
            new RegisterStreamConsumerCommand({ StreamARN: streamARN, ConsumerName: name }),
            callDeadline(),
          );
          ctx.logger.info('registered stream consumer', { consumerName: name, streamARN });
          status = r.Consumer?.ConsumerStatus;
          arn = r.Consumer?.ConsumerARN;
        } catch (re) {
          // Another worker registered it first: describe again.
          if (errName(re) !== 'ResourceInUseException') throw re;
        }
      }
      if (status === 'ACTIVE' && arn) return arn;
      if (performance.now() > deadline)
        throw new EfoRegistrationError(
          `stream consumer ${name} is not ACTIVE after ${timeout} ms (status ${status ?? 'unknown'})`,
        );
      await this.sleep(Math.min(1_000, 50 * 2 ** attempt));
    }
  }

  /** Drops the memoized consumer ARN (after the service said it does not exist) so the next call registers again. */
  forgetConsumer(): void {
    this.consumerARN = undefined;
  }

  /** Ids of closed shards (those with an EndingSequenceNumber), cached for `ttlMs`. */
  closedShards(ctx: FetcherContext, ttlMs: number): Promise<Set<string>> {
    const now = performance.now();
    if (!this.closed || now - this.closed.at > ttlMs) {
      const ids = (async () => {
        const out = new Set<string>();
        const shards = await listShards(ctx.kinesis, ctx, { callTimeoutMs: CALL_DEADLINE_MS });
        for (const s of shards) if (s.SequenceNumberRange?.EndingSequenceNumber) out.add(s.ShardId!);
        return out;
      })();
      ids.catch(() => {
        this.closed = undefined;
      });
      this.closed = { at: now, ids };
    }
    return this.closed.ids;
  }
}

/**
 * Reads one shard through enhanced fan-out: SubscribeToShard, continuing from each event's
 * `ContinuationSequenceNumber`. Resubscribes before the 5-minute limit, after errors (with backoff, at most once a
 * second per shard as Kinesis allows) and when no event arrived for `idleTimeoutMs` (a half-open connection, the
 * KCL's "stuck for an hour" bug). Shard end comes from the event's `ChildShards` (or, on emulators that never
 * report it, from a GetRecords check once the shard is closed). Same batch semantics as the polling fetcher.
 */
export class EfoFetcher implements ShardFetcher {
  private readonly abort = new AbortController();
  private readonly batches: BatchQueue;
  private subscription?: AbortController;
  /** Wall-clock time of the first successful SubscribeToShard (see `pinnedStart`). */
  private firstAskedAt?: number;

  /** The configured start until it was resolved once, then pinned (LATEST is never resolved twice). */
  private resolvedStart(): StartingPosition {
    return this.firstAskedAt === undefined ? this.ctx.start : pinnedStart(this.ctx.start, this.firstAskedAt);
  }

  constructor(
    private readonly ctx: FetcherContext,
    private readonly opts: ResolvedEfoOptions,
    private readonly shared: EfoShared,
  ) {
    this.batches = new BatchQueue(opts.maxPrefetchBatches, this.abort.signal);
    void this.run();
  }

  next(): Promise<FetchedBatch | undefined> {
    return this.batches.next();
  }

  close(): void {
    this.abort.abort();
    this.subscription?.abort();
    this.batches.close();
  }

  /** Races `p` against the idle deadline; the loser is aborted/ignored. */
  private withIdleDeadline<T>(p: Promise<T>): Promise<T> {
    p.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new IdleTimeout()), this.opts.idleTimeoutMs);
    });
    idle.catch(() => undefined);
    return Promise.race([p, idle]).finally(() => clearTimeout(timer));
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    const { sleep, metrics, logger, shardId } = this.ctx;
    const labels = { shard: shardId };
    // Last sequence number handed out: resubscriptions continue after it, and redelivered records are dropped.
    let continuation: string | undefined;
    let lastRecord: string | undefined;
    let lastSubscribeAt = Number.NEGATIVE_INFINITY;
    let failures = 0;
    let registering = false;
    let notFound = 0;
    let idleInARow = 0;
    let failure: unknown;
    try {
      while (!signal.aborted) {
        const start: StartingPosition = continuation
          ? { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: continuation }
          : this.resolvedStart();
        const wait = lastSubscribeAt + this.opts.minTimeBetweenSubscribesMs - performance.now();
        if (wait > 0) await sleep(wait, signal);
        let reason: 'expiry' | 'idle' | 'error' | 'ended' | 'shard-end' = 'ended';
        const sub = new AbortController();
        this.subscription = sub;
        const onAbort = () => sub.abort();
        signal.addEventListener('abort', onAbort, { once: true });
        try {
          registering = true;
          const consumerARN = await this.shared.consumer(this.ctx);
          registering = false;
          lastSubscribeAt = performance.now();
          metrics.increment('kinesis_consumer_efo_subscriptions_total', 1, labels);
          const askedAt = Date.now();
          const response = await this.withIdleDeadline(
            this.ctx.kinesis.send(
              new SubscribeToShardCommand({
                ConsumerARN: consumerARN,
                ShardId: shardId,
                StartingPosition: toSdkPosition(start),
              }),
              { abortSignal: sub.signal as never },
            ),
          );
          this.firstAskedAt ??= askedAt;
          const events = response.EventStream![Symbol.asyncIterator]();
          const subscribedAt = performance.now();
          let atTipSince: number | undefined;
          for (;;) {
            const r = await this.withIdleDeadline(events.next());
            if (r.done) break;
            const e: SubscribeToShardEvent | undefined = r.value.SubscribeToShardEvent;
            if (!e) continue;
            failures = 0;
            notFound = 0;
            idleInARow = 0;
            let records: _Record[] = e.Records ?? [];
            if (lastRecord && records.length) {
              const after = lastRecord;
              records = records.filter((x) => compareSeq(x.SequenceNumber!, after) > 0);
            }
            if (records.length) lastRecord = records[records.length - 1]!.SequenceNumber!;
            const shardEnded = !e.ContinuationSequenceNumber;
            if (e.ContinuationSequenceNumber) continuation = e.ContinuationSequenceNumber;
            if (e.MillisBehindLatest !== undefined)
              metrics.gauge('kinesis_consumer_millis_behind_latest', e.MillisBehindLatest, labels);
            const batch: FetchedBatch = { records, shardEnded };
            if (e.MillisBehindLatest !== undefined) batch.millisBehindLatest = e.MillisBehindLatest;
            if (e.ChildShards?.length) batch.childShards = e.ChildShards;
            this.batches.push(batch);
            if (shardEnded) {
              reason = 'shard-end';
              break;
            }
            await this.batches.waitForRoom();
            if (signal.aborted) break;
            if (!records.length && !e.MillisBehindLatest) {
              atTipSince ??= performance.now();
              if (performance.now() - atTipSince >= this.opts.shardEndCheckIntervalMs) {
                atTipSince = performance.now();
                let ended = false;
                try {
                  ended = await this.checkShardEnd(continuation ?? lastRecord);
                } catch (err) {
                  // A throttled ListShards/GetRecords must not cost a healthy subscription: check again later.
                  if (signal.aborted) break;
                  logger.debug('shard-end check failed', { shardId, error: errName(err) || String(err) });
                }
                if (ended) {
                  reason = 'shard-end';
                  break;
                }
              }
            } else atTipSince = undefined;
            if (performance.now() - subscribedAt >= this.opts.maxSubscriptionMs) {
              reason = 'expiry';
              break;
            }
          }
        } catch (e) {
          if (signal.aborted) break;
          const name = errName(e);
          if (e instanceof IdleTimeout) {
            reason = 'idle';
            metrics.increment('kinesis_consumer_efo_idle_timeouts_total', 1, labels);
            // One warning per silent episode, not one per retry (KCL's ReadTimeout floods, #399/#391).
            logger[idleInARow++ === 0 ? 'warn' : 'debug'](
              'no enhanced fan-out event within the idle deadline; resubscribing',
              { shardId, idleTimeoutMs: this.opts.idleTimeoutMs },
            );
          } else {
            reason = 'error';
            if (FATAL.has(name)) throw e;
            if (name === 'ResourceNotFoundException') {
              // While registering: the stream is gone. From SubscribeToShard: the stream consumer may have been
              // deregistered (register it again once), else the shard or stream is gone.
              if (registering || notFound++ > 0) throw e;
              this.shared.forgetConsumer();
            }
            if (isAwskitError(e, KinesisConsumerErrorCode.EfoRegistration)) throw e;
            // ResourceInUse: the previous subscription of this shard is still open on the service side
            // (it lingers a few seconds after we hang up). Back off, never faster than 1 subscribe/s.
            const delay = Math.max(
              this.opts.minTimeBetweenSubscribesMs,
              backoffDelay(failures++, this.opts.backoff),
            );
            metrics.increment('kinesis_consumer_efo_subscribe_errors_total', 1, {
              ...labels,
              error: name || 'unknown',
            });
            logger[name === 'ResourceInUseException' ? 'debug' : 'warn'](
              'SubscribeToShard failed; retrying',
              {
                shardId,
                error: name || String(e),
                delayMs: delay,
              },
            );
            sub.abort();
            await sleep(delay, signal);
          }
        } finally {
          sub.abort();
          signal.removeEventListener('abort', onAbort);
        }
        if (reason === 'shard-end') break;
        if (reason !== 'error' && !signal.aborted)
          metrics.increment('kinesis_consumer_efo_resubscribes_total', 1, { ...labels, reason });
      }
    } catch (e) {
      if (!signal.aborted) failure = e;
    } finally {
      this.batches.finish(failure);
    }
  }

  /**
   * At the tip of a shard that ListShards reports closed, reads the rest with GetRecords: a final batch with the
   * remaining records (if any) and the child shards. @returns true when the shard end was pushed.
   */
  private async checkShardEnd(after: string | undefined): Promise<boolean> {
    const { ctx } = this;
    const closed = await this.shared.closedShards(ctx, this.opts.shardEndCheckIntervalMs / 2);
    if (!closed.has(ctx.shardId)) return false;
    const start: StartingPosition = after
      ? { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: after }
      : this.resolvedStart();
    let iterator = (
      await ctx.kinesis.send(
        new GetShardIteratorCommand({
          StreamName: ctx.streamARN ? undefined : ctx.streamName,
          StreamARN: ctx.streamARN,
          ShardId: ctx.shardId,
          ShardIteratorType: start.type,
          ...(start.type === 'AT_TIMESTAMP' ? { Timestamp: start.timestamp } : {}),
          ...('sequenceNumber' in start ? { StartingSequenceNumber: start.sequenceNumber } : {}),
        }),
        callDeadline(this.abort.signal),
      )
    ).ShardIterator;
    const records: _Record[] = [];
    let childShards: ChildShard[] | undefined;
    while (iterator) {
      const r = await ctx.kinesis.send(
        new GetRecordsCommand({ ShardIterator: iterator }),
        callDeadline(this.abort.signal),
      );
      records.push(...(r.Records ?? []));
      if (r.ChildShards?.length) childShards = r.ChildShards;
      iterator = r.NextShardIterator;
      if (iterator && !r.Records?.length && !r.MillisBehindLatest) return false; // not actually at its end
    }
    ctx.logger.debug('closed shard read to its end with GetRecords', { shardId: ctx.shardId });
    const batch: FetchedBatch = { records, shardEnded: true, millisBehindLatest: 0 };
    if (childShards) batch.childShards = childShards;
    this.batches.push(batch);
    return true;
  }
}

/**
 * Enhanced fan-out fetchers: registers the stream consumer once (shared by every shard of the worker), then one
 * subscription per shard. Pass to `fetcherFactory`, or use `mode: 'efo'` on the consumer.
 *
 * @example
 * new KinesisConsumer({ ..., mode: 'efo', consumerName: 'orders-indexer' })
 */
export function efoFetcherFactory(options: EfoOptions = {}): FetcherFactory {
  const resolved: ResolvedEfoOptions = {
    idleTimeoutMs: options.idleTimeoutMs ?? EFO_DEFAULTS.idleTimeoutMs,
    maxSubscriptionMs: options.maxSubscriptionMs ?? EFO_DEFAULTS.maxSubscriptionMs,
    minTimeBetweenSubscribesMs: options.minTimeBetweenSubscribesMs ?? EFO_DEFAULTS.minTimeBetweenSubscribesMs,
    maxPrefetchBatches: options.maxPrefetchBatches ?? EFO_DEFAULTS.maxPrefetchBatches,
    registerTimeoutMs: options.registerTimeoutMs ?? EFO_DEFAULTS.registerTimeoutMs,
    shardEndCheckIntervalMs: options.shardEndCheckIntervalMs ?? EFO_DEFAULTS.shardEndCheckIntervalMs,
    backoff: { ...EFO_DEFAULTS.backoff, ...options.backoff },
  };
  let shared: EfoShared | undefined;
  return (ctx: FetcherContext) => {
    shared ??= new EfoShared({ ...options, registerTimeoutMs: resolved.registerTimeoutMs }, ctx.sleep);
    return new EfoFetcher(ctx, resolved, shared);
  };
}

/** The ARN of a registered stream consumer, registering it if missing (exposed for tools and benchmarks). */
export async function ensureStreamConsumer(
  kinesis: KinesisClient,
  input: { streamName?: string; streamARN?: string; consumerName: string; registerTimeoutMs?: number },
): Promise<string> {
  const shared = new EfoShared(
    { consumerName: input.consumerName, registerTimeoutMs: input.registerTimeoutMs },
    (ms) => new Promise((r) => setTimeout(r, ms)),
  );
  const noop = () => {};
  return shared.consumer({
    kinesis,
    streamName: input.streamName,
    streamARN: input.streamARN,
    shardId: '',
    start: { type: 'LATEST' },
    logger: { debug: noop, info: noop, warn: noop, error: noop },
    metrics: { increment: noop, gauge: noop, observe: noop },
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  });
}
