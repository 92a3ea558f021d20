import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import {
  type ClientOptions,
  createClient,
  type Logger,
  type Metrics,
  noopLogger,
  noopMetrics,
} from '@awskit/core';
import { KinesisConsumer, type KinesisConsumerOptions } from '@awskit/kinesis-consumer';
import type { ChildSession } from './childProcess.js';
import { DaemonStateError, ExecutableNotFoundError } from './errors.js';
import { MultiLangShardProcessor } from './shardProcessor.js';
import type { KclProperties, MultiLangDaemonOptions, MultiLangDaemonStats } from './types.js';

/** Defaults of the daemon's own options. */
export const DAEMON_DEFAULTS = {
  /** The KCL waits forever; a hung processor should not hold a shard for ever, so awskit gives up after 5 min. */
  processingTimeoutMs: 300_000,
  childExitTimeoutMs: 10_000,
} as const;

/** Same request timeouts as the consumer gives the clients it builds itself. */
const KINESIS_SILENCE_LIMIT_MS = 30_000;

function isExecutableFile(p: string): boolean {
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Where `command` resolves to, like `spawn` without a shell would find it; undefined when nowhere. */
function findExecutable(command: string, cwd: string, env: NodeJS.ProcessEnv): string | undefined {
  if (command.includes('/') || isAbsolute(command)) {
    const p = isAbsolute(command) ? command : join(cwd, command);
    return isExecutableFile(p) ? p : undefined;
  }
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const p = join(isAbsolute(dir) ? dir : join(cwd, dir), command);
    if (isExecutableFile(p)) return p;
  }
  return undefined;
}

/**
 * Client options for one service: the caller's explicit endpoint/region (CLI flags) win, then the properties
 * file's `<service>Endpoint`/`regionName`/profile, then awskit's resolution of the environment and shared config.
 */
export function serviceClientOptions(
  props: KclProperties,
  service: 'kinesis' | 'dynamodb',
  base: ClientOptions = {},
): ClientOptions {
  const fileEndpoint = service === 'kinesis' ? props.kinesisEndpoint : props.dynamoDBEndpoint;
  const explicitEndpoint = base.endpoint !== undefined || base.local === true;
  return {
    ...base,
    ...(!explicitEndpoint && fileEndpoint ? { endpoint: fileEndpoint } : {}),
    ...(base.region === undefined && props.region ? { region: props.region } : {}),
    ...(base.profile === undefined && base.credentials === undefined && props.profile
      ? { profile: props.profile }
      : {}),
    service,
  };
}

/**
 * The KCL MultiLang daemon without Java: leases, checkpoints and reading come from `@awskit/kinesis-consumer`;
 * each leased shard gets its own record processor process (`executableName`) spoken to over stdin/stdout with the
 * KCL MultiLang protocol, so processors written for npm `aws-kcl` or Python `amazon_kclpy` run unchanged.
 *
 * @example
 * const { properties, dir } = await loadKclProperties('app.properties');
 * const daemon = new MultiLangDaemon({ properties, cwd: dir, clientOptions: { local: true }, logger });
 * await daemon.start();
 * process.once('SIGTERM', () => daemon.stop());
 */
export class MultiLangDaemon {
  private readonly o: MultiLangDaemonOptions;
  private readonly logger: Logger;
  private readonly metrics: Metrics;
  private readonly children = new Set<ChildSession>();
  private readonly counts: MultiLangDaemonStats = {
    childrenStarted: 0,
    childrenRunning: 0,
    childFailures: { exit: 0, timeout: 0, protocol: 0, spawn: 0 },
    checkpointRequests: 0,
    checkpointErrors: 0,
  };
  private consumer?: KinesisConsumer;
  private stopping?: Promise<void>;

  /** @throws {ExecutableNotFoundError} when `executableName`'s command cannot be found. */
  constructor(options: MultiLangDaemonOptions) {
    this.o = options;
    this.logger = options.logger ?? noopLogger;
    this.metrics = options.metrics ?? noopMetrics;
  }

  /** The working directory of the children. */
  get cwd(): string {
    return this.o.cwd ?? process.cwd();
  }

  /** The consumer underneath (for `heldLeases()`, `assignments()`, events) once started. */
  get kinesisConsumer(): KinesisConsumer | undefined {
    return this.consumer;
  }

  /** This worker's id (the `leaseOwner` it writes), once started. */
  get workerId(): string | undefined {
    return this.consumer?.workerId;
  }

  /** Children started, running and failed, and checkpoint requests answered. */
  stats(): MultiLangDaemonStats {
    return {
      ...this.counts,
      childrenRunning: this.children.size,
      childFailures: { ...this.counts.childFailures },
    };
  }

  /**
   * Checks the command, builds the clients, and starts the consumer (which creates the lease table if missing
   * and starts taking leases; each lease starts a child).
   * @throws {ExecutableNotFoundError} @throws {DaemonStateError} and the consumer's start errors
   *   (`StreamNotFoundError`, `ConsumerAccessDeniedError`, `LeaseTableError`, `ConsumerOptionsError`).
   */
  async start(): Promise<void> {
    if (this.consumer) throw new DaemonStateError('start() called twice');
    const o = this.o;
    const p = o.properties;
    const env = o.env ?? process.env;
    const cwd = this.cwd;
    // Fail at start, not in every shard's initialize: the Java daemon exits on a child it cannot start.
    if (!findExecutable(p.command[0]!, cwd, env)) throw new ExecutableNotFoundError(p.command[0]!, cwd);
    for (const key of p.unknownKeys)
      this.logger.warn(`unknown key ${key} in the properties (ignored)`, { key });
    for (const { key, reason } of p.ignoredKeys) this.logger.info(`${key} has no effect here: ${reason}`);
    const leaseMs = p.consumer.leaseDurationMs ?? o.consumerOverrides?.leaseDurationMs ?? 3_000;
    const kinesisClient =
      o.kinesisClient ??
      (await createClient(KinesisClient, {
        requestTimeoutMs: KINESIS_SILENCE_LIMIT_MS,
        connectionTimeoutMs: 5_000,
        ...serviceClientOptions(p, 'kinesis', o.clientOptions),
      }));
    const dynamoClient =
      o.dynamoClient ??
      (await createClient(DynamoDBClient, {
        requestTimeoutMs: Math.max(2_000, leaseMs),
        connectionTimeoutMs: 3_000,
        ...serviceClientOptions(p, 'dynamodb', o.clientOptions),
      }));
    const context = {
      command: p.command,
      cwd,
      env,
      processingTimeoutMs:
        o.processingTimeoutMs ?? p.processingTimeoutMs ?? DAEMON_DEFAULTS.processingTimeoutMs,
      childExitTimeoutMs: o.childExitTimeoutMs ?? DAEMON_DEFAULTS.childExitTimeoutMs,
      logger: this.logger,
      metrics: this.metrics,
      children: this.children,
      onChildStarted: () => {
        this.counts.childrenStarted++;
        this.metrics.increment('kcl_multilang_children_started_total');
      },
      onChildFailed: (e: { shardId: string; reason: keyof MultiLangDaemonStats['childFailures'] }) => {
        this.counts.childFailures[e.reason]++;
        this.metrics.increment('kcl_multilang_child_failures_total', 1, {
          shard: e.shardId,
          reason: e.reason,
        });
      },
      onCheckpoint: (error: string | null) => {
        this.counts.checkpointRequests++;
        if (error) this.counts.checkpointErrors++;
        this.metrics.increment('kcl_multilang_checkpoint_requests_total', 1, { error: error ?? 'none' });
      },
    };
    const consumerOptions: KinesisConsumerOptions = {
      ...(p.streamARN ? { streamARN: p.streamARN } : { streamName: p.streamName }),
      applicationName: p.applicationName,
      ...(p.tableName ? { tableName: p.tableName } : {}),
      ...(p.workerId ? { workerId: p.workerId } : {}),
      initialPosition: p.initialPosition,
      mode: p.mode,
      // A KCL drop-in: its lease table may be shared with Java KCL workers (a rolling migration), which judge leases
      // by their counters. The consumer's own default (one heartbeat per worker) is for awskit-only fleets.
      leaseMode: 'counter',
      ...p.consumer,
      ...o.consumerOverrides,
      polling: { ...p.consumer.polling, ...o.consumerOverrides?.polling },
      processor: { createProcessor: (shardId) => new MultiLangShardProcessor(shardId, context) },
      kinesisClient,
      dynamoClient,
      logger: this.logger,
      metrics: this.metrics,
    };
    const consumer = new KinesisConsumer(consumerOptions);
    consumer.on('error', (e, shardId) => {
      this.logger.warn('consumer error', { shardId, error: e instanceof Error ? e.message : String(e) });
    });
    consumer.on('leaseLost', (shardId) => this.logger.info('lease lost', { shardId }));
    consumer.on('shardEnded', (shardId, children) => this.logger.info('shard ended', { shardId, children }));
    this.consumer = consumer;
    await consumer.start();
    this.logger.info('KCL MultiLang daemon started', {
      workerId: consumer.workerId,
      application: p.applicationName,
      stream: p.streamARN ?? p.streamName,
      command: p.executableName,
      cwd,
      mode: p.mode,
    });
  }

  /**
   * Graceful stop: every child gets `shutdownRequested` (and may checkpoint), then `leaseLost`; its stdin is
   * closed; then the leases are released. Children still running after the consumer's `shutdownTimeoutMs` are
   * killed (their leases expire, nothing is checkpointed for them). Safe to call more than once.
   */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.stopping = (async () => {
      if (!this.consumer) return;
      await this.consumer.stop();
      const left = [...this.children];
      for (const c of left) c.kill();
      await Promise.all(left.map((c) => c.closed));
      if (left.length)
        this.logger.warn('killed record processors that did not finish', { count: left.length });
      this.logger.info('KCL MultiLang daemon stopped', this.stats().childFailures);
    })();
    return this.stopping;
  }
}
