import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Logger } from '@awskit/core';
import { ChildProcessFailedError } from './errors.js';
import {
  type ActionMessage,
  type CheckpointResponse,
  type ChildMessage,
  type DaemonMessage,
  parseChildLine,
} from './protocol.js';

/** Everything a {@link ChildSession} needs. */
export interface ChildSessionOptions {
  shardId: string;
  /** argv: `executableName` split on spaces. */
  command: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /** Longest wait for one message of the child. */
  processingTimeoutMs: number;
  /** After stdin is closed, how long the child may take to exit before SIGKILL. */
  childExitTimeoutMs: number;
}

/** Lines of stderr kept to explain a failure. */
const STDERR_TAIL = 10;
/** A child that exited but whose pipes stay open (a grandchild holds them) counts as gone after this. */
const PIPE_LINGER_MS = 1_000;

/**
 * One record processor process, speaking the MultiLang protocol: daemon→child messages on stdin (one JSON object
 * and `\n` each, never a blank line), child→daemon messages read from stdout *continuously* into a FIFO (so a
 * chatty child never blocks on a full pipe), stderr streamed line by line to the logger.
 */
export class ChildSession {
  readonly shardId: string;
  private readonly o: ChildSessionOptions;
  private readonly proc: ChildProcess;
  private readonly queue: ChildMessage[] = [];
  private wake?: () => void;
  private readonly stderrTail: string[] = [];
  /** Set when the process is gone (exit and its pipes closed, or it never started). */
  gone = false;
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;
  spawnError?: Error;
  readonly closed: Promise<void>;

  constructor(options: ChildSessionOptions) {
    this.o = options;
    this.shardId = options.shardId;
    const [file, ...args] = options.command;
    // Own process group: a Ctrl-C in the terminal reaches only the daemon, which then gives each child its
    // shutdownRequested. A child outliving a killed daemon still ends: its stdin closes.
    this.proc = spawn(file!, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    let markClosed!: () => void;
    this.closed = new Promise<void>((resolve) => {
      markClosed = resolve;
    });
    const finish = () => {
      if (this.gone) return;
      this.gone = true;
      this.wake?.();
      markClosed();
    };
    this.proc.on('error', (e) => {
      this.spawnError = e;
      finish();
    });
    this.proc.on('exit', (code, signal) => {
      this.exitCode = code;
      this.exitSignal = signal;
      setTimeout(finish, PIPE_LINGER_MS).unref();
    });
    this.proc.on('close', finish);
    // A write to a child that died fails asynchronously with EPIPE: the exit is what counts.
    this.proc.stdin!.on('error', () => {});
    createInterface({ input: this.proc.stdout!, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
      const parsed = parseChildLine(line);
      if (!parsed) return;
      if ('skipped' in parsed) {
        options.logger.info('skipping unexpected line on child stdout', {
          shardId: this.shardId,
          reason: parsed.skipped,
          line: line.length > 200 ? `${line.slice(0, 200)}…` : line,
        });
        return;
      }
      this.queue.push(parsed.message);
      this.wake?.();
    });
    createInterface({ input: this.proc.stderr!, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
      this.stderrTail.push(line);
      if (this.stderrTail.length > STDERR_TAIL) this.stderrTail.shift();
      options.logger.info(`[${this.shardId}] ${line}`, { pid: this.proc.pid });
    });
  }

  /** The process id (undefined if it could not be started). */
  get pid(): number | undefined {
    return this.proc.pid;
  }

  private failure(action: string, reason: 'exit' | 'timeout' | 'protocol' | 'spawn', message: string) {
    return new ChildProcessFailedError(this.shardId, action, reason, message, {
      details: {
        pid: this.pid,
        exitCode: this.exitCode,
        signal: this.exitSignal,
        stderr: [...this.stderrTail],
      },
      ...(this.spawnError ? { cause: this.spawnError } : {}),
    });
  }

  private goneError(action: string): ChildProcessFailedError {
    if (this.spawnError)
      return this.failure(
        action,
        'spawn',
        `cannot start "${this.o.command.join(' ')}": ${this.spawnError.message}`,
      );
    const how = this.exitSignal ? `killed by ${this.exitSignal}` : `exited with code ${this.exitCode}`;
    return this.failure(action, 'exit', `the process ${how}`);
  }

  private write(action: string, msg: DaemonMessage): void {
    const stdin = this.proc.stdin!;
    if (this.gone || stdin.destroyed || stdin.writableEnded) throw this.goneError(action);
    stdin.write(`${JSON.stringify(msg)}\n`);
  }

  /** The next message, waiting at most `processingTimeoutMs` for it. */
  private async next(action: string): Promise<ChildMessage> {
    for (;;) {
      const m = this.queue.shift();
      if (m) return m;
      if (this.gone) throw this.goneError(action);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await new Promise<boolean>((resolve) => {
        this.wake = () => resolve(false);
        timer = setTimeout(() => resolve(true), this.o.processingTimeoutMs);
      });
      clearTimeout(timer);
      this.wake = undefined;
      if (timedOut && !this.queue.length && !this.gone)
        throw this.failure(action, 'timeout', `no answer within ${this.o.processingTimeoutMs} ms`);
    }
  }

  /**
   * Sends one action and waits for its `status`, answering each `checkpoint` request on the way with
   * `onCheckpoint` (exactly one response per request, in order).
   * @throws {ChildProcessFailedError} when the child exits, times out, or answers for another action.
   */
  async request(
    msg: ActionMessage,
    onCheckpoint: (req: Extract<ChildMessage, { action: 'checkpoint' }>) => Promise<CheckpointResponse>,
  ): Promise<void> {
    const action = msg.action;
    this.write(action, msg);
    for (;;) {
      const m = await this.next(action);
      if (m.action === 'checkpoint') {
        this.write(action, await onCheckpoint(m));
        continue;
      }
      if (m.responseFor !== action)
        throw this.failure(
          action,
          'protocol',
          `status for ${JSON.stringify(m.responseFor)} while waiting for ${action}`,
        );
      return;
    }
  }

  /** Ends the child's life the KCL way: close stdin, let it exit; SIGKILL after `childExitTimeoutMs`. */
  async close(): Promise<void> {
    if (!this.gone) this.proc.stdin!.end();
    let timer: NodeJS.Timeout | undefined;
    const exited = await Promise.race([
      this.closed.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), this.o.childExitTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (!exited) {
      this.o.logger.warn('record processor did not exit after its stdin closed; killing it', {
        shardId: this.shardId,
        pid: this.pid,
        waitedMs: this.o.childExitTimeoutMs,
      });
      this.kill();
      await this.closed;
    }
  }

  /** Kills the process at once (a hung or broken child). */
  kill(): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
  }
}
