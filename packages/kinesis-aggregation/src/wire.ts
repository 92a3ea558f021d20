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

/** A cursor over protobuf bytes that never reads past `end`. */
export class WireReader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  /** Reads a varint of at most 53 bits (indices and lengths); larger values are malformed input here. */
  varint(): number {
    const buf = this.buf;
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.end) throw new WireError('truncated varint');
      const b = buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) {
        if (result > Number.MAX_SAFE_INTEGER) throw new WireError('varint too large');
        return result;
      }
      mul *= 0x80;
    }
    throw new WireError('varint too long');
  }

  /** Reads a length prefix and returns [start, end) of the bytes, checking they are inside the message. */
  lengthDelimited(): [number, number] {
    const len = this.varint();
    const start = this.pos;
    const end = start + len;
    if (end > this.end) throw new WireError('length-delimited field runs past the end of the message');
    this.pos = end;
    return [start, end];
  }

  /** Skips a field of an unknown number, so later format additions do not break decoding. */
  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        this.advance(8);
        return;
      case 2:
        this.lengthDelimited();
        return;
      case 5:
        this.advance(4);
        return;
      default:
        throw new WireError(`unsupported wire type ${wireType}`);
    }
  }

  private advance(n: number): void {
    if (this.pos + n > this.end) throw new WireError('truncated fixed-width field');
    this.pos += n;
  }
}
