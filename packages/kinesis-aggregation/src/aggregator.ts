import { createHash } from 'node:crypto';
import { KinesisAggregationError } from './errors.js';
import { partitionKeyToHashKey } from './hashKey.js';
import { KeyTable, lastHash, utf8LengthAndHash } from './keyTable.js';
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

/** UTF-8 byte length; a JS loop for short strings (no native call), Buffer.byteLength otherwise. */
function utf8Length(s: string): number {
  const n = s.length;
  if (n > 64) return Buffer.byteLength(s, 'utf8');
  for (let i = 0; i < n; i++) {
    if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s, 'utf8');
  }
  return n;
}

/** A copy of `buf` with room for at least `need` bytes (doubling), keeping its contents. */
function grow(buf: Buffer, need: number): Buffer {
  let size = buf.length * 2;
  while (size < need) size *= 2;
  const next = Buffer.allocUnsafe(size);
  buf.copy(next, 0, 0, buf.length);
  return next;
}

/** Writes `s` (whose UTF-8 length is `len`) at `pos`; ASCII strings are copied in JS, others by Buffer.write. */
function writeString(buf: Buffer, pos: number, s: string, len: number): number {
  if (len === s.length && len <= 64) {
    for (let i = 0; i < len; i++) buf[pos + i] = s.charCodeAt(i);
    return pos + len;
  }
  return pos + buf.write(s, pos, len, 'utf8');
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
  private readonly pkIndex = new KeyTable();

  private ehkIndex = new Map<string, number>();
  // The protobuf is written as records are added, into three regions that build() concatenates: the
  // partition-key table, the explicit-hash-key table and the records (the format puts the tables first, and a new
  // key can appear with any record). Reused across aggregates; they grow by doubling.
  private keys: Buffer = Buffer.allocUnsafe(1024);
  private keysLen = 0;
  private ehks: Buffer = Buffer.allocUnsafe(256);
  private ehksLen = 0;
  private recs: Buffer = Buffer.allocUnsafe(16 * 1024);
  private recsLen = 0;
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
    if (this.items.length === 0) return record.data.byteLength + utf8Length(record.partitionKey);
    return PK_OUTER_BYTES + AGGREGATION_OVERHEAD_BYTES + this.protoBytes + this.delta(record);
  }

  /**
   * Adds `record` if the aggregate stays within `maxBytes` and `maxCount`; an empty aggregator accepts any record.
   * @returns false (and changes nothing) when the record does not fit: build, send, then add it to the fresh one.
   */
  tryAdd(record: T): boolean {
    const n = this.items.length;
    if (n > 0 && n >= this.maxCount) return false;
    const total = this.delta(record);
    if (n > 0 && PK_OUTER_BYTES + AGGREGATION_OVERHEAD_BYTES + this.protoBytes + total > this.maxBytes) {
      return false;
    }
    if (n === 0)
      this.firstRawBytes = record.data.byteLength + (this.dPkLen || utf8Length(record.partitionKey));
    const pkIdx = this.dPkIdx;
    if (pkIdx === this.pkIndex.size) {
      const len = this.dPkLen;
      this.pkIndex.add(record.partitionKey, this.dPkHash);
      if (this.keysLen + len + 6 > this.keys.length) this.keys = grow(this.keys, this.keysLen + len + 6);
      const keys = this.keys;
      keys[this.keysLen] = TAG.partitionKeyTable;
      this.keysLen = writeString(keys, writeVarint(keys, this.keysLen + 1, len), record.partitionKey, len);
    }
    const ehk = record.explicitHashKey;
    const ehkIdx = this.dEhkIdx;
    if (ehk !== undefined && ehkIdx === this.ehkIndex.size) {
      const len = this.dEhkLen;
      this.ehkIndex.set(ehk, ehkIdx);
      if (this.ehksLen + len + 6 > this.ehks.length) this.ehks = grow(this.ehks, this.ehksLen + len + 6);
      const ehks = this.ehks;
      ehks[this.ehksLen] = TAG.explicitHashKeyTable;
      this.ehksLen = writeString(ehks, writeVarint(ehks, this.ehksLen + 1, len), ehk, len);
    }
    const inner = this.dInner;
    if (this.recsLen + inner + 6 > this.recs.length) this.recs = grow(this.recs, this.recsLen + inner + 6);
    const recs = this.recs;
    let pos = this.recsLen;
    recs[pos++] = TAG.records;
    if (inner < 0x80) recs[pos++] = inner;
    else pos = writeVarint(recs, pos, inner);
    recs[pos++] = TAG.recordPartitionKeyIndex;
    if (pkIdx < 0x80) recs[pos++] = pkIdx;
    else pos = writeVarint(recs, pos, pkIdx);
    if (ehk !== undefined) {
      recs[pos++] = TAG.recordExplicitHashKeyIndex;
      pos = writeVarint(recs, pos, ehkIdx);
    }
    recs[pos++] = TAG.recordData;
    const data = record.data;
    const dataLen = data.byteLength;
    if (dataLen < 0x80) recs[pos++] = dataLen;
    else pos = writeVarint(recs, pos, dataLen);
    recs.set(data, pos);
    this.recsLen = pos + dataLen;
    this.protoBytes += total;
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
    pos += this.keys.copy(buf, pos, 0, this.keysLen);
    pos += this.ehks.copy(buf, pos, 0, this.ehksLen);
    pos += this.recs.copy(buf, pos, 0, this.recsLen);
    createHash('md5').update(buf.subarray(4, pos)).digest().copy(buf, pos);
    return buf;
  }

  /** Empties the aggregator (the per-record arrays keep their capacity for the next aggregate). */
  clear(): void {
    this.items = [];
    this.pkIndex.clear();
    this.ehkIndex.clear();
    this.keysLen = 0;
    this.ehksLen = 0;
    this.recsLen = 0;
    this.protoBytes = 0;
    this.firstRawBytes = 0;
  }

  // Scratch results of delta(): written instead of returned, so adding a record allocates nothing.
  private dPkIdx = 0;
  private dPkLen = 0;
  private dPkHash = 0;
  private dEhkIdx = -1;
  private dEhkLen = 0;
  private dInner = 0;

  /** Protobuf bytes `record` would add (new key-table entries plus its `Record` submessage); sets the d* fields. */
  private delta(record: UserRecord): number {
    let total = 0;
    const pk = record.partitionKey;
    const pkLen = utf8LengthAndHash(pk);
    const hash = lastHash;
    this.dPkHash = hash;
    let pkIdx = this.pkIndex.find(pk, hash);
    this.dPkLen = 0;
    if (pkIdx < 0) {
      pkIdx = this.pkIndex.size;
      this.dPkLen = pkLen;
      total += fieldSize(pkLen);
    }
    this.dPkIdx = pkIdx;
    let inner = 1 + varintSize(pkIdx);
    this.dEhkIdx = -1;
    this.dEhkLen = 0;
    const ehk = record.explicitHashKey;
    if (ehk !== undefined) {
      let idx = this.ehkIndex.get(ehk);
      if (idx === undefined) {
        idx = this.ehkIndex.size;
        const len = utf8Length(ehk);
        this.dEhkLen = len;
        total += fieldSize(len);
      }
      this.dEhkIdx = idx;
      inner += 1 + varintSize(idx);
    }
    inner += fieldSize(record.data.byteLength);
    this.dInner = inner;
    return total + fieldSize(inner);
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
