// Minimal protobuf wire-format helpers for the KPL `AggregatedRecord` message. Hand-written because the message is
// tiny and fixed: it lets the encoder size every byte up front (exact size accounting) and write into one buffer,
// and lets the decoder return zero-copy views. bench/producer compares it with protobufjs and aws-kinesis-agg.

/** Bytes a non-negative integer takes as a protobuf varint. */
export function varintSize(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x200000) return 3;
  if (n < 0x10000000) return 4;
  let size = 4;
  let rest = Math.floor(n / 0x10000000);
  while (rest > 0) {
    size++;
    rest = Math.floor(rest / 0x80);
  }
  return size;
}

/** Writes `n` as a varint at `pos`; returns the position after it. */
export function writeVarint(buf: Uint8Array, pos: number, n: number): number {
  let p = pos;
  let v = n;
  while (v >= 0x80) {
    buf[p++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  buf[p++] = v;
  return p;
}

/** Field tags used by the aggregated-record format (field number << 3 | wire type). */
export const TAG = {
  partitionKeyTable: (1 << 3) | 2,
  explicitHashKeyTable: (2 << 3) | 2,
  records: (3 << 3) | 2,
  recordPartitionKeyIndex: (1 << 3) | 0,
  recordExplicitHashKeyIndex: (2 << 3) | 0,
  recordData: (3 << 3) | 2,
} as const;

/** Thrown inside the decoder only; `deaggregate` turns it into a reported error. */
export class WireError extends Error {
  override name = 'WireError';
}
