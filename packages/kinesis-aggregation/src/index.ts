export type { BuiltAggregate, RecordAggregatorOptions } from './aggregator.js';
export { aggregateRecords, encodeAggregatedRecord, RecordAggregator } from './aggregator.js';
export { deaggregate, decodeAggregatedRecord, isAggregated } from './deaggregate.js';
export type { UserRecordProblem } from './errors.js';
export {
  AggregateDecodeError,
  InvalidUserRecordError,
  KinesisAggregationError,
  KinesisAggregationErrorCode,
} from './errors.js';
export {
  hashKeyInRange,
  hashKeyToHex,
  parseExplicitHashKey,
  partitionKeyToHashKey,
  partitionKeyToHashKeyHex,
  ShardMap,
  userRecordHashKey,
  userRecordHashKeyHex,
} from './hashKey.js';
export {
  AGGREGATE_PARTITION_KEY,
  AGGREGATION_MAGIC,
  AGGREGATION_OVERHEAD_BYTES,
  KINESIS_LIMITS,
  MAX_HASH_KEY,
} from './limits.js';
export { type ListShardsOptions, listShards } from './listShards.js';
export type { RequestLimits } from './requests.js';
export { splitIntoRequests } from './requests.js';
export type {
  DeaggregatedRecord,
  DeaggregateResult,
  EncodedRecord,
  HashKeyRange,
  KinesisRecordInput,
  ShardLike,
  UserRecord,
} from './types.js';
export type { ValidateUserRecordOptions } from './validate.js';
export { validateUserRecord } from './validate.js';
