/**
 * Kinesis service limits and KPL aggregation-format constants.
 *
 * The numbers come from the PutRecords API reference and the KPL source (`kinesis_record.h`).
 */
export const KINESIS_LIMITS = {
  /** Maximum size of one Kinesis record: data plus UTF-8 partition key. */
  maxRecordBytes: 1_048_576,
  /** Maximum size of one PutRecords request: every record's data plus partition key. */
  maxRequestBytes: 5_242_880,
  /** Maximum number of records in one PutRecords request. */
  maxRecordsPerRequest: 500,
  /** Maximum partition-key length in characters (UTF-16 code units, as the service's Java front end counts). */
  maxPartitionKeyLength: 256,
  /** Per-shard write limit in bytes per second. */
  shardBytesPerSecond: 1_048_576,
  /** Per-shard write limit in records per second. */
  shardRecordsPerSecond: 1_000,
} as const;

/** The 4 magic bytes that open a KPL aggregated record: `F3 89 9A C2`. */
export const AGGREGATION_MAGIC: Readonly<Uint8Array> = Uint8Array.of(0xf3, 0x89, 0x9a, 0xc2);

/** Bytes an aggregate adds around its protobuf message: 4 magic + 16 MD5 (the KPL's `kFixedOverhead`). */
export const AGGREGATION_OVERHEAD_BYTES = 20;

/**
 * Partition key the KPL gives every aggregate of two or more records. The aggregate is routed by its explicit hash
 * key (the first user record's hash key), so one byte is enough.
 */
export const AGGREGATE_PARTITION_KEY = 'a';

/** Largest 128-bit hash key (2^128 − 1). */
export const MAX_HASH_KEY: bigint = (1n << 128n) - 1n;
