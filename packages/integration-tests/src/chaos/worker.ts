/**
 * One consumer worker process of the consumer chaos run. It runs the BUILT `@awskit/kinesis-consumer` with a
 * KCL-style processor that, for every batch, first appends each record it was handed to its log file and then
 * checkpoints the batch and appends a checkpoint line. The log is written with `writeSync` before the processor
 * returns, so a SIGKILL cannot lose a delivery the consumer already made (the kernel keeps what was written).
 *
 * argv[2]: JSON {@link WorkerArgs}. On SIGTERM it stops gracefully (`consumer.stop()`) and exits 0.
 *
 * Log lines (tab separated, `t` = wall-clock microseconds, comparable across the workers of one machine):
 * - `d t worker batch shard sequenceNumber subSequenceNumber key seq runId` — a delivered user record
 * - `c t worker batch shard sequenceNumber subSequenceNumber` — that batch's checkpoint succeeded
 * - `x t worker batch shard error` — that batch's checkpoint failed
 * - `v t worker event detail` — consumer events and warnings (evidence for anomalies)
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import {
  isKinesisConsumerError,
  KinesisConsumer,
  KinesisConsumerErrorCode,
  type RecordProcessor,
} from '@awskit/kinesis-consumer';

/** What the orchestrator hands a worker. */
export interface WorkerArgs {
  /** Endpoint of the fault proxy in front of the local AWS (Kinesis and DynamoDB). */
  endpoint: string;
  region: string;
  streamName: string;
  applicationName: string;
  mode: 'polling' | 'efo';
  workerId: string;
  logFile: string;
  leaseDurationMs: number;
  /** The consumer's `renewIntervalMs` when set (a quarter of the lease otherwise). */
  renewIntervalMs?: number;
  /** The consumer's `leaseMode` when set (its default otherwise). */
  leaseMode?: 'counter' | 'worker-liveness';
  /** The consumer's `stretchHeartbeat` when set. */
  stretchHeartbeat?: boolean;
  /** Passed to the consumer when set (its default otherwise). */
  dropRecordsOutsideHashRange?: boolean;
}

const args = JSON.parse(process.argv[2] ?? '{}') as WorkerArgs;
const fd = openSync(args.logFile, 'a');
const now = () => Math.round((performance.timeOrigin + performance.now()) * 1000);
const write = (text: string) => {
  writeSync(fd, text);
};
const event = (name: string, detail = '') =>
  write(`v\t${now()}\t${args.workerId}\t${name}\t${detail.replace(/[\t\n]/g, ' ')}\n`);
let batchCounter = 0;

const processor = {
  createProcessor(shardId: string): RecordProcessor {
    return {
      initialize({ checkpoint }) {
        event('initialize', `${shardId} ${checkpoint.sequenceNumber}/${checkpoint.subSequenceNumber}`);
      },
      async processRecords({ records, checkpointer }) {
        if (records.length === 0) return;
        const batch = ++batchCounter;
        const t = now();
        let lines = '';
        for (const r of records) {
          let key = '?';
          let seq = -1;
          let runId = '?';
          try {
            const body = JSON.parse(new TextDecoder().decode(r.data)) as { k: string; s: number; r: string };
            key = body.k;
            seq = body.s;
            runId = body.r;
          } catch {
            // Not one of ours: logged with '?' so the analysis can count it.
          }
          lines += `d\t${t}\t${args.workerId}\t${batch}\t${shardId}\t${r.sequenceNumber}\t${r.subSequenceNumber}\t${key}\t${seq}\t${runId}\n`;
        }
        write(lines);
        const last = records[records.length - 1]!;
        try {
          await checkpointer.checkpoint(last);
          write(
            `c\t${now()}\t${args.workerId}\t${batch}\t${shardId}\t${last.sequenceNumber}\t${last.subSequenceNumber}\n`,
          );
        } catch (e) {
          write(
            `x\t${now()}\t${args.workerId}\t${batch}\t${shardId}\t${String(e).replace(/[\t\n]/g, ' ')}\n`,
          );
          // Lease lost: nothing more to do here. Anything else: fail the batch so the consumer retries it.
          if (!isKinesisConsumerError(e, KinesisConsumerErrorCode.LeaseLost)) throw e;
        }
      },
      leaseLost() {
        event('leaseLost', shardId);
      },
      shardEnded() {
        event('shardEnded', shardId);
      },
      async shutdownRequested({ checkpointer }) {
        event('shutdownRequested', shardId);
        await checkpointer
          .checkpoint()
          .catch((e) => event('shutdownCheckpointFailed', `${shardId} ${String(e)}`));
      },
    };
  },
};

const logger = {
  debug: (msg: string, fields?: Record<string, unknown>) => {
    if (msg.startsWith('asked for a lease')) event('debug', `${msg} ${JSON.stringify(fields ?? {})}`);
  },
  // Lease moves with their kind (taken/stolen, previous owner) and hand-off requests: the evidence a duplicate needs.
  info: (msg: string, fields?: Record<string, unknown>) => {
    if (msg.startsWith('lease')) event('info', `${msg} ${JSON.stringify(fields ?? {})}`);
    // Stretched heartbeats: the interval this worker switched to (the run reports them).
    else if (msg.startsWith('heartbeat interval changed'))
      event('heartbeatInterval', String(fields?.heartbeatMs));
  },
  warn: (msg: string, fields?: Record<string, unknown>) =>
    event('warn', `${msg} ${JSON.stringify(fields ?? {})}`),
  error: (msg: string, fields?: Record<string, unknown>) =>
    event('error', `${msg} ${JSON.stringify(fields ?? {})}`),
};

const lease = args.leaseDurationMs;
const consumer = new KinesisConsumer({
  streamName: args.streamName,
  applicationName: args.applicationName,
  workerId: args.workerId,
  mode: args.mode,
  initialPosition: 'TRIM_HORIZON',
  processor,
  clientOptions: {
    endpoint: args.endpoint,
    region: args.region,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    env: {},
  },
  leaseDurationMs: lease,
  renewIntervalMs: args.renewIntervalMs ?? Math.round(lease / 4),
  takeIntervalMs: Math.round(lease / 4),
  shardSyncIntervalMs: 5_000,
  gracefulHandoffTimeoutMs: lease,
  polling: { idleTimeBetweenReadsMs: 100, minTimeBetweenReadsMs: 100, maxRecordsPerFetch: 500 },
  handlerBackoff: { baseMs: 50, capMs: 1_000 },
  efo: { shardEndCheckIntervalMs: 2_000, idleTimeoutMs: 6_000, backoff: { baseMs: 500, capMs: 2_000 } },
  logger,
  ...(args.leaseMode ? { leaseMode: args.leaseMode } : {}),
  ...(args.stretchHeartbeat ? { stretchHeartbeat: true } : {}),
  ...(args.dropRecordsOutsideHashRange !== undefined
    ? { dropRecordsOutsideHashRange: args.dropRecordsOutsideHashRange }
    : {}),
});
consumer.on('leaseAcquired', (s) => event('leaseAcquired', s));
consumer.on('leaseLost', (s) => event('leaseLostEvent', s));
consumer.on('leaseReleased', (s) => event('leaseReleased', s));
consumer.on('shardEnded', (s, children) => event('shardEndedEvent', `${s} → ${children.join(',')}`));
consumer.on('error', (e, s) => event('consumerError', `${s ?? ''} ${String(e)}`));

let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  event('sigterm');
  consumer
    .stop()
    .then(
      () => event('stopped'),
      (e) => event('stopFailed', String(e)),
    )
    .finally(() => {
      closeSync(fd);
      process.exit(0);
    });
});

event('starting', `${args.mode} pid ${process.pid}`);
consumer.start().then(
  () => event('started'),
  (e) => {
    event('startFailed', String(e));
    process.exit(3);
  },
);
