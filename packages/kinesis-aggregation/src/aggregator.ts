import { createHash } from 'node:crypto';
import { KinesisAggregationError } from './errors.js';
import { partitionKeyToHashKey } from './hashKey.js';
import {
  AGGREGATE_PARTITION_KEY,
  AGGREGATION_MAGIC,
  AGGREGATION_OVERHEAD_BYTES,
  KINESIS_LIMITS,
} from './limits.js';
import type { EncodedRecord, UserRecord } from './types.js';
import { TAG, varintSize, writeVarint } from './wire.js';

/** Options of {@link RecordAggregator}. */
export interface RecordAggregatorOptions {
  /**
   * Largest billable size (UTF-8 partition key + data) of an aggregate, in bytes. A single record larger than
   * this is still accepted into an empty aggregator and sent on its own (as the KPL does); checking a record
   * against the service limit is {@link validateUserRecord}'s job.
   * @default 1_048_576 (the Kinesis record limit; the KPL's `AggregationMaxSize` is 51_200)
   */
  maxBytes?: number;
  /**
   * Most user records per aggregate.
   * @default Number.POSITIVE_INFINITY
   */
  maxCount?: number;
}

const PK_OUTER_BYTES = Buffer.byteLength(AGGREGATE_PARTITION_KEY, 'utf8');

function fieldSize(len: number): number {
  return 1 + varintSize(len) + len;
}

/** Result of {@link RecordAggregator.build}: the record to send and the user records inside, in order. */
export interface BuiltAggregate<T extends UserRecord> {
  record: EncodedRecord;
  items: T[];
}

/**
 * Packs user records into one KPL-format aggregated record with exact size accounting: {@link sizeBytes} is
 * always the billable size the built record will have, so a caller knows before adding whether the next record
 * would pass a limit.
 *
 * Matches the KPL byte for byte: key tables are deduplicated in first-seen order; the MD5 trailer covers the
 * protobuf bytes only; one record is sent as itself; two or more get partition key `"a"` and the first record's
 * hash key (decimal) as explicit hash key.
 *
 * It does not group by shard: give it only records predicted for the same shard (see {@link ShardMap}), or
 * consumers using the KCL may drop records whose hash key is outside the receiving shard.
 *
 * @typeParam T user-record type; extra fields ride along and come back from {@link build}.
 * @example
 * const agg = new RecordAggregator({ maxBytes: 51_200 });
 * if (!agg.tryAdd(rec)) { send(agg.build().record); agg.tryAdd(rec); }
 */
export class RecordAggregator<T extends UserRecord = UserRecord> {
  readonly maxBytes: number;
  readonly maxCount: number;
  private items: T[] = [];
  private pkIndex = new Map<string, number>();
  private pkTable: string[] = [];
  private pkBytes: number[] = [];
  private ehkIndex = new Map<string, number>();
  private ehkTable: string[] = [];
  private ehkBytes: number[] = [];
  private recPk: number[] = [];
  private recEhk: number[] = [];
  private recInner: number[] = [];
  /** Size of the protobuf message if built now. */
  private protoBytes = 0;
  /** Billable size of the first record alone (what is sent when it is the only one). */
  private firstRawBytes = 0;

  constructor(options: RecordAggregatorOptions = {}) {
    this.maxBytes = options.maxBytes ?? KINESIS_LIMITS.maxRecordBytes;
    this.maxCount = options.maxCount ?? Number.POSITIVE_INFINITY;
  }

  /** Number of user records held. */
  get count(): number {
    return this.items.length;
  }

  /** Billable size (UTF-8 partition key + data bytes) of the record {@link build} would return now; 0 when empty. */
  get sizeBytes(): number {
    const n = this.items.length;
    if (n === 0) return 0;
    if (n === 1) return this.firstRawBytes;
    return PK_OUTER_BYTES + AGGREGATION_OVERHEAD_BYTES + this.protoBytes;
  }

  /** Exact billable size the built record would have with `record` added. */
  sizeWith(record: UserRecord): number {
    if (this.items.length === 0)
      return record.data.byteLength + Buffer.byteLength(record.partitionKey, 'utf8');
    return PK_OUTER_BYTES + AGGREGATION_OVERHEAD_BYTES + this.protoBytes + this.delta(record).total;
  }

  /**
   * Adds `record` if the aggregate stays within `maxBytes` and `maxCount`; an empty aggregator accepts any record.
   * @returns false (and changes nothing) when the record does not fit: build, send, then add it to the fresh one.
   */
  tryAdd(record: T): boolean {
    const n = this.items.length;
    if (n === 0) {
      this.firstRawBytes = record.data.byteLength + Buffer.byteLength(record.partitionKey, 'utf8');
    } else if (n >= this.maxCount) {
      return false;
    }
    const d = this.delta(record);
    if (n > 0 && PK_OUTER_BYTES + AGGREGATION_OVERHEAD_BYTES + this.protoBytes + d.total > this.maxBytes) {
      return false;
    }
    const pkIdx = d.pkIdx;
    if (pkIdx === this.pkTable.length) {
      this.pkIndex.set(record.partitionKey, pkIdx);
      this.pkTable.push(record.partitionKey);
      this.pkBytes.push(d.pkLen);
    }
    if (d.ehkIdx === this.ehkTable.length && record.explicitHashKey !== undefined) {
      this.ehkIndex.set(record.explicitHashKey, d.ehkIdx);
      this.ehkTable.push(record.explicitHashKey);
      this.ehkBytes.push(d.ehkLen);
    }
    this.recPk.push(pkIdx);
    this.recEhk.push(record.explicitHashKey === undefined ? -1 : d.ehkIdx);
    this.recInner.push(d.inner);
    this.protoBytes += d.total;
    this.items.push(record);
    return true;
  }

  /**
   * Encodes the held records and empties the aggregator.
   * @throws {KinesisAggregationError} code `EMPTY_AGGREGATE` when empty.
   */
  build(): BuiltAggregate<T> {
    const items = this.items;
    const first = items[0];
    if (first === undefined) {
      throw new KinesisAggregationError('EMPTY_AGGREGATE', 'Nothing to build: the aggregator is empty');
    }
    let record: EncodedRecord;
    if (items.length === 1) {
      record = {
        data: first.data,
        partitionKey: first.partitionKey,
        aggregated: false,
        userRecordCount: 1,
        sizeBytes: this.firstRawBytes,
      };
      if (first.explicitHashKey !== undefined) record.explicitHashKey = first.explicitHashKey;
    } else {
      record = {
        data: this.encode(),
        partitionKey: AGGREGATE_PARTITION_KEY,
        explicitHashKey: first.explicitHashKey ?? partitionKeyToHashKey(first.partitionKey).toString(),
        aggregated: true,
        userRecordCount: items.length,
        sizeBytes: this.sizeBytes,
      };
    }
    this.clear();
    return { record, items };
  }

  /** Encodes the held records in the aggregated format even when there is only one (does not empty). */
  encode(): Buffer {
    const buf = Buffer.allocUnsafe(AGGREGATION_OVERHEAD_BYTES + this.protoBytes);
    buf.set(AGGREGATION_MAGIC, 0);
    let pos = 4;
    const pkTable = this.pkTable;
    for (let i = 0; i < pkTable.length; i++) {
      buf[pos++] = TAG.partitionKeyTable;
      const len = this.pkBytes[i]!;
      pos = writeVarint(buf, pos, len);
      pos += buf.write(pkTable[i]!, pos, len, 'utf8');
    }
    const ehkTable = this.ehkTable;
    for (let i = 0; i < ehkTable.length; i++) {
      buf[pos++] = TAG.explicitHashKeyTable;
      const len = this.ehkBytes[i]!;
      pos = writeVarint(buf, pos, len);
      pos += buf.write(ehkTable[i]!, pos, len, 'utf8');
    }
    const items = this.items;
    for (let i = 0; i < items.length; i++) {
      const data = items[i]!.data;
      buf[pos++] = TAG.records;
      pos = writeVarint(buf, pos, this.recInner[i]!);
      buf[pos++] = TAG.recordPartitionKeyIndex;
      pos = writeVarint(buf, pos, this.recPk[i]!);
      const ehk = this.recEhk[i]!;
      if (ehk >= 0) {
        buf[pos++] = TAG.recordExplicitHashKeyIndex;
        pos = writeVarint(buf, pos, ehk);
      }
      buf[pos++] = TAG.recordData;
      pos = writeVarint(buf, pos, data.byteLength);
      buf.set(data, pos);
      pos += data.byteLength;
    }
    createHash('md5').update(buf.subarray(4, pos)).digest().copy(buf, pos);
    return buf;
  }

  /** Empties the aggregator. */
  clear(): void {
    this.items = [];
    this.pkIndex.clear();
    this.pkTable = [];
    this.pkBytes = [];
    this.ehkIndex.clear();
    this.ehkTable = [];
    this.ehkBytes = [];
    this.recPk = [];
    this.recEhk = [];
    this.recInner = [];
    this.protoBytes = 0;
    this.firstRawBytes = 0;
  }

  /** Protobuf bytes `record` would add: new key-table entries plus its `Record` submessage. */
  private delta(record: UserRecord): {
    total: number;
    inner: number;
    pkIdx: number;
    pkLen: number;
    ehkIdx: number;
    ehkLen: number;
  } {
    let total = 0;
    let pkLen = 0;
    let pkIdx = this.pkIndex.get(record.partitionKey);
    if (pkIdx === undefined) {
      pkIdx = this.pkTable.length;
      pkLen = Buffer.byteLength(record.partitionKey, 'utf8');
      total += fieldSize(pkLen);
    }
    let inner = 1 + varintSize(pkIdx);
    let ehkIdx = -1;
    let ehkLen = 0;
    if (record.explicitHashKey !== undefined) {
      const known = this.ehkIndex.get(record.explicitHashKey);
      if (known === undefined) {
        ehkIdx = this.ehkTable.length;
        ehkLen = Buffer.byteLength(record.explicitHashKey, 'utf8');
        total += fieldSize(ehkLen);
      } else {
        ehkIdx = known;
      }
      inner += 1 + varintSize(ehkIdx);
    }
    inner += fieldSize(record.data.byteLength);
    total += fieldSize(inner);
    return { total, inner, pkIdx, pkLen, ehkIdx, ehkLen };
  }
}

/**
 * Encodes `records` as one KPL aggregated record body (magic + protobuf + MD5), regardless of size and even for a
 * single record. For sending, prefer {@link RecordAggregator}, which applies the KPL's rules and limits.
 *
 * @throws {KinesisAggregationError} code `EMPTY_AGGREGATE` when `records` is empty.
 */
export function encodeAggregatedRecord(records: readonly UserRecord[]): Buffer {
  if (records.length === 0) {
    throw new KinesisAggregationError('EMPTY_AGGREGATE', 'Cannot encode an aggregate of zero records');
  }
  const agg = new RecordAggregator({ maxBytes: Number.POSITIVE_INFINITY });
  for (const r of records) agg.tryAdd(r);
  return agg.encode();
}

/**
 * Packs records, in order, into as few Kinesis records as `options` allow, applying the KPL rules. All records go
 * into the same stream of aggregates, so give it records for one shard only.
 */
export function aggregateRecords(
  records: readonly UserRecord[],
  options: RecordAggregatorOptions = {},
): EncodedRecord[] {
  const agg = new RecordAggregator(options);
  const out: EncodedRecord[] = [];
  for (const r of records) {
    if (!agg.tryAdd(r)) {
      out.push(agg.build().record);
      agg.tryAdd(r);
    }
  }
  if (agg.count > 0) out.push(agg.build().record);
  return out;
}
