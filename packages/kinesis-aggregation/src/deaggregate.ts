import { createHash } from 'node:crypto';
import { AggregateDecodeError } from './errors.js';
import { AGGREGATION_MAGIC, AGGREGATION_OVERHEAD_BYTES } from './limits.js';
import type { DeaggregatedRecord, DeaggregateResult, KinesisRecordInput, UserRecord } from './types.js';
import { WireError } from './wire.js';

const M0 = AGGREGATION_MAGIC[0]!;
const M1 = AGGREGATION_MAGIC[1]!;
const M2 = AGGREGATION_MAGIC[2]!;
const M3 = AGGREGATION_MAGIC[3]!;

/**
 * True when `data` starts with the KPL aggregate magic bytes and is long enough to hold the MD5 trailer.
 * It does not verify the checksum or the protobuf; {@link deaggregate} does.
 */
export function isAggregated(data: Uint8Array): boolean {
  return (
    data.byteLength >= AGGREGATION_OVERHEAD_BYTES &&
    data[0] === M0 &&
    data[1] === M1 &&
    data[2] === M2 &&
    data[3] === M3
  );
}

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

// Decoder cursor. Module-level so the hot loop allocates nothing per field; the decoder is synchronous.
let pos = 0;

function varint(buf: Uint8Array, end: number): number {
  if (pos >= end) throw new WireError('truncated varint');
  const b = buf[pos++]!;
  if (b < 0x80) return b;
  let result = b & 0x7f;
  let mul = 0x80;
  for (let i = 1; i < 8; i++) {
    if (pos >= end) throw new WireError('truncated varint');
    const c = buf[pos++]!;
    result += (c & 0x7f) * mul;
    if (c < 0x80) {
      if (result > Number.MAX_SAFE_INTEGER) throw new WireError('varint too large');
      return result;
    }
    mul *= 0x80;
  }
  throw new WireError('varint too long');
}

/** Returns the end of a length-delimited field starting at `pos` (and leaves `pos` at its first byte). */
function lengthDelimitedEnd(buf: Uint8Array, end: number): number {
  const len = varint(buf, end);
  const e = pos + len;
  if (e > end) throw new WireError('length-delimited field runs past the end of the message');
  return e;
}

function skip(buf: Uint8Array, end: number, wireType: number): void {
  if (wireType === 0) varint(buf, end);
  else if (wireType === 2) pos = lengthDelimitedEnd(buf, end);
  else if (wireType === 1 || wireType === 5) {
    pos += wireType === 1 ? 8 : 4;
    if (pos > end) throw new WireError('truncated fixed-width field');
  } else throw new WireError(`unsupported wire type ${wireType}`);
}

// Buffer#utf8Slice is what Buffer#toString('utf8', ...) calls after its argument checks; calling it directly (as a
// method, no wrapper) saves those per key. Where it does not exist, toString is used.
const HAS_UTF8_SLICE =
  typeof (Buffer.prototype as unknown as { utf8Slice?: unknown }).utf8Slice === 'function';

/**
 * Decodes the protobuf `AggregatedRecord` between `start` and `end` straight into result records (data as views
 * into `buf`). Throws WireError on malformed input.
 */
function decodeMessage(
  buf: Buffer,
  start: number,
  end: number,
  sequenceNumber: string,
  approximateArrivalTimestamp: Date | undefined,
): DeaggregatedRecord[] {
  const pkTable: string[] = [];
  const ehkTable: string[] = [];
  const out: DeaggregatedRecord[] = [];
  // Records whose key index is not in the table yet: protobuf allows the tables after the records (never seen in
  // practice); they are resolved after the loop.
  let unresolved: { r: DeaggregatedRecord; pk: number; ehk: number }[] | undefined;
  pos = start;
  while (pos < end) {
    const tag = varint(buf, end);
    if (tag === 0x1a) {
      const recEnd = lengthDelimitedEnd(buf, end);
      let pkIdx = -1;
      let ehkIdx = -1;
      let ds = -1;
      let de = -1;
      while (pos < recEnd) {
        const t = varint(buf, recEnd);
        if (t === 0x08) pkIdx = varint(buf, recEnd);
        else if (t === 0x10) ehkIdx = varint(buf, recEnd);
        else if (t === 0x1a) {
          de = lengthDelimitedEnd(buf, recEnd);
          ds = pos;
          pos = de;
        } else if (t < 8) throw new WireError('field number 0');
        else skip(buf, recEnd, t & 7); // tags (field 4) and anything newer
      }
      const i = out.length;
      if (pkIdx < 0) throw new WireError(`record ${i} has no partition_key_index`);
      if (ds < 0) throw new WireError(`record ${i} has no data`);
      const r: DeaggregatedRecord = {
        data: buf.subarray(ds, de),
        partitionKey: pkIdx < pkTable.length ? pkTable[pkIdx]! : '',
        sequenceNumber,
        subSequenceNumber: i,
        aggregated: true,
      };
      if (ehkIdx >= 0 && ehkIdx < ehkTable.length) r.explicitHashKey = ehkTable[ehkIdx]!;
      if (approximateArrivalTimestamp !== undefined)
        r.approximateArrivalTimestamp = approximateArrivalTimestamp;
      if (pkIdx >= pkTable.length || ehkIdx >= ehkTable.length) {
        unresolved ??= [];
        unresolved.push({ r, pk: pkIdx, ehk: ehkIdx });
      }
      out.push(r);
    } else if (tag === 0x0a || tag === 0x12) {
      const e = lengthDelimitedEnd(buf, end);
      const key = HAS_UTF8_SLICE
        ? (buf as unknown as { utf8Slice(start: number, end: number): string }).utf8Slice(pos, e)
        : buf.toString('utf8', pos, e);
      (tag === 0x0a ? pkTable : ehkTable).push(key);
      pos = e;
    } else if (tag < 8) {
      throw new WireError('field number 0');
    } else {
      skip(buf, end, tag & 7);
    }
  }
  if (unresolved) {
    for (const { r, pk, ehk } of unresolved) {
      const partitionKey = pkTable[pk];
      if (partitionKey === undefined) {
        throw new WireError(
          `record ${r.subSequenceNumber} partition_key_index ${pk} is outside the table (${pkTable.length})`,
        );
      }
      r.partitionKey = partitionKey;
      if (ehk >= 0) {
        const e = ehkTable[ehk];
        if (e === undefined) {
          throw new WireError(
            `record ${r.subSequenceNumber} explicit_hash_key_index ${ehk} is outside the table (${ehkTable.length})`,
          );
        }
        r.explicitHashKey = e;
      }
    }
  }
  return out;
}

function rawRecord(record: KinesisRecordInput): DeaggregatedRecord {
  const out: DeaggregatedRecord = {
    data: record.data,
    partitionKey: record.partitionKey,
    sequenceNumber: record.sequenceNumber,
    subSequenceNumber: 0,
    aggregated: false,
  };
  if (record.explicitHashKey !== undefined) out.explicitHashKey = record.explicitHashKey;
  if (record.approximateArrivalTimestamp !== undefined) {
    out.approximateArrivalTimestamp = record.approximateArrivalTimestamp;
  }
  return out;
}

/**
 * Decodes the body of a KPL aggregated record (magic + protobuf + MD5) into user records.
 *
 * @throws {AggregateDecodeError} when the magic is missing, the checksum does not match or the protobuf is bad.
 */
export function decodeAggregatedRecord(data: Uint8Array): UserRecord[] {
  const buf = asBuffer(data);
  if (!isAggregated(buf)) {
    throw new AggregateDecodeError('Not an aggregated record: magic bytes missing', {
      code: 'AGGREGATE_MALFORMED',
      sequenceNumber: '',
    });
  }
  return decodeChecked(buf, '', undefined).map((d) => {
    const r: UserRecord = { data: d.data, partitionKey: d.partitionKey };
    if (d.explicitHashKey !== undefined) r.explicitHashKey = d.explicitHashKey;
    return r;
  });
}

function decodeChecked(
  buf: Buffer,
  sequenceNumber: string,
  approximateArrivalTimestamp: Date | undefined,
): DeaggregatedRecord[] {
  const protoEnd = buf.byteLength - 16;
  const digest = createHash('md5').update(buf.subarray(4, protoEnd)).digest();
  if (!digest.equals(buf.subarray(protoEnd))) {
    throw new AggregateDecodeError(
      `Kinesis record ${sequenceNumber || '(unknown)'} has the aggregate magic but its MD5 checksum does not match`,
      { code: 'AGGREGATE_CHECKSUM_MISMATCH', sequenceNumber },
    );
  }
  try {
    return decodeMessage(buf, 4, protoEnd, sequenceNumber, approximateArrivalTimestamp);
  } catch (e) {
    throw new AggregateDecodeError(
      `Kinesis record ${sequenceNumber || '(unknown)'} has the aggregate magic and a valid checksum but a malformed protobuf: ${(e as Error).message}`,
      { code: 'AGGREGATE_MALFORMED', sequenceNumber, cause: e },
    );
  }
}

/**
 * Splits a Kinesis record into its user records. A plain record comes back as itself (`aggregated: false`,
 * `subSequenceNumber: 0`); an aggregate as its user records numbered 0..n-1 in order.
 *
 * Never throws: a record with the magic bytes but a bad MD5 or a malformed protobuf comes back as one raw record
 * plus `error` (an {@link AggregateDecodeError}), as the KCL does. Unlike the KCL it drops nothing: filtering
 * records whose hash key is outside the shard is the caller's choice.
 *
 * @example
 * const { records, error } = deaggregate({ data, partitionKey, sequenceNumber });
 */
export function deaggregate(record: KinesisRecordInput): DeaggregateResult {
  const data = record.data;
  if (!isAggregated(data)) return { records: [rawRecord(record)] };
  try {
    return {
      records: decodeChecked(asBuffer(data), record.sequenceNumber, record.approximateArrivalTimestamp),
    };
  } catch (error) {
    return { records: [rawRecord(record)], error: error as Error };
  }
}
