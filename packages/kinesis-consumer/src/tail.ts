import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { sleep as coreSleep, type Logger, type Metrics, noopLogger, noopMetrics } from '@awskit/core';
import { StreamNotFoundError } from './errors.js';
import { pollingFetcherFactory } from './pollingFetcher.js';
import { isSequenceNumber, toConsumerRecords } from './records.js';
import { computeLeasesToCreate, listAllShards } from './shardSync.js';
import type {
  BadRecordInfo,
  ConsumerRecord,
  FetcherFactory,
  InitialPosition,
  PollingOptions,
  StartingPosition,
} from './types.js';

/** Options of {@link tailStream}. */
export interface TailStreamOptions {
  kinesisClient: KinesisClient;
  streamName?: string;
  streamARN?: string;
  /** Where to start. @default 'LATEST' */
  from?: InitialPosition;
  /** Called with each batch of deaggregated records, one shard's batches in order. */
  onRecords: (records: ConsumerRecord[]) => void | Promise<void>;
  onBadRecord?: (info: BadRecordInfo) => void;
  /** Stops tailing. */
  signal?: AbortSignal;
  polling?: PollingOptions;
  fetcherFactory?: FetcherFactory;
  logger?: Logger;
  metrics?: Metrics;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

function startOf(checkpoint: string, from: InitialPosition): StartingPosition {
  if (isSequenceNumber(checkpoint)) return { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: checkpoint };
  if (checkpoint === 'LATEST') return { type: 'LATEST' };
  if (checkpoint === 'AT_TIMESTAMP' && typeof from === 'object')
    return { type: 'AT_TIMESTAMP', timestamp: from.timestamp };
  return { type: 'TRIM_HORIZON' };
}

/**
 * Reads a whole stream without a lease table (one process, no checkpoints): every shard from `from`, children
 * after their parents end, records deaggregated. For a checkpointed, shared read use {@link KinesisConsumer}.
 * Resolves when `signal` aborts; rejects with the first error of a shard read or of `onRecords`.
 * @throws {StreamNotFoundError}
 */
export async function tailStream(options: TailStreamOptions): Promise<void> {
  const from = options.from ?? 'LATEST';
  const logger = options.logger ?? noopLogger;
  const metrics = options.metrics ?? noopMetrics;
  const sleep = options.sleep ?? coreSleep;
  const stream = { streamName: options.streamName, streamARN: options.streamARN };
  const factory = options.fetcherFactory ?? pollingFetcherFactory(options.polling);
  // Internal stop: the caller's signal, or the first shard that fails.
  const stop = new AbortController();
  const signal = stop.signal;
  if (options.signal?.aborted) return;
  options.signal?.addEventListener('abort', () => stop.abort(), { once: true });
  let failure: unknown;
  let shards: Awaited<ReturnType<typeof listAllShards>>;
  try {
    shards = await listAllShards(options.kinesisClient, stream);
  } catch (e) {
    if ((e as { name?: string }).name === 'ResourceNotFoundException')
      throw new StreamNotFoundError(options.streamARN ?? options.streamName ?? '', e);
    throw e;
  }
  const plan = new Map(
    computeLeasesToCreate(shards, new Set(), from).map((l) => [
      l.leaseKey,
      { parents: l.parentShardIds, checkpoint: l.checkpoint },
    ]),
  );
  const started = new Set<string>();
  const finished = new Set<string>();
  const running: Promise<void>[] = [];
  let chain = Promise.resolve();
  const deliver = (records: ConsumerRecord[]) => {
    const next = chain.then(() => options.onRecords(records));
    chain = next.catch(() => undefined);
    return next;
  };

  const startReady = () => {
    for (const [shardId, s] of plan) {
      if (started.has(shardId)) continue;
      if (!s.parents.every((p) => !plan.has(p) || finished.has(p))) continue;
      started.add(shardId);
      running.push(
        read(shardId, s.checkpoint).catch((e: unknown) => {
          failure ??= e;
          stop.abort();
        }),
      );
    }
  };

  const read = async (shardId: string, checkpoint: string) => {
    const fetcher = factory({
      kinesis: options.kinesisClient,
      ...stream,
      shardId,
      start: startOf(checkpoint, from),
      logger,
      metrics,
      sleep,
    });
    const onAbort = () => fetcher.close();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      for (;;) {
        const batch = await fetcher.next();
        if (!batch) return;
        const conv = toConsumerRecords(batch.records, shardId);
        for (const b of conv.bad) options.onBadRecord?.({ shardId, ...b });
        if (conv.records.length) await deliver(conv.records);
        if (batch.shardEnded) {
          finished.add(shardId);
          for (const c of batch.childShards ?? [])
            if (!plan.has(c.ShardId!))
              plan.set(c.ShardId!, { parents: c.ParentShards ?? [shardId], checkpoint: 'TRIM_HORIZON' });
          startReady();
          return;
        }
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      fetcher.close();
    }
  };

  startReady();
  await new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await Promise.allSettled(running);
  await chain.catch(() => undefined);
  if (failure) throw failure;
}
