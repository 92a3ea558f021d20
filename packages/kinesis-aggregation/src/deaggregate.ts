import { createHash } from 'node:crypto';
import { AggregateDecodeError } from './errors.js';
import { AGGREGATION_MAGIC, AGGREGATION_OVERHEAD_BYTES } from './limits.js';
import type { DeaggregatedRecord, DeaggregateResult, KinesisRecordInput, UserRecord } from './types.js';
import { WireError, WireReader } from './wire.js';

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

/** A user record decoded from an aggregate, before the Kinesis record's metadata is attached. */
interface DecodedUserRecord {
  partitionKey: string;
  explicitHashKey: string | undefined;
  data: Uint8Array;
}

/** Decodes the protobuf `AggregatedRecord` between `start` and `end`. Throws WireError on malformed input. */
function decodeMessage(buf: Buffer, start: number, end: number): DecodedUserRecord[] {
  const pkTable: string[] = [];
  const ehkTable: string[] = [];
  // Record entries are decoded after the tables are known: the format puts tables first, but protobuf allows any
  // field order, so remember the positions and resolve indices at the end.
  const recStarts: number[] = [];
  const recEnds: number[] = [];
  const r = new WireReader(buf, start, end);
  while (r.pos < end) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (field === 1 && wireType === 2) {
      const [s, e] = r.lengthDelimited();
      pkTable.push(buf.toString('utf8', s, e));
    } else if (field === 2 && wireType === 2) {
      const [s, e] = r.lengthDelimited();
      ehkTable.push(buf.toString('utf8', s, e));
    } else if (field === 3 && wireType === 2) {
      const [s, e] = r.lengthDelimited();
      recStarts.push(s);
      recEnds.push(e);
    } else if (field === 0) {
      throw new WireError('field number 0');
    } else {
      r.skip(wireType);
    }
  }
  const out: DecodedUserRecord[] = new Array(recStarts.length);
  for (let i = 0; i < recStarts.length; i++) {
    const rr = new WireReader(buf, recStarts[i]!, recEnds[i]!);
    let pkIdx = -1;
    let ehkIdx = -1;
    let dataStart = -1;
    let dataEnd = -1;
    while (rr.pos < rr.end) {
      const tag = rr.varint();
      const field = Math.floor(tag / 8);
      const wireType = tag & 7;
      if (field === 1 && wireType === 0) pkIdx = rr.varint();
      else if (field === 2 && wireType === 0) ehkIdx = rr.varint();
      else if (field === 3 && wireType === 2) [dataStart, dataEnd] = rr.lengthDelimited();
      else if (field === 0) throw new WireError('field number 0');
      else rr.skip(wireType); // tags (field 4) and anything newer
    }
    if (pkIdx < 0) throw new WireError(`record ${i} has no partition_key_index`);
    if (dataStart < 0) throw new WireError(`record ${i} has no data`);
    const partitionKey = pkTable[pkIdx];
    if (partitionKey === undefined) {
      throw new WireError(
        `record ${i} partition_key_index ${pkIdx} is outside the table (${pkTable.length})`,
      );
    }
    let explicitHashKey: string | undefined;
    if (ehkIdx >= 0) {
      explicitHashKey = ehkTable[ehkIdx];
      if (explicitHashKey === undefined) {
        throw new WireError(
          `record ${i} explicit_hash_key_index ${ehkIdx} is outside the table (${ehkTable.length})`,
        );
      }
    }
    out[i] = { partitionKey, explicitHashKey, data: buf.subarray(dataStart, dataEnd) };
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
  return decodeChecked(buf, '').map((u) => {
    const r: UserRecord = { data: u.data, partitionKey: u.partitionKey };
    if (u.explicitHashKey !== undefined) r.explicitHashKey = u.explicitHashKey;
    return r;
  });
}

function decodeChecked(buf: Buffer, sequenceNumber: string): DecodedUserRecord[] {
  const protoEnd = buf.byteLength - 16;
  const digest = createHash('md5').update(buf.subarray(4, protoEnd)).digest();
  if (!digest.equals(buf.subarray(protoEnd))) {
    throw new AggregateDecodeError(
      `Kinesis record ${sequenceNumber || '(unknown)'} has the aggregate magic but its MD5 checksum does not match`,
      { code: 'AGGREGATE_CHECKSUM_MISMATCH', sequenceNumber },
    );
  }
  try {
    return decodeMessage(buf, 4, protoEnd);
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
  let decoded: DecodedUserRecord[];
  try {
    decoded = decodeChecked(asBuffer(data), record.sequenceNumber);
  } catch (error) {
    return { records: [rawRecord(record)], error: error as Error };
  }
  const { sequenceNumber, approximateArrivalTimestamp } = record;
  const records: DeaggregatedRecord[] = new Array(decoded.length);
  for (let i = 0; i < decoded.length; i++) {
    const u = decoded[i]!;
    const out: DeaggregatedRecord = {
      data: u.data,
      partitionKey: u.partitionKey,
      sequenceNumber,
      subSequenceNumber: i,
      aggregated: true,
    };
    if (u.explicitHashKey !== undefined) out.explicitHashKey = u.explicitHashKey;
    if (approximateArrivalTimestamp !== undefined)
      out.approximateArrivalTimestamp = approximateArrivalTimestamp;
    records[i] = out;
  }
  return { records };
}
