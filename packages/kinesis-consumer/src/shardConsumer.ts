import type { ChildShard, KinesisClient } from '@aws-sdk/client-kinesis';
import { backoffDelay, isAwskitError, type Logger, type Metrics } from '@awskit/core';
import { InvalidCheckpointError, KinesisConsumerErrorCode, LeaseLostError } from './errors.js';
import type { HeldLease, LeaseCoordinator } from './leaseCoordinator.js';
import type { LeaseTable } from './leaseTable.js';
import { withShardLabel } from './multiStream.js';
import { comparePositions, isSequenceNumber, LATEST_SKEW_MARGIN_MS, toConsumerRecords } from './records.js';
import { listAllShards, newLease } from './shardSync.js';
import {
  type BadRecordInfo,
  type BatchHandler,
  type Checkpointer,
  type ConsumerRecord,
  type ExtendedSequenceNumber,
  type FetcherFactory,
  type HandlerErrorAction,
  type HandlerErrorInfo,
  type HeldLeaseInfo,
  type InitialPosition,
  type RecordProcessor,
  SentinelCheckpoint,
  type ShardFetcher,
  type StartingPosition,
} from './types.js';

/** A processor as the shard consumer runs it: batch mode (auto-checkpoint) or KCL callbacks. */
export type ResolvedProcessor =
  | { kind: 'batch'; handler: BatchHandler }
  | { kind: 'kcl'; processor: RecordProcessor };

/** Everything a {@link ShardConsumer} needs. */
export interface ShardConsumerOptions {
  held: HeldLease;
  coordinator: LeaseCoordinator;
  table: LeaseTable;
  kinesis: KinesisClient;
  stream: { streamName?: string; streamARN?: string };
  processor: ResolvedProcessor;
  fetcherFactory: FetcherFactory;
  initialPosition: InitialPosition;
  handlerBackoff: { baseMs: number; capMs: number };
  onError?: (error: unknown, info: HandlerErrorInfo) => HandlerErrorAction | Promise<HandlerErrorAction>;
  onBadRecord?: (info: BadRecordInfo) => void;
  dropRecordsOutsideHashRange: boolean;
  logger: Logger;
  metrics: Metrics;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Reports a problem that did not stop the worker (the consumer's `error` event). */
  report: (error: unknown, shardId: string) => void;
  /** After reading a shard failed, this worker leaves it alone for this long. */
  failureCooldownMs: number;
  /** Shard end handled (children created, SHARD_END written). */
  onShardEnded: (shardId: string, childShardIds: string[]) => void;
  /** Batch handler: at most one checkpoint write per this interval (0 = after every batch). */
  checkpointIntervalMs: number;
  /**
   * Multi-stream mode: the stream's identifier `account:stream:creationEpoch`, the prefix of its lease keys (the
   * held lease's key is `<identifier>:<shardId>`; Kinesis and the processor see the plain shard id).
   */
  streamIdentifier?: string;
  /** The stream's name, as the processor is told it. */
  streamName?: string;
}

export { LATEST_SKEW_MARGIN_MS };

/** Empty ListShards answers tolerated at a shard end before going on without child leases. */
const CHILD_LISTING_ATTEMPTS = 5;

function asPosition(p: ExtendedSequenceNumber | ConsumerRecord): ExtendedSequenceNumber {
  return { sequenceNumber: p.sequenceNumber, subSequenceNumber: p.subSequenceNumber };
}

/**
 * Processes one leased shard: fetches in order, deaggregates, hands one batch at a time to the processor,
 * checkpoints, and at shard end creates the child leases and checkpoints `SHARD_END` itself (the KCL leaves this
 * to the application, whose forgotten checkpoint is the classic "children never start" bug, KCL #211).
 */
export class ShardConsumer {
  /** The lease key (the shard id for a single stream): this consumer's identity in maps, metrics and logs. */
  readonly shardId: string;
  /** The Kinesis shard id (differs from {@link shardId} in multi-stream mode). */
  readonly kinesisShardId: string;
  /** What the processor is told about the shard. */
  private readonly names: { shardId: string; streamName?: string };
  state: HeldLeaseInfo['state'] = 'initializing';
  millisBehindLatest?: number;
  recordsProcessed = 0;
  /** Last checkpoint written (or read at start). */
  checkpointPosition: ExtendedSequenceNumber;
  /** True once this consumer has left the shard (its handler is no longer running). */
  ended = false;
  /** Last record of the last batch the processor finished (or skipped). */
  private lastProcessed?: ExtendedSequenceNumber;
  /**
   * How far the checkpointer may go: the batch in the processor while `processRecords` runs (a KCL processor
   * checkpoints inside it), else the last processed record. Never a batch whose processing failed.
   */
  private checkpointBound?: ExtendedSequenceNumber;
  private fetcher?: ShardFetcher;
  /** Batch mode: when the last checkpoint write was sent (or the lease taken), on the monotonic clock. */
  private lastCheckpointWriteAt = performance.now();
  /** Batch mode: the timed write of a checkpoint left pending by coalescing. */
  private flushTimer?: ReturnType<typeof setTimeout>;
  /** Batch mode: checkpoint writes run one after the other (a timed write never races the loop's own). */
  private flushChain: Promise<void> = Promise.resolve();
  private shutdownRequested = false;
  /** Aborted on shutdown or lease loss: interrupts backoff sleeps so stop() never waits on a failing handler. */
  private readonly interrupt = new AbortController();
  private readonly o: ShardConsumerOptions;
  private readonly held: HeldLease;
  readonly done: Promise<void>;

  constructor(options: ShardConsumerOptions) {
    this.o = options;
    this.held = options.held;
    this.shardId = options.held.shardId;
    this.kinesisShardId = options.streamIdentifier
      ? this.shardId.slice(options.streamIdentifier.length + 1)
      : this.shardId;
    this.names = { shardId: this.kinesisShardId };
    if (options.streamName) this.names.streamName = options.streamName;
    const l = options.held.lease;
    this.checkpointPosition = {
      sequenceNumber: l.checkpoint,
      subSequenceNumber: l.checkpointSubSequenceNumber,
    };
    this.held.abort.signal.addEventListener(
      'abort',
      () => {
        this.fetcher?.close();
        this.interrupt.abort();
      },
      { once: true },
    );
    this.done = this.run().finally(() => {
      this.ended = true;
      if (this.flushTimer) clearTimeout(this.flushTimer);
    });
  }

  /** Graceful stop: finish the batch in flight, give the processor a last chance to checkpoint, release. */
  requestShutdown(): void {
    this.shutdownRequested = true;
    this.fetcher?.close();
    this.interrupt.abort();
  }

  /** Leaves the shard after an interrupted step: lost → leaseLost callback; shutdown → release. */
  private bail(): Promise<void> {
    return this.lost ? this.finishLost() : this.finishShutdown();
  }

  private get lost(): boolean {
    return this.held.lost || this.held.abort.signal.aborted;
  }

  /** Lease still ours by the local clock too (a renewal may be hung); marks it lost when not. */
  private stillMine(): boolean {
    return !this.lost && this.o.coordinator.stillHeld(this.held);
  }

  private readonly checkpointer: Checkpointer = {
    checkpoint: async (position) => {
      const target = position ? asPosition(position) : this.checkpointBound;
      if (!target) return;
      // "Checkpoint what was processed" when nothing new was: no write (not an error).
      if (!position && this.isCheckpointed(target)) return;
      this.validate(target);
      await this.o.coordinator.checkpoint(this.held, target);
      this.checkpointPosition = target;
      this.o.metrics.increment('kinesis_consumer_checkpoints_total', 1, { shard: this.shardId });
    },
    prepareCheckpoint: async (position) => {
      const target = position ? asPosition(position) : this.checkpointBound;
      if (!target) return;
      if (!position && this.isCheckpointed(target)) return;
      this.validate(target);
      await this.o.coordinator.prepareCheckpoint(this.held, target);
    },
  };

  /**
   * Batch mode: writes the checkpoint of the last processed record unless it is already written. Never beyond it:
   * a batch in the handler (or one that failed) is not covered. Serialized with the other flushes.
   */
  private flushCheckpoint(): Promise<void> {
    const run = async () => {
      const target = this.lastProcessed;
      if (!target || this.isCheckpointed(target) || this.lost) return;
      this.validate(target);
      this.lastCheckpointWriteAt = performance.now();
      await this.o.coordinator.checkpoint(this.held, target);
      this.checkpointPosition = target;
      this.o.metrics.increment('kinesis_consumer_checkpoints_total', 1, { shard: this.shardId });
    };
    const p = this.flushChain.then(run, run);
    this.flushChain = p.catch(() => undefined);
    return p;
  }

  /** Batch mode, coalescing: writes the pending checkpoint once the interval since the last write is up. */
  private scheduleFlush(): void {
    if (this.flushTimer || this.ended) return;
    const wait = Math.max(0, this.o.checkpointIntervalMs - (performance.now() - this.lastCheckpointWriteAt));
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      if (this.ended || this.lost || this.shutdownRequested) return;
      this.flushCheckpoint().catch((e: unknown) => {
        // A lost lease is handled by the coordinator (the loop sees it); anything else: try again later.
        if (isAwskitError(e, KinesisConsumerErrorCode.LeaseLost) || this.lost) return;
        this.o.logger.warn('checkpoint failed; retrying', { shardId: this.shardId, error: String(e) });
        this.scheduleFlush();
      });
    }, wait);
    (this.flushTimer as { unref?: () => void }).unref?.();
  }

  /** Final checkpoint before giving the shard up (batch mode; best effort: one attempt, the release follows). */
  private async finalCheckpoint(): Promise<void> {
    if (this.o.processor.kind !== 'batch' || this.lost) return;
    try {
      await this.flushCheckpoint();
    } catch (e) {
      if (!isAwskitError(e, KinesisConsumerErrorCode.LeaseLost))
        this.o.logger.warn('final checkpoint failed', { shardId: this.shardId, error: String(e) });
    }
  }

  /** Final checkpoint, then release (read failure, unexpected end). */
  private async checkpointAndRelease(): Promise<void> {
    await this.finalCheckpoint();
    await this.o.coordinator.release(this.held);
  }

  private isCheckpointed(target: ExtendedSequenceNumber): boolean {
    const cp = this.checkpointPosition;
    return isSequenceNumber(cp.sequenceNumber) && comparePositions(target, cp) <= 0;
  }

  private validate(target: ExtendedSequenceNumber): void {
    if (!isSequenceNumber(target.sequenceNumber))
      throw new InvalidCheckpointError(`not a sequence number: ${target.sequenceNumber}`);
    if (
      isSequenceNumber(this.checkpointPosition.sequenceNumber) &&
      comparePositions(target, this.checkpointPosition) < 0
    )
      throw new InvalidCheckpointError(
        `checkpoint ${target.sequenceNumber}/${target.subSequenceNumber} is before the last checkpoint ${this.checkpointPosition.sequenceNumber}/${this.checkpointPosition.subSequenceNumber}`,
      );
    if (!this.checkpointBound || comparePositions(target, this.checkpointBound) > 0)
      throw new InvalidCheckpointError(
        `checkpoint ${target.sequenceNumber}/${target.subSequenceNumber} is after the last successfully processed record`,
      );
  }

  private startingPosition(): { start: StartingPosition; resumeAfter?: ExtendedSequenceNumber } {
    const cp = this.checkpointPosition;
    if (isSequenceNumber(cp.sequenceNumber))
      // AT (not AFTER) the checkpoint, then skip what it covers: resumes inside a KPL aggregate.
      return { start: { type: 'AT_SEQUENCE_NUMBER', sequenceNumber: cp.sequenceNumber }, resumeAfter: cp };
    if (cp.sequenceNumber === SentinelCheckpoint.LATEST) {
      const t = this.held.lease.latestStartedAt;
      // An earlier owner started this LATEST lease and never checkpointed: continue from when it started
      // (minus a clock-skew margin), not from a new LATEST, which would skip what arrived in between.
      if (t !== undefined)
        return { start: { type: 'AT_TIMESTAMP', timestamp: new Date(t - LATEST_SKEW_MARGIN_MS) } };
      return { start: { type: 'LATEST' } };
    }
    if (cp.sequenceNumber === SentinelCheckpoint.AT_TIMESTAMP) {
      const ip = this.o.initialPosition;
      // A KCL table may say AT_TIMESTAMP without us knowing the time: read everything rather than skip.
      if (typeof ip === 'object') return { start: { type: 'AT_TIMESTAMP', timestamp: ip.timestamp } };
      return { start: { type: 'TRIM_HORIZON' } };
    }
    return { start: { type: 'TRIM_HORIZON' } };
  }

  /** Retries `fn` with backoff until it succeeds or the lease is lost; LeaseLostError ends it. */
  private async persist<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
    for (let attempt = 0; ; attempt++) {
      if (this.lost || (this.shutdownRequested && attempt > 0)) return undefined;
      try {
        return await fn();
      } catch (e) {
        if (isAwskitError(e, KinesisConsumerErrorCode.LeaseLost) || this.lost) return undefined;
        const delay = backoffDelay(attempt, this.o.handlerBackoff);
        this.o.logger.warn(`${what} failed; retrying`, {
          shardId: this.shardId,
          error: String(e),
          delayMs: delay,
        });
        try {
          await this.o.sleep(delay, this.interrupt.signal);
        } catch {
          return undefined;
        }
      }
    }
  }

  private async run(): Promise<void> {
    const { processor, logger, metrics } = this.o;
    try {
      if (this.checkpointPosition.sequenceNumber === SentinelCheckpoint.SHARD_END) {
        await this.o.coordinator.release(this.held);
        return;
      }
      if (processor.kind === 'kcl' && processor.processor.initialize) {
        const l = this.held.lease;
        const ok = await this.persist('initialize', async () => {
          await processor.processor.initialize!({
            ...this.names,
            checkpoint: this.checkpointPosition,
            ...(l.pendingCheckpoint
              ? {
                  pendingCheckpoint: {
                    sequenceNumber: l.pendingCheckpoint,
                    subSequenceNumber: l.pendingCheckpointSubSequenceNumber ?? 0,
                  },
                }
              : {}),
          });
          return true;
        });
        if (!ok) return this.bail();
      }
      if (
        this.checkpointPosition.sequenceNumber === SentinelCheckpoint.LATEST &&
        this.held.lease.latestStartedAt === undefined
      ) {
        // Wall-clock time taken *before* the LATEST iterator: a later owner resumes from here (see above).
        const ok = await this.persist('mark LATEST start', async () => {
          await this.o.coordinator.markLatestStart(this.held, Date.now());
          return true;
        });
        if (!ok) return this.bail();
      }
      const { start, resumeAfter } = this.startingPosition();
      const fetcher = this.o.fetcherFactory({
        kinesis: this.o.kinesis,
        streamName: this.o.stream.streamName,
        streamARN: this.o.stream.streamARN,
        shardId: this.kinesisShardId,
        ...(this.o.streamIdentifier ? { leaseKey: this.shardId } : {}),
        start,
        logger,
        // The fetcher labels metrics with the shard id; per-shard series are keyed by the lease key.
        metrics: this.o.streamIdentifier ? withShardLabel(metrics, this.shardId) : metrics,
        sleep: this.o.sleep,
      });
      this.fetcher = fetcher;
      if (this.lost || this.shutdownRequested) fetcher.close();
      this.state = 'processing';
      const l = this.held.lease;
      const hashRange =
        this.o.dropRecordsOutsideHashRange && l.startingHashKey !== undefined && l.endingHashKey !== undefined
          ? { StartingHashKey: l.startingHashKey, EndingHashKey: l.endingHashKey }
          : undefined;
      let resume = resumeAfter;
      for (;;) {
        if (this.lost) return this.finishLost();
        if (this.shutdownRequested) return this.finishShutdown();
        let batch: Awaited<ReturnType<ShardFetcher['next']>>;
        try {
          batch = await fetcher.next();
        } catch (e) {
          if ((e as { name?: string }).name === 'ResourceNotFoundException' && (await this.shardIsGone())) {
            // The shard left the stream (past retention while nobody read it). Treat it as ended, like the KCL,
            // so its children are not blocked forever.
            logger.warn('shard no longer exists; treating it as ended', { shardId: this.shardId });
            fetcher.close();
            await this.endShard(undefined);
            return;
          }
          this.o.report(e, this.shardId);
          this.o.coordinator.avoid(this.shardId, this.o.failureCooldownMs);
          logger.error('reading the shard failed; releasing its lease', {
            shardId: this.shardId,
            error: String(e),
          });
          fetcher.close();
          await this.checkpointAndRelease();
          return;
        }
        if (!batch) {
          if (this.lost || this.shutdownRequested) continue; // closed by us: the loop top decides
          // A fetcher that ends without a shard end or an error would otherwise spin here: hand the shard on.
          this.o.report(new Error(`fetcher for ${this.shardId} ended unexpectedly`), this.shardId);
          await this.checkpointAndRelease();
          return;
        }
        if (batch.millisBehindLatest !== undefined) this.millisBehindLatest = batch.millisBehindLatest;
        const conv = toConsumerRecords(batch.records, this.kinesisShardId, {
          resumeAfter: resume,
          hashRange,
        });
        if (resume && batch.records.length) resume = undefined;
        for (const bad of conv.bad) {
          metrics.increment('kinesis_consumer_bad_records_total', 1, { shard: this.shardId });
          logger.warn('malformed KPL aggregate delivered raw', {
            shardId: this.shardId,
            sequenceNumber: bad.sequenceNumber,
            error: bad.error.message,
          });
          this.o.onBadRecord?.({
            ...this.names,
            sequenceNumber: bad.sequenceNumber,
            error: bad.error,
          });
        }
        if (conv.droppedOutOfRange)
          metrics.increment('kinesis_consumer_records_dropped_out_of_range_total', conv.droppedOutOfRange, {
            shard: this.shardId,
          });
        if (conv.records.length) {
          const ok = await this.deliver(conv.records, batch.millisBehindLatest);
          if (!ok) return this.bail();
        }
        if (batch.shardEnded) {
          await this.endShard(batch.childShards);
          return;
        }
      }
    } catch (e) {
      // Unexpected: report, and give the shard to someone else rather than leave it stuck.
      this.o.report(e, this.shardId);
      logger.error('shard consumer failed', { shardId: this.shardId, error: String(e) });
      this.fetcher?.close();
      await this.checkpointAndRelease();
    }
  }

  /** Hands a batch to the processor until it succeeds (or the user skips it). @returns false when the lease was lost. */
  private async deliver(records: ConsumerRecord[], millisBehindLatest: number | undefined): Promise<boolean> {
    const { processor, metrics } = this.o;
    const last = asPosition(records[records.length - 1]!);
    for (let attempt = 1; ; attempt++) {
      // A retry is not started once stop() was called: the batch stays unCheckpointed for the next owner.
      if (this.shutdownRequested && attempt > 1) return false;
      // Checked on the local clock before every attempt: a worker whose lease writes hang must not go on
      // delivering a shard that another worker may already have taken.
      if (!this.stillMine()) return false;
      const started = performance.now();
      this.checkpointBound = last;
      try {
        if (processor.kind === 'batch')
          await processor.handler(records, {
            ...this.names,
            millisBehindLatest,
            signal: this.held.abort.signal,
            attempt,
          });
        else
          await processor.processor.processRecords({
            ...this.names,
            records,
            millisBehindLatest,
            checkpointer: this.checkpointer,
          });
        metrics.observe('kinesis_consumer_batch_duration_ms', performance.now() - started, {
          shard: this.shardId,
        });
        this.lastProcessed = last;
        break;
      } catch (e) {
        // The batch failed: nothing of it beyond what the processor checkpointed itself may be checkpointed.
        this.checkpointBound = this.lastProcessed;
        if (isAwskitError(e, KinesisConsumerErrorCode.LeaseLost) || this.lost) return false;
        metrics.increment('kinesis_consumer_handler_errors_total', 1, { shard: this.shardId });
        let action: HandlerErrorAction = 'retry';
        if (this.o.onError) {
          try {
            action = await this.o.onError(e, { ...this.names, records, attempt });
          } catch (hookError) {
            this.o.logger.error('onError hook threw; retrying the batch', { error: String(hookError) });
          }
        }
        this.o.logger.warn('record handler failed', {
          shardId: this.shardId,
          attempt,
          action,
          error: e instanceof Error ? e.message : String(e),
        });
        if (action === 'skip') {
          metrics.increment('kinesis_consumer_batches_skipped_total', 1, { shard: this.shardId });
          // The user chose to move on: the batch counts as handled.
          this.lastProcessed = last;
          this.checkpointBound = last;
          if (processor.kind === 'kcl') {
            // Skipping in KCL mode means "move on": checkpoint past it so it is not redelivered.
            await this.persist('checkpoint', async () => {
              await this.checkpointer.checkpoint();
              return true;
            });
            if (this.lost) return false;
          }
          break;
        }
        try {
          await this.o.sleep(backoffDelay(attempt - 1, this.o.handlerBackoff), this.interrupt.signal);
        } catch {
          return false;
        }
      }
    }
    this.recordsProcessed += records.length;
    metrics.increment('kinesis_consumer_records_processed_total', records.length, { shard: this.shardId });
    if (processor.kind === 'batch') {
      const interval = this.o.checkpointIntervalMs;
      // Coalescing: write now only when the interval since the last write is up (or the lease is being handed
      // over); else a later batch or the timer writes it.
      if (
        interval <= 0 ||
        performance.now() - this.lastCheckpointWriteAt >= interval ||
        this.held.handoffRequested
      ) {
        const ok = await this.persist('checkpoint', async () => {
          await this.flushCheckpoint();
          return true;
        });
        if (!ok) return false;
      } else this.scheduleFlush();
    }
    return true;
  }

  /** True when the stream exists but no longer lists this shard. */
  private async shardIsGone(): Promise<boolean> {
    try {
      const shards = await listAllShards(this.o.kinesis, this.o.stream);
      return !shards.some((s) => s.ShardId === this.kinesisShardId);
    } catch {
      return false;
    }
  }

  private async childShardsFallback(): Promise<ChildShard[]> {
    const shards = await listAllShards(this.o.kinesis, this.o.stream);
    return shards
      .filter(
        (s) => s.ParentShardId === this.kinesisShardId || s.AdjacentParentShardId === this.kinesisShardId,
      )
      .map((s) => ({
        ShardId: s.ShardId!,
        ParentShards: [s.ParentShardId, s.AdjacentParentShardId].filter((p): p is string => !!p),
        HashKeyRange: s.HashKeyRange!,
      }));
  }

  private async endShard(childShards: ChildShard[] | undefined): Promise<void> {
    this.state = 'ending';
    const { processor } = this.o;
    if (processor.kind === 'kcl' && processor.processor.shardEnded) {
      const ok = await this.persist('shardEnded', async () => {
        await processor.processor.shardEnded!({ ...this.names, checkpointer: this.checkpointer });
        return true;
      });
      if (!ok) return this.bail();
    }
    let listings = 0;
    const children = childShards?.length
      ? childShards
      : await this.persist('ListShards', async () => {
          const found = await this.childShardsFallback();
          // A closed shard always has children; ListShards may not show them yet. After a few empty answers go
          // on without (shard sync creates any missing child lease later), never on a failed or interrupted call.
          if (!found.length && ++listings < CHILD_LISTING_ATTEMPTS)
            throw new Error(`ListShards shows no children of ${this.kinesisShardId} yet`);
          return found;
        });
    // Interrupted (stop, lease lost) before the children were known: leave the shard for the next owner.
    if (children === undefined) return this.bail();
    // Children first, then SHARD_END: there is never a moment where the parent is done but a child has no lease.
    for (const c of children) {
      const created = await this.persist('create child lease', () =>
        this.o.table.createLeaseIfNotExists(
          newLease(
            c.ShardId!,
            SentinelCheckpoint.TRIM_HORIZON,
            c.ParentShards ?? [this.kinesisShardId],
            c.HashKeyRange,
            this.o.streamIdentifier,
          ),
        ),
      );
      if (created === undefined) return this.bail();
    }
    const childIds = children.map((c) => c.ShardId!);
    const ok = await this.persist('checkpoint SHARD_END', async () => {
      await this.o.coordinator.checkpoint(
        this.held,
        { sequenceNumber: SentinelCheckpoint.SHARD_END, subSequenceNumber: 0 },
        { childShardIds: childIds, releaseOwner: true },
      );
      return true;
    });
    if (!ok) return this.bail();
    this.checkpointPosition = { sequenceNumber: SentinelCheckpoint.SHARD_END, subSequenceNumber: 0 };
    this.o.coordinator.forget(this.held);
    this.o.logger.info('shard ended; SHARD_END checkpointed', { shardId: this.shardId, children: childIds });
    this.o.metrics.increment('kinesis_consumer_shards_ended_total', 1, {
      worker: this.o.coordinator.workerId,
    });
    this.o.onShardEnded(this.shardId, childIds);
    this.o.coordinator.leaseSetChanged();
  }

  private async finishLost(): Promise<void> {
    this.fetcher?.close();
    if (this.o.processor.kind === 'kcl' && this.o.processor.processor.leaseLost) {
      try {
        await this.o.processor.processor.leaseLost({ ...this.names });
      } catch (e) {
        this.o.logger.warn('leaseLost callback threw', { shardId: this.shardId, error: String(e) });
      }
    }
    this.o.coordinator.forget(this.held);
  }

  private async finishShutdown(): Promise<void> {
    this.state = 'shutting-down';
    this.fetcher?.close();
    const { processor } = this.o;
    await this.finalCheckpoint();
    if (processor.kind === 'kcl' && processor.processor.shutdownRequested) {
      try {
        await processor.processor.shutdownRequested({
          ...this.names,
          checkpointer: this.checkpointer,
        });
      } catch (e) {
        if (!(e instanceof LeaseLostError))
          this.o.logger.warn('shutdownRequested callback threw', { shardId: this.shardId, error: String(e) });
      }
    }
    await this.o.coordinator.release(this.held);
  }
}
