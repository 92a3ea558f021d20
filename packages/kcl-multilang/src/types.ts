import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { ClientOptions, Logger, Metrics } from '@awskit/core';
import type { InitialPosition, KinesisConsumerOptions } from '@awskit/kinesis-consumer';

/** A KCL MultiLang configuration, as read from a `.properties` file and mapped onto awskit's consumer. */
export interface KclProperties {
  /** The record processor command line, split on spaces like the Java daemon (no shell, no quoting). */
  command: string[];
  /** The raw `executableName`. */
  executableName: string;
  applicationName: string;
  /** Set when the file gives `streamName` and no `streamArn`. */
  streamName?: string;
  /** `streamArn` (wins over `streamName`, as in the KCL). */
  streamARN?: string;
  tableName?: string;
  workerId?: string;
  /** `initialPositionInStream` (+ `initialPositionInStreamExtended` for AT_TIMESTAMP). @default 'LATEST' */
  initialPosition: InitialPosition;
  /** `regionName`. */
  region?: string;
  /** `kinesisEndpoint`. */
  kinesisEndpoint?: string;
  /** `dynamoDBEndpoint`. */
  dynamoDBEndpoint?: string;
  /** `ProfileCredentialsProvider|name` in `AwsCredentialsProvider`. */
  profile?: string;
  /** `retrievalMode` (DEFAULT = polling when a polling key is set, else fan-out, as in the KCL). */
  mode: 'polling' | 'efo';
  /** Consumer options the file sets (`failoverTimeMillis` → `leaseDurationMs`, `maxRecords`, …). */
  consumer: Partial<
    Pick<
      KinesisConsumerOptions,
      | 'leaseDurationMs'
      | 'foreignLeaseDurationMs'
      | 'maxLeasesForWorker'
      | 'shardSyncIntervalMs'
      | 'shutdownTimeoutMs'
      | 'polling'
      | 'handlerBackoff'
    >
  >;
  /** `timeoutInSeconds` × 1000. */
  processingTimeoutMs?: number;
  /** Every key as found (after the `AwsCredentialsProvider` case fix). */
  raw: Record<string, string>;
  /** Keys that are not KCL keys (warned about, not fatal). */
  unknownKeys: string[];
  /** KCL keys accepted but without effect here, with why. */
  ignoredKeys: { key: string; reason: string }[];
}

/** Clients: pass your own, or let the daemon build them (properties endpoints/region, then `clientOptions`). */
export interface MultiLangClientChoice {
  /** Kinesis client. @default built with `@awskit/core` from the properties and `clientOptions` */
  kinesisClient?: KinesisClient;
  /** DynamoDB client for the lease table. @default built like `kinesisClient` */
  dynamoClient?: DynamoDBClient;
  /**
   * awskit resolution inputs (`--profile`, `--region`, `--endpoint-url`, `--local`). An explicit `endpoint`/`local`
   * or `region` here beats the file's `kinesisEndpoint`/`dynamoDBEndpoint`/`regionName`; the file beats the
   * environment (`AWS_ENDPOINT_URL*`, `AWS_REGION`) and the shared config.
   */
  clientOptions?: ClientOptions;
}

/** Options of {@link MultiLangDaemon}. */
export interface MultiLangDaemonBaseOptions {
  /** The parsed properties (see `loadKclProperties` / `parseKclProperties`). */
  properties: KclProperties;
  /** Working directory of the child processes. @default the properties file's directory, else `process.cwd()` */
  cwd?: string;
  /** Environment of the child processes. @default process.env */
  env?: NodeJS.ProcessEnv;
  /**
   * Longest wait for any one message of a child (a `status` or a `checkpoint` request; the timer restarts after
   * each, like the KCL's `timeoutInSeconds`). A child silent for longer is killed and its shard restarted from
   * its checkpoint. @default properties `timeoutInSeconds`, else 300_000
   */
  processingTimeoutMs?: number;
  /** After its stdin is closed, how long a child may take to exit before it is killed. @default 10_000 */
  childExitTimeoutMs?: number;
  /** Extra consumer options; they win over what the properties say (tests shorten leases with this). */
  consumerOverrides?: Partial<
    Omit<KinesisConsumerOptions, 'processor' | 'kinesisClient' | 'dynamoClient' | 'clientOptions'>
  >;
  /** @default noopLogger */
  logger?: Logger;
  /** @default noopMetrics */
  metrics?: Metrics;
}

/** Options of {@link MultiLangDaemon}. */
export type MultiLangDaemonOptions = MultiLangDaemonBaseOptions & MultiLangClientChoice;

/** Counts kept by a running daemon (also sent to `metrics`). */
export interface MultiLangDaemonStats {
  childrenStarted: number;
  childrenRunning: number;
  /** Children given up on (exit, timeout, protocol error), by reason. */
  childFailures: { exit: number; timeout: number; protocol: number; spawn: number };
  /** Checkpoint requests answered, and how many of them carried an error. */
  checkpointRequests: number;
  checkpointErrors: number;
}
