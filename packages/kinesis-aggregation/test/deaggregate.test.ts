import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AggregateDecodeError, deaggregate, encodeAggregatedRecord, isAggregated } from '../src/index.js';
import { isAwskitError } from './helpers.js';

const MAGIC = Buffer.from('f3899ac2', 'hex');
const utf8 = (s: string) => Buffer.from(s, 'utf8');

/** Wraps protobuf bytes as an aggregate with a correct MD5 trailer. */
function wrap(protoHex: string): Buffer {
  const proto = Buffer.from(protoHex, 'hex');
  return Buffer.concat([MAGIC, proto, createHash('md5').update(proto).digest()]);
}

const meta = { partitionKey: 'outer', sequenceNumber: '4955' };

describe('deaggregate', () => {
  it('returns a plain record as a single user record', () => {
    const data = utf8('plain');
    const { records, error } = deaggregate({ ...meta, data, explicitHashKey: '9' });
    expect(error).toBeUndefined();
    expect(records).toEqual([
      {
        data,
        partitionKey: 'outer',
        explicitHashKey: '9',
        sequenceNumber: '4955',
        subSequenceNumber: 0,
        aggregated: false,
      },
    ]);
  });

  it('treats data that starts with the magic but is too short for a checksum as plain', () => {
    const data = Buffer.concat([MAGIC, utf8('short')]);
    expect(isAggregated(data)).toBe(false);
    const { records, error } = deaggregate({ ...meta, data });
    expect(error).toBeUndefined();
    expect(records[0]!.data).toBe(data);
  });

  it('returns a record with a bad MD5 raw, with AGGREGATE_CHECKSUM_MISMATCH, and does not throw', () => {
    const good = encodeAggregatedRecord([
      { partitionKey: 'a1', data: utf8('one') },
      { partitionKey: 'a2', data: utf8('two') },
    ]);
    const bad = Buffer.from(good);
    bad[bad.length - 1]! ^= 0xff;
    const { records, error } = deaggregate({ ...meta, data: bad });
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      data: bad,
      partitionKey: 'outer',
      aggregated: false,
      subSequenceNumber: 0,
    });
    expect(error).toBeInstanceOf(AggregateDecodeError);
    expect(isAwskitError(error, 'AGGREGATE_CHECKSUM_MISMATCH')).toBe(true);
    expect((error as AggregateDecodeError).sequenceNumber).toBe('4955');
  });

  it('returns a truncated aggregate raw with an error (checksum no longer matches)', () => {
    const good = encodeAggregatedRecord([
      { partitionKey: 'a1', data: utf8('one') },
      { partitionKey: 'a2', data: utf8('two') },
    ]);
    const cut = good.subarray(0, good.length - 7);
    const { records, error } = deaggregate({ ...meta, data: cut });
    expect(records).toHaveLength(1);
    expect(error).toBeInstanceOf(AggregateDecodeError);
  });

  it('reports AGGREGATE_MALFORMED for a valid checksum over a truncated protobuf', () => {
    // record field says 9 bytes follow but only 4 do
    const { records, error } = deaggregate({ ...meta, data: wrap('0a026b311a0908001a05') });
    expect(records).toHaveLength(1);
    expect(records[0]!.aggregated).toBe(false);
    expect(isAwskitError(error, 'AGGREGATE_MALFORMED')).toBe(true);
  });

  it('reports AGGREGATE_MALFORMED for a partition key index outside the table', () => {
    const { error } = deaggregate({ ...meta, data: wrap('0a026b31' + '1a05' + '0805' + '1a0121') });
    expect(isAwskitError(error, 'AGGREGATE_MALFORMED')).toBe(true);
    expect(error?.message).toMatch(/partition_key_index 5/);
  });

  it('reports AGGREGATE_MALFORMED for an explicit hash key index outside the table', () => {
    const { error } = deaggregate({ ...meta, data: wrap('0a026b31' + '1a07' + '0800' + '1003' + '1a0121') });
    expect(isAwskitError(error, 'AGGREGATE_MALFORMED')).toBe(true);
  });

  it('reports AGGREGATE_MALFORMED for a record without data (a proto2 required field)', () => {
    const { error } = deaggregate({ ...meta, data: wrap('0a026b31' + '1a02' + '0800') });
    expect(isAwskitError(error, 'AGGREGATE_MALFORMED')).toBe(true);
  });

  it('skips tags and unknown fields', () => {
    // record { pk 0, data "x", tags { key "t" value "v" }, field 9 varint 1 }, then unknown top-level field 7
    const data = wrap(
      '0a026b31' + '1a0f' + '0800' + '1a0178' + '2206' + '0a0174' + '120176' + '4801' + '3a0100',
    );
    const { records, error } = deaggregate({ ...meta, data });
    expect(error).toBeUndefined();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ partitionKey: 'k1', aggregated: true });
    expect(Buffer.from(records[0]!.data).toString()).toBe('x');
  });

  it('decodes tables that come after the records (protobuf allows any field order)', () => {
    const { records, error } = deaggregate({ ...meta, data: wrap('1a05' + '0800' + '1a0178' + '0a026b31') });
    expect(error).toBeUndefined();
    expect(records[0]!.partitionKey).toBe('k1');
  });

  it('accepts a plain Uint8Array (not a Buffer) and returns views into it', () => {
    const buf = encodeAggregatedRecord([
      { partitionKey: 'p', data: utf8('one') },
      { partitionKey: 'q', data: utf8('two') },
    ]);
    const copy = new Uint8Array(buf.length + 8).subarray(4, 4 + buf.length);
    copy.set(buf);
    const { records } = deaggregate({ ...meta, data: copy });
    expect(records.map((r) => Buffer.from(r.data).toString())).toEqual(['one', 'two']);
    expect(records[0]!.data.buffer).toBe(copy.buffer);
  });

  it('never throws on random bytes behind the magic, with or without a valid checksum', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (body, checksum) => {
        const data = checksum
          ? wrap(Buffer.from(body).toString('hex'))
          : Buffer.concat([MAGIC, body, Buffer.alloc(16)]);
        const { records, error } = deaggregate({ ...meta, data });
        if (error) {
          expect(records).toHaveLength(1);
          expect(records[0]!.data).toBe(data);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
