import { isAwskitError, type Logger, type Metrics } from '@awskit/core';
import {
  type Checkpointer,
  type ConsumerRecord,
  type ExtendedSequenceNumber,
  KinesisConsumerErrorCode,
  LeaseLostError,
  type RecordProcessor,
} from '@awskit/kinesis-consumer';
import { ChildSession } from './childProcess.js';
import { ChildProcessFailedError } from './errors.js';
import {
  type ActionMessage,
  CheckpointErrorName,
  type CheckpointResponse,
  type ChildMessage,
  initializeMessage,
  type KclAction,
  processRecordsMessage,
} from './protocol.js';

/** What a shard processor shares with its daemon. */
export interface ShardProcessorContext {
  command: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  processingTimeoutMs: number;
  childExitTimeoutMs: number;
  logger: Logger;
  metrics: Metrics;
  /** Every child of the daemon (so stop() can kill what the consumer abandoned). */
  children: Set<ChildSession>;
  onChildStarted: () => void;
  onChildFailed: (e: ChildProcessFailedError) => void;
  onCheckpoint: (error: string | null) => void;
}

type CheckpointRequest = Extract<ChildMessage, { action: 'checkpoint' }>;

const SEQUENCE = /^\d+$/;

function samePosition(a: ExtendedSequenceNumber | undefined, seq: string, sub: number): boolean {
  return !!a && a.sequenceNumber === seq && a.subSequenceNumber === sub;
}

/** The Java exception simple name the KCL would put in a checkpoint response for this failure. */
export function checkpointErrorName(e: unknown): string {
  if (isAwskitError(e, KinesisConsumerErrorCode.InvalidCheckpoint))
    return CheckpointErrorName.IllegalArgument;
  if (isAwskitError(e, KinesisConsumerErrorCode.LeaseLost)) return CheckpointErrorName.Shutdown;
  const name = String((e as { name?: unknown })?.name ?? '');
  const code = String((e as { code?: unknown })?.code ?? '');
  if (/Throughput|Throttl/.test(name) || code === 'THROTTLED' || /Throttl/.test(String(e)))
    return CheckpointErrorName.Throttling;
  return CheckpointErrorName.Dependency;
}

/**
 * The consumer's `RecordProcessor` for one shard, bridged to a MultiLang child process: each callback becomes
 * one protocol action, answered by the child's `status`; checkpoint requests on the way go to the consumer's
 * checkpointer. A child that fails (exit, timeout, protocol error) is killed and counted, and the shard is handed
 * back so it restarts from its checkpoint with a new child (see `restart`).
 */
export class MultiLangShardProcessor implements RecordProcessor {
  private readonly shardId: string;
  private readonly c: ShardProcessorContext;
  private child?: ChildSession;
  /** True once the child answered `initialize` (only then are the other actions forwarded, as in the KCL). */
  private initialized = false;
  /** Last record delivered in `processRecords` (the KCL rewrites a checkpoint there to SHARD_END at shard end). */
  private lastDelivered?: ExtendedSequenceNumber;
  private shardEndCheckpointed = false;

  constructor(shardId: string, context: ShardProcessorContext) {
    this.shardId = shardId;
    this.c = context;
  }

  async initialize(input: { shardId: string; checkpoint: ExtendedSequenceNumber }): Promise<void> {
    // The consumer retries a failed initialize with backoff: each attempt gets a fresh child.
    if (this.child) await this.dispose();
    const child = new ChildSession({
      shardId: this.shardId,
      command: this.c.command,
      cwd: this.c.cwd,
      env: this.c.env,
      logger: this.c.logger,
      processingTimeoutMs: this.c.processingTimeoutMs,
      childExitTimeoutMs: this.c.childExitTimeoutMs,
    });
    this.child = child;
    this.c.children.add(child);
    void child.closed.then(() => this.c.children.delete(child));
    this.c.onChildStarted();
    this.c.logger.debug('record processor started', { shardId: this.shardId, pid: child.pid });
    try {
      await this.send(initializeMessage(this.shardId, input.checkpoint), null, 'initialize');
    } catch (e) {
      await this.failed(e);
      throw e;
    }
    this.initialized = true;
  }

  async processRecords(input: {
    records: ConsumerRecord[];
    millisBehindLatest?: number;
    checkpointer: Checkpointer;
  }): Promise<void> {
    if (!this.initialized) throw this.restart('processRecords');
    const last = input.records[input.records.length - 1];
    if (last)
      this.lastDelivered = { sequenceNumber: last.sequenceNumber, subSequenceNumber: last.subSequenceNumber };
    try {
      await this.send(
        processRecordsMessage(input.records, input.millisBehindLatest),
        input.checkpointer,
        'processRecords',
      );
    } catch (e) {
      if (!(e instanceof ChildProcessFailedError)) throw e;
      await this.failed(e);
      throw this.restart('processRecords');
    }
  }

  async shardEnded(input: { checkpointer: Checkpointer }): Promise<void> {
    if (!this.initialized) throw this.restart('shardEnded');
    this.shardEndCheckpointed = false;
    try {
      await this.send({ action: 'shardEnded' }, input.checkpointer, 'shardEnded');
    } catch (e) {
      if (!(e instanceof ChildProcessFailedError)) throw e;
      await this.failed(e);
      throw this.restart('shardEnded');
    }
    if (!this.shardEndCheckpointed)
      // The Java KCL retries the shard end forever here (and its daemon never asks the child again); awskit
      // writes SHARD_END itself so the child shards start.
      this.c.logger.warn('record processor did not checkpoint at shard end; SHARD_END is written anyway', {
        shardId: this.shardId,
      });
    await this.dispose();
  }

  async leaseLost(): Promise<void> {
    if (!this.initialized) return void (await this.dispose());
    try {
      await this.send({ action: 'leaseLost' }, null, 'leaseLost');
    } catch (e) {
      await this.failed(e);
      return;
    }
    await this.dispose();
  }

  async shutdownRequested(input: { checkpointer: Checkpointer }): Promise<void> {
    if (!this.initialized) return void (await this.dispose());
    try {
      await this.send({ action: 'shutdownRequested' }, input.checkpointer, 'shutdownRequested');
      // The KCL drops the lease after a requested shutdown, and its shutdown task then sends leaseLost.
      await this.send({ action: 'leaseLost' }, null, 'leaseLost');
    } catch (e) {
      // As in the KCL: a failed shutdownRequested is logged, not fatal (the lease is released either way).
      await this.failed(e);
      return;
    }
    await this.dispose();
  }

  private async send(msg: ActionMessage, checkpointer: Checkpointer | null, phase: KclAction): Promise<void> {
    const child = this.child;
    if (!child) throw new ChildProcessFailedError(this.shardId, phase, 'exit', 'no record processor process');
    const started = performance.now();
    await child.request(msg, (req) => this.checkpoint(req, checkpointer, phase));
    this.c.metrics.observe('kcl_multilang_action_duration_ms', performance.now() - started, {
      action: phase,
    });
  }

  /** Carries out one checkpoint request like `MultiLangProtocol#checkpoint` and builds its response. */
  private async checkpoint(
    req: CheckpointRequest,
    checkpointer: Checkpointer | null,
    phase: KclAction,
  ): Promise<CheckpointResponse> {
    const seq = req.sequenceNumber ?? null;
    const sub = req.subSequenceNumber ?? null;
    const answer = (error: string | null): CheckpointResponse => {
      this.c.onCheckpoint(error);
      if (error)
        this.c.logger.info('checkpoint refused', {
          shardId: this.shardId,
          during: phase,
          sequenceNumber: seq,
          error,
        });
      // The response echoes the request as received, not the value stored (as the Java daemon does).
      return {
        action: 'checkpoint',
        sequenceNumber: typeof seq === 'string' ? seq : seq === null ? null : String(seq),
        subSequenceNumber: typeof sub === 'number' ? sub : null,
        error,
      };
    };
    if (!checkpointer) return answer(CheckpointErrorName.InvalidState);
    try {
      if (seq === null) {
        // "At the last record delivered" (at shard end: SHARD_END, which the consumer writes after shardEnded).
        await checkpointer.checkpoint();
        if (phase === 'shardEnded') this.shardEndCheckpointed = true;
        return answer(null);
      }
      if (phase === 'shardEnded' && seq === 'SHARD_END') {
        this.shardEndCheckpointed = true;
        return answer(null);
      }
      if (typeof seq !== 'string' || !SEQUENCE.test(seq)) return answer(CheckpointErrorName.IllegalArgument);
      if (sub !== null && !(typeof sub === 'number' && Number.isInteger(sub) && sub >= 0))
        return answer(CheckpointErrorName.IllegalArgument);
      const subSequenceNumber = sub ?? 0;
      await checkpointer.checkpoint({ sequenceNumber: seq, subSequenceNumber });
      // The KCL rewrites a checkpoint at the last delivered record to SHARD_END during shardEnded (without the
      // "already checkpointed" slip of KCL #211).
      if (phase === 'shardEnded' && samePosition(this.lastDelivered, seq, subSequenceNumber))
        this.shardEndCheckpointed = true;
      return answer(null);
    } catch (e) {
      return answer(checkpointErrorName(e));
    }
  }

  /** Logs and counts a failed child, then kills it. */
  private async failed(e: unknown): Promise<void> {
    const child = this.child;
    this.initialized = false;
    if (e instanceof ChildProcessFailedError) {
      this.c.onChildFailed(e);
      this.c.logger.error('record processor failed', {
        shardId: this.shardId,
        action: e.action,
        reason: e.reason,
        error: e.message,
        pid: child?.pid,
        stderr: (e.details?.stderr as string[] | undefined)?.join(' | ') || undefined,
      });
    } else this.c.logger.error('record processor failed', { shardId: this.shardId, error: String(e) });
    if (child) {
      child.kill();
      await child.closed;
    }
    this.child = undefined;
  }

  /**
   * The error that makes the consumer leave the shard without a checkpoint and release its lease, so it is taken
   * again and read from its checkpoint with a new child: a new process must see every record after the
   * checkpoint, not only the batch that was in flight (what a restarted Java daemon does).
   */
  private restart(action: string): Error {
    this.c.logger.debug('handing the shard back to restart it from its checkpoint', {
      shardId: this.shardId,
      action,
    });
    return new LeaseLostError(this.shardId);
  }

  private async dispose(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    this.initialized = false;
    if (child) await child.close();
  }
}
