/** A record as the user puts it, before aggregation. */
export interface UserRecord {
  /** Payload bytes. */
  data: Uint8Array;
  /** Partition key (1–256 characters). Kinesis routes by MD5 of its UTF-8 bytes unless `explicitHashKey` is set. */
  partitionKey: string;
  /** Decimal 128-bit hash key that overrides the partition key's hash for routing. */
  explicitHashKey?: string;
}

/** A Kinesis record as read from a shard (GetRecords, SubscribeToShard, Lambda), ready to deaggregate. */
export interface KinesisRecordInput {
  data: Uint8Array;
  partitionKey: string;
  explicitHashKey?: string;
  sequenceNumber: string;
  approximateArrivalTimestamp?: Date;
}

/** One user record recovered from a Kinesis record. */
export interface DeaggregatedRecord {
  /** Payload bytes. For aggregated records this is a view into the Kinesis record's buffer (no copy). */
  data: Uint8Array;
  partitionKey: string;
  explicitHashKey?: string;
  /** Sequence number of the Kinesis record that carried it. */
  sequenceNumber: string;
  /** Position inside the aggregate (0 for a plain record), as the KCL numbers it. */
  subSequenceNumber: number;
  /** True when the record came out of a KPL aggregate. */
  aggregated: boolean;
  approximateArrivalTimestamp?: Date;
}

/** What {@link deaggregate} returns. */
export interface DeaggregateResult {
  records: DeaggregatedRecord[];
  /** Set when the record had the aggregate magic but could not be decoded; `records` then holds it raw. */
  error?: Error;
}

/** A record ready to be sent to Kinesis (one PutRecords entry). */
export interface EncodedRecord {
  /** Bytes to send as `Data`. */
  data: Uint8Array;
  /** `PartitionKey`: the user record's own key, or `"a"` for an aggregate (as the KPL does). */
  partitionKey: string;
  /** `ExplicitHashKey`: the user record's own, or for an aggregate the first user record's hash key in decimal. */
  explicitHashKey?: string;
  /** True when `data` is in the KPL aggregated format (two or more user records). */
  aggregated: boolean;
  /** Number of user records inside. */
  userRecordCount: number;
  /** Billable size: UTF-8 partition key + data bytes (what counts against 1 MiB per record, 5 MiB per request). */
  sizeBytes: number;
}

/** A shard's hash-key range, in the shape ListShards returns. */
export interface HashKeyRange {
  StartingHashKey: string;
  EndingHashKey: string;
}

/** The parts of an SDK `Shard` that shard lookup needs. */
export interface ShardLike {
  ShardId?: string;
  HashKeyRange?: { StartingHashKey?: string; EndingHashKey?: string };
}
