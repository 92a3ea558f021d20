export { LOCAL_ENDPOINT_DEFAULTS, PRODUCER_DEFAULTS } from './defaults.js';
export {
  InvalidRecordError,
  KinesisProducerError,
  KinesisProducerErrorCode,
  PartitionKeyFieldError,
  RecordExpiredError,
} from './errors.js';
export { type PartitionKeyRule, partitionKeyFor, partitionKeyFromField } from './partitionKey.js';
export { KinesisProducer } from './producer.js';
export type { PutAllOptions, PutAllSummary } from './producerState.js';
export type { PutRecordsSummary } from './putRecords.js';
export { putRecords } from './putRecords.js';
export type {
  ClientSource,
  KinesisProducerOptions,
  ProducerStats,
  ProducerTuning,
  PutResult,
  StreamTarget,
  UserRecord,
} from './types.js';
