import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { ClientOptions, Clock, Logger, Metrics } from '@awskit/core';
import type { UserRecord } from '@awskit/kinesis-aggregation';

export type { UserRecord };

/** Which stream to write to: its name or its ARN (ARN recommended by AWS), not both. */
export type StreamTarget =
  | { streamName: string; streamARN?: never }
  | { streamARN: string; streamName?: never };

/** Pass a ready SDK client, or options for core's `createClient`, not both. */
export type ClientSource =
  | {
      /** A Kinesis client. Its own SDK retries stay as configured; awskit retries failed records itself. */
      client: KinesisClient;
      clientOptions?: never;
    }
  | {
      client?: never;
      /** How to build the client (region, endpoint, profile, local...). SDK retries are turned off (KPL does too). */
      clientOptions?: ClientOptions;
    };

/** Tuning options; every one has a KPL-style default (see `PRODUCER_DEFAULTS`). */
export interface ProducerTuning {
  /**
   * Pack user records into KPL aggregated records (per predicted shard).
   * @default true
   */
  aggregation?: boolean;
  /**
   * Most bytes of one aggregated record (KPL `AggregationMaxSize`). A bigger single record is sent on its own.
   * @default 51_200
   */
  aggregationMaxBytes?: number;
  /**
   * Most user records in one aggregated record (KPL `AggregationMaxCount`).
   * @default 4_294_967_295
   */
  aggregationMaxCount?: number;
  /**
   * How long a record may wait in the buffer for others to batch with (KPL `RecordMaxBufferedTime`).
   * @default 100
   */
  maxBufferedTimeMs?: number;
  /**
   * Most Kinesis records per PutRecords request (KPL `CollectionMaxCount`, service limit 500).
   * @default 500
   */
  collectionMaxCount?: number;
  /**
   * Most bytes per PutRecords request (KPL `CollectionMaxSize`, service limit 5 MiB).
   * @default 5_242_880
   */
  collectionMaxBytes?: number;
  /**
   * Time a record may take to reach Kinesis, counted from the `put` call (time waiting for buffer room and
   * retries included), before it rejects with `RecordExpiredError` (KPL `RecordTtl`).
   * @default 30_000
   */
  recordTtlMs?: number;
  /**
   * Per-shard rate limit in percent of the shard limits (1 MiB/s and 1,000 records/s), applied to both
   * (KPL `RateLimit`).
   * @default 150
   */
  rateLimitPercent?: number;
  /**
   * Most PutRecords requests in flight at once (KPL `MaxConnections`).
   * @default 24
   */
  maxInFlightRequests?: number;
  /**
   * Most bytes of user records held (buffered or in flight). When full, `put` waits for room (backpressure).
   * @default 67_108_864 (64 MiB)
   */
  maxBufferedBytes?: number;
  /**
   * Keep each partition key's records in put order on the shard, even across retries: one request in flight per
   * shard and one Kinesis record per shard per request. Slower, especially without aggregation.
   * @default false
   */
  ordered?: boolean;
  /**
   * Reject throttled records at once instead of retrying them (KPL `FailIfThrottled`).
   * @default false
   */
  failIfThrottled?: boolean;
  /**
   * First retry delay bound; retries back off exponentially with full jitter up to `retryMaxDelayMs`.
   * @default 100
   */
  retryBaseDelayMs?: number;
  /**
   * Largest retry delay.
   * @default 5_000
   */
  retryMaxDelayMs?: number;
  /**
   * Timeout of one PutRecords call. A timed-out call may still have succeeded; retrying it can duplicate records.
   * @default 30_000
   */
  requestTimeoutMs?: number;
  /**
   * Largest data + partition key of one user record (raise only for streams configured for bigger records).
   * @default 1_048_576
   */
  maxRecordBytes?: number;
}

/** Options of {@link KinesisProducer}. */
export type KinesisProducerOptions = StreamTarget &
  ClientSource &
  ProducerTuning & {
    /** Logger for retries, shard-map refreshes and failures. @default noopLogger */
    logger?: Logger;
    /** Metrics sink (e.g. core's `MetricsRegistry`). @default noopMetrics */
    metrics?: Metrics;
    /** Clock for TTLs, buffering time and rate limits (tests). @default systemClock */
    clock?: Clock;
    /** Randomness for retry jitter (tests). @default Math.random */
    random?: () => number;
  };

/** What a successful `put` resolves to. */
export interface PutResult {
  /**
   * The shard the record is on, whose hash-key range holds the record's hash key (a record that first landed on
   * the wrong child of a split was re-sent; this is where it finally landed).
   */
  shardId: string;
  /** Sequence number of the Kinesis record that carried the user record. */
  sequenceNumber: string;
  /** Position inside the aggregated Kinesis record; absent when the record was sent on its own. */
  subSequenceNumber?: number;
  /** PutRecords attempts it took (1 = first try). */
  attempts: number;
}

/** Counters since the producer was created (also published through `metrics`). */
export interface ProducerStats {
  /** User records accepted by `put` (valid ones). */
  userRecordsReceived: number;
  /** User records Kinesis accepted. */
  userRecordsPut: number;
  /** Kinesis records (aggregates count once) Kinesis accepted. */
  kinesisRecordsPut: number;
  /** Bytes (data + partition keys) of the user records put. */
  userBytesPut: number;
  /** Bytes of the Kinesis records put. */
  kinesisBytesPut: number;
  /** PutRecords requests sent. */
  requests: number;
  /** User-record retries scheduled. */
  retries: number;
  /** Kinesis records throttled (ProvisionedThroughputExceededException). */
  throttles: number;
  /** User records that expired. */
  expired: number;
  /** User records rejected for any reason (expired and invalid included). */
  failed: number;
  /** Shard map loads. */
  shardMapRefreshes: number;
  /**
   * User records re-sent because they landed on a shard whose hash-key range does not hold their hash key (an
   * aggregate predicted for a shard that was split meanwhile). Also counted in `retries`.
   */
  wrongShardResent: number;
}
