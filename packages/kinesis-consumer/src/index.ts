export {
  addProbedLag,
  buildAssignments,
  type LocalShardInfo,
  probeShardLag,
  type ReadAssignmentsOptions,
  readAssignments,
  type ShardAssignment,
} from './assignments.js';
export { CONSUMER_DEFAULTS, KinesisConsumer, type KinesisConsumerEvents } from './consumer.js';
export { EFO_DEFAULTS, type EfoOptions, efoFetcherFactory, ensureStreamConsumer } from './efoFetcher.js';
export {
  ConsumerAccessDeniedError,
  ConsumerOptionsError,
  ConsumerStateError,
  EfoRegistrationError,
  InvalidCheckpointError,
  isKinesisConsumerError,
  KinesisConsumerError,
  KinesisConsumerErrorCode,
  LeaseLostError,
  LeaseTableError,
  StreamNotFoundError,
} from './errors.js';
export { parseInitialPosition } from './initialPosition.js';
export {
  LEASE_TABLE_OPERATIONS,
  LeaseTable,
  type LeaseTableCost,
  type LeaseTableOperation,
} from './leaseTable.js';
export { CONSUMER_METRICS, teeMetrics } from './metrics.js';
export {
  multiStreamLeaseKey,
  type ParsedLeaseKey,
  parseLeaseKey,
  parseMultiStreamLeaseKey,
  parseStreamArn,
  type StreamIdentifier,
  serializeStreamIdentifier,
} from './multiStream.js';
export { POLLING_DEFAULTS, pollingFetcherFactory } from './pollingFetcher.js';
export {
  type ConsumerStats,
  type ShardStats,
  STALL_THRESHOLD_MS,
  type StallInfo,
  type StatsTrackerOptions,
  type WorkerStats,
} from './stats.js';
export { type TailStreamOptions, tailStream } from './tail.js';
export {
  type BadRecordInfo,
  type BatchContext,
  type BatchHandler,
  type Checkpointer,
  type ClientChoice,
  type ConsumerRecord,
  type ExtendedSequenceNumber,
  type FetchedBatch,
  type FetcherContext,
  type FetcherFactory,
  type HandlerErrorAction,
  type HandlerErrorInfo,
  type HeldLeaseInfo,
  type InitialPosition,
  type KinesisConsumerBaseOptions,
  type KinesisConsumerOptions,
  type Lease,
  type LeaseMode,
  type LeaseView,
  type PollingOptions,
  type ProcessorStream,
  type RecordProcessor,
  type RecordProcessorFactory,
  SentinelCheckpoint,
  type ShardFetcher,
  type StartingPosition,
  type StreamConfig,
} from './types.js';
