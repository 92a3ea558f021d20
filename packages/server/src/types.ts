import type { ClientOptions, Logger, MetricsRegistry } from '@awskit/core';
import type {
  BatchHandler,
  HandlerErrorAction,
  HandlerErrorInfo,
  InitialPosition,
  PollingOptions,
} from '@awskit/kinesis-consumer';
import type { ProducerTuning } from '@awskit/kinesis-producer';

/** Consumer workers the server runs in-process on one stream. */
export interface ConsumeOptions {
  /** Stream to read. */
  stream: string;
  /** Called with each batch of one shard; the batch is checkpointed after it resolves. */
  handler: BatchHandler;
  /** Decide after a handler failure: 'retry' (default) or 'skip' the batch. */
  onError?: (error: unknown, info: HandlerErrorInfo) => HandlerErrorAction | Promise<HandlerErrorAction>;
  /**
   * Workers in this process (each one a `KinesisConsumer` with its own worker id, sharing the lease table like
   * separate hosts would).
   * @default 1
   */
  workers?: number;
  /** KCL application name (names the lease table). @default `awskit-server-<stream>` */
  applicationName?: string;
  /** Where shards without a checkpoint start. @default 'LATEST' */
  initialPosition?: InitialPosition;
  /** Lease duration (see `KinesisConsumer`). @default 3_000 */
  leaseDurationMs?: number;
  /** Lease table scan interval (see `KinesisConsumer`). @default 1_000 */
  takeIntervalMs?: number;
  /** How often new shards are looked for (see `KinesisConsumer`). @default 60_000 */
  shardSyncIntervalMs?: number;
  /** Polling fetcher tuning. */
  polling?: PollingOptions;
  /** Prefix of worker ids; worker `i` is `<prefix>-w<i>`. @default `<hostname>:<pid>` */
  workerIdPrefix?: string;
}

/** Options of {@link startServer}. */
export interface ServerOptions {
  /**
   * Interface to bind. A non-loopback interface needs `token` (or `insecure: true`, which logs a loud warning).
   * While bound to loopback, requests must name a loopback host (DNS-rebinding guard); cross-site browser requests
   * are refused on any interface.
   * @default '127.0.0.1'
   */
  host?: string;
  /** Accept a non-loopback `host` without a token (anyone who can reach it can ingest). @default false */
  insecure?: boolean;
  /** Port; 0 picks a free one. @default 8080 */
  port?: number;
  /** How AWS clients are built (profile, region, endpoint, local...). @default {} (the usual AWS resolution) */
  clientOptions?: ClientOptions;
  /** Streams accepted by `POST /v1/streams/:stream/records` and shown on the dashboard. */
  streams: string[];
  /** When set, every route but `/`, `/healthz`, `/readyz` and static files needs `Authorization: Bearer <token>`. */
  token?: string;
  /** Largest request body. @default 5_242_880 (5 MiB) */
  bodyLimitBytes?: number;
  /** Most records in one ingest request. @default 10_000 */
  maxRecordsPerRequest?: number;
  /** Default partition key field (dot path, e.g. `user.id`); without it each record gets a random key. */
  partitionKeyField?: string;
  /** Producer tuning passed to `KinesisProducer` (one producer per stream). */
  producer?: ProducerTuning;
  /** Seconds in the `Retry-After` header of 429/503 answers. @default 1 */
  retryAfterSeconds?: number;
  /** Consumer workers to run with a handler. */
  consume?: ConsumeOptions;
  /** How often the dashboard state is pushed over SSE. @default 1_000 */
  dashboardIntervalMs?: number;
  /** A request (headers and body) not complete within this is answered 408 and closed. @default 30_000 */
  requestTimeoutMs?: number;
  /** Most open dashboard event streams; more are answered 503. @default 100 */
  maxSseClients?: number;
  /** An event-stream client with more than this many bytes waiting is dropped. @default 1_048_576 */
  sseMaxBufferedBytes?: number;
  /** How long a `/readyz` result is reused; concurrent probes share one check. @default 2_000 */
  readyCacheMs?: number;
  /** @default noopLogger */
  logger?: Logger;
  /** Registry producers, consumers and the server write to; served at `/metrics`. @default a new registry */
  metrics?: MetricsRegistry;
}

/** One shard as shown on the dashboard. */
export interface ShardView {
  shardId: string;
  parentShardId?: string;
  adjacentParentShardId?: string;
  open: boolean;
  owner?: string;
  /** Lease state: `owned`, `unassigned`, `blocked` (a parent is not finished yet) or `ended` (SHARD_END). */
  leaseStatus?: 'owned' | 'unassigned' | 'blocked' | 'ended';
  /** Sequence number or sentinel (`TRIM_HORIZON`, `LATEST`, `SHARD_END`). */
  checkpoint?: string;
  /** millisBehindLatest last reported by the worker holding the shard. */
  lagMs?: number;
  /** Time since the checkpoint last moved (shards held by this process). */
  checkpointAgeMs?: number;
  /** The holder reports the shard stalled: records waiting, checkpoint not moving. */
  stalled?: boolean;
  /** Records per second handled on this shard (this process's workers, last few seconds). */
  recordsPerSecond: number;
  recordsProcessed: number;
}

/** One stream as shown on the dashboard. */
export interface StreamView {
  name: string;
  status?: string;
  retentionHours?: number;
  /** Why the stream could not be described, if it could not. */
  error?: string;
  shards: ShardView[];
  ingest: {
    recordsTotal: number;
    recordsPerSecond: number;
    rejectedTotal: number;
    failedTotal: number;
    bufferedBytes: number;
    maxBufferedBytes: number;
  };
  consumed: boolean;
}

/** One consumer worker as shown on the dashboard. */
export interface WorkerView {
  workerId: string;
  stream: string;
  shardIds: string[];
  recordsPerSecond: number;
  recordsProcessed: number;
}

/** One recent error. */
export interface ErrorView {
  time: string;
  source: 'handler' | 'consumer' | 'producer';
  message: string;
  shardId?: string;
}

/** One point of the dashboard's throughput chart: records/s ingested and consumed (all streams) at `time` (ms). */
export interface ThroughputSample {
  time: number;
  in: number;
  out: number;
}

/** What `/api/state` and the SSE stream return. */
export interface DashboardState {
  time: string;
  uptimeMs: number;
  version: string;
  /** Where the streams live: region and endpoint (`AWS` for the real service), and whether it is a local AWS. */
  target: { region: string; endpoint: string; local: boolean };
  streams: StreamView[];
  workers: WorkerView[];
  errors: { total: number; recent: ErrorView[] };
  /**
   * The last samples of the throughput chart (oldest first, one per dashboard interval since the server started,
   * at most {@link THROUGHPUT_SAMPLES}): a page opened now draws the chart at once instead of from its own ticks.
   */
  throughput: ThroughputSample[];
}
