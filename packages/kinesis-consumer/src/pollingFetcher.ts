import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type GetShardIteratorCommandInput,
} from '@aws-sdk/client-kinesis';
import { backoffDelay } from '@awskit/core';
import { BatchQueue } from './batchQueue.js';
import { callDeadline } from './deadline.js';
import { pinnedStart } from './records.js';
import type {
  FetchedBatch,
  FetcherContext,
  FetcherFactory,
  PollingOptions,
  ShardFetcher,
  StartingPosition,
} from './types.js';

/** Defaults of {@link PollingOptions}. */
export const POLLING_DEFAULTS = {
  maxRecordsPerFetch: 10_000,
  idleTimeBetweenReadsMs: 250,
  minTimeBetweenReadsMs: 200,
  maxPrefetchBatches: 3,
  backoff: { baseMs: 200, capMs: 5_000 },
} as const satisfies Required<PollingOptions>;

const THROTTLED = new Set([
  'ProvisionedThroughputExceededException',
  'LimitExceededException',
  'ThrottlingException',
]);

function errName(e: unknown): string {
  return (e as { name?: string })?.name ?? '';
}

/**
 * Reads one shard with GetRecords, ahead of the processor by at most `maxPrefetchBatches` batches (back-pressure
 * while the handler is slow). Calls are spaced at least `minTimeBetweenReadsMs` apart (5 reads/s/shard is the
 * Kinesis limit for all readers); throttling backs off with jitter; an expired iterator is renewed after the last
 * record fetched, so nothing is skipped or repeated.
 */
export class PollingFetcher implements ShardFetcher {
  private readonly abort = new AbortController();
  private readonly batches: BatchQueue;
  private readonly opts: Required<Omit<PollingOptions, 'backoff'>> & {
    backoff: { baseMs: number; capMs: number };
  };

  constructor(
    private readonly ctx: FetcherContext,
    options: PollingOptions = {},
  ) {
    this.opts = {
      ...POLLING_DEFAULTS,
      ...options,
      backoff: { ...POLLING_DEFAULTS.backoff, ...options.backoff },
    };
    this.batches = new BatchQueue(this.opts.maxPrefetchBatches, this.abort.signal);
    void this.run();
  }

  next(): Promise<FetchedBatch | undefined> {
    return this.batches.next();
  }

  close(): void {
    this.abort.abort();
    this.batches.close();
  }

  private async getIterator(start: StartingPosition): Promise<string> {
    const input: GetShardIteratorCommandInput = {
      StreamName: this.ctx.streamARN ? undefined : this.ctx.streamName,
      StreamARN: this.ctx.streamARN,
      ShardId: this.ctx.shardId,
      ShardIteratorType: start.type,
    };
    if (start.type === 'AT_TIMESTAMP') input.Timestamp = start.timestamp;
    if (start.type === 'AT_SEQUENCE_NUMBER' || start.type === 'AFTER_SEQUENCE_NUMBER')
      input.StartingSequenceNumber = start.sequenceNumber;
    const r = await this.ctx.kinesis.send(
      new GetShardIteratorCommand(input),
      callDeadline(this.abort.signal),
    );
    return r.ShardIterator!;
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    const { sleep, metrics, logger, shardId } = this.ctx;
    let lastSequence: string | undefined;
    let iterator: string | undefined;
    /** Wall-clock time of the first successful GetShardIterator (see `pinnedStart`). */
    let firstAskedAt: number | undefined;
    let failures = 0;
    let lastCall = Number.NEGATIVE_INFINITY;
    let failure: unknown;
    try {
      while (!signal.aborted) {
        if (this.batches.full) {
          await this.batches.waitForRoom();
          continue;
        }
        try {
          if (!iterator) {
            // Once resolved, the start is pinned: asking for LATEST again would skip what arrived in between.
            const start: StartingPosition = lastSequence
              ? { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: lastSequence }
              : firstAskedAt === undefined
                ? this.ctx.start
                : pinnedStart(this.ctx.start, firstAskedAt);
            const askedAt = Date.now();
            iterator = await this.getIterator(start);
            firstAskedAt ??= askedAt;
          }
          const wait = lastCall + this.opts.minTimeBetweenReadsMs - performance.now();
          if (wait > 0) await sleep(wait, signal);
          lastCall = performance.now();
          const r = await this.ctx.kinesis.send(
            new GetRecordsCommand({ ShardIterator: iterator, Limit: this.opts.maxRecordsPerFetch }),
            callDeadline(signal),
          );
          failures = 0;
          const records = r.Records ?? [];
          if (records.length) lastSequence = records[records.length - 1]!.SequenceNumber;
          iterator = r.NextShardIterator ?? undefined;
          const shardEnded = !r.NextShardIterator;
          if (r.MillisBehindLatest !== undefined)
            metrics.gauge('kinesis_consumer_millis_behind_latest', r.MillisBehindLatest, { shard: shardId });
          // Empty batches go through too (the processor never sees them) so lag stays current.
          const batch: FetchedBatch = { records, shardEnded };
          if (r.MillisBehindLatest !== undefined) batch.millisBehindLatest = r.MillisBehindLatest;
          if (r.ChildShards?.length) batch.childShards = r.ChildShards;
          this.batches.push(batch);
          if (shardEnded) break;
          // At the tip: wait before asking again. Behind (e.g. a gap of trimmed data): read on at once.
          if (!records.length && !r.MillisBehindLatest) await sleep(this.opts.idleTimeBetweenReadsMs, signal);
        } catch (e) {
          if (signal.aborted) break;
          const name = errName(e);
          if (name === 'ExpiredIteratorException') {
            logger.debug('shard iterator expired; renewing', { shardId });
            iterator = undefined;
            continue;
          }
          if (name === 'ResourceNotFoundException' || name === 'AccessDeniedException') throw e;
          const delay = backoffDelay(failures++, this.opts.backoff);
          if (THROTTLED.has(name))
            metrics.increment('kinesis_consumer_throttled_total', 1, { shard: shardId });
          else {
            iterator = name === 'InvalidArgumentException' ? undefined : iterator;
            logger.warn('GetRecords failed; backing off', {
              shardId,
              error: name || String(e),
              delayMs: delay,
            });
          }
          await sleep(delay, signal);
        }
      }
    } catch (e) {
      if (!signal.aborted) failure = e;
    } finally {
      this.batches.finish(failure);
    }
  }
}

/** The default fetcher factory: GetRecords polling. */
export function pollingFetcherFactory(options: PollingOptions = {}): FetcherFactory {
  return (ctx: FetcherContext) => new PollingFetcher(ctx, options);
}
