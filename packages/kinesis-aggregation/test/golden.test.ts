import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  AGGREGATE_PARTITION_KEY,
  deaggregate,
  encodeAggregatedRecord,
  isAggregated,
  partitionKeyToHashKey,
  RecordAggregator,
  type UserRecord,
} from '../src/index.js';
import {
  JAVA_SAMPLE_EVENT_BASE64,
  ONE_RECORD_AGGREGATE_BASE64,
  PYTHON_REFERENCE_BASE64,
} from './fixtures/reference.js';

const utf8 = (s: string) => Buffer.from(s, 'utf8');
const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');

const JAVA_EHK = '191415658344158766168031473277922803570';
const javaSampleRecords = (): UserRecord[] =>
  Array.from({ length: 100 }, (_, i) => ({
    partitionKey: 'abc',
    explicitHashKey: JAVA_EHK,
    data: utf8(i % 2 === 0 ? 'abcdefghijklmnopqrstuvwxyz' : 'zyxwvutsrqponmlkjihgfedcba'),
  }));

describe('aggregated record format (golden data from other implementations)', () => {
  it('encodes the Java sample event byte for byte (dedup key tables, MD5 over the protobuf only)', () => {
    const ours = encodeAggregatedRecord(javaSampleRecords());
    expect(ours.toString('base64')).toBe(JAVA_SAMPLE_EVENT_BASE64);
  });

  it('encodes the Python reference byte for byte', () => {
    const records = [0, 1, 2].map((i) => ({ partitionKey: `pk-${i}`, data: utf8(`{"msg":"line${i}"}`) }));
    expect(encodeAggregatedRecord(records).toString('base64')).toBe(PYTHON_REFERENCE_BASE64);
  });

  it('decodes the Java sample event into its 100 user records in order', () => {
    const { records, error } = deaggregate({
      data: Buffer.from(JAVA_SAMPLE_EVENT_BASE64, 'base64'),
      partitionKey: 'partitionKey-03',
      sequenceNumber: '49545115243490985018280067714973144582180062593244200961',
      approximateArrivalTimestamp: new Date(1428537600_000),
    });
    expect(error).toBeUndefined();
    expect(records).toHaveLength(100);
    records.forEach((r, i) => {
      expect(r.partitionKey).toBe('abc');
      expect(r.explicitHashKey).toBe(JAVA_EHK);
      expect(r.subSequenceNumber).toBe(i);
      expect(r.aggregated).toBe(true);
      expect(r.sequenceNumber).toBe('49545115243490985018280067714973144582180062593244200961');
      expect(r.approximateArrivalTimestamp).toEqual(new Date(1428537600_000));
      expect(text(r.data)).toBe(i % 2 === 0 ? 'abcdefghijklmnopqrstuvwxyz' : 'zyxwvutsrqponmlkjihgfedcba');
    });
  });

  it('decodes an aggregate that holds a single record', () => {
    const { records, error } = deaggregate({
      data: Buffer.from(ONE_RECORD_AGGREGATE_BASE64, 'base64'),
      partitionKey: 'shardId-00000000005',
      sequenceNumber: '1',
    });
    expect(error).toBeUndefined();
    expect(records).toEqual([
      {
        data: expect.anything(),
        partitionKey: 'key-0',
        sequenceNumber: '1',
        subSequenceNumber: 0,
        aggregated: true,
      },
    ]);
    expect(text(records[0]!.data)).toBe('Testing KPL Aggregated Record 1-0');
  });

  it('pins the exact bytes of a small aggregate with an explicit hash key and a shared key', () => {
    const bytes = encodeAggregatedRecord([
      { partitionKey: 'k1', data: utf8('hello') },
      { partitionKey: 'k2', explicitHashKey: '123', data: utf8('world') },
      { partitionKey: 'k1', data: utf8('!') },
    ]);
    const proto =
      '0a026b31' + // partition_key_table "k1"
      '0a026b32' + // partition_key_table "k2"
      '1203313233' + // explicit_hash_key_table "123"
      '1a09' +
      '0800' +
      '1a0568656c6c6f' + // record { pk 0, data "hello" }
      '1a0b' +
      '0801' +
      '1000' +
      '1a05776f726c64' + // record { pk 1, ehk 0, data "world" }
      '1a05' +
      '0800' +
      '1a0121'; // record { pk 0, data "!" }
    const md5 = createHash('md5').update(Buffer.from(proto, 'hex')).digest('hex');
    expect(bytes.toString('hex')).toBe(`f3899ac2${proto}${md5}`);
    expect(isAggregated(bytes)).toBe(true);
  });
});

describe('RecordAggregator KPL rules', () => {
  it('sends an aggregate of one record as that plain record with its own keys', () => {
    const agg = new RecordAggregator();
    const rec = { partitionKey: 'only', explicitHashKey: '42', data: utf8('x') };
    agg.tryAdd(rec);
    const { record, items } = agg.build();
    expect(record).toEqual({
      data: rec.data,
      partitionKey: 'only',
      explicitHashKey: '42',
      aggregated: false,
      userRecordCount: 1,
      sizeBytes: 5,
    });
    expect(items).toEqual([rec]);
    expect(isAggregated(record.data)).toBe(false);
  });

  it('gives an aggregate partition key "a" and the first record\'s MD5 hash key in decimal', () => {
    const agg = new RecordAggregator();
    agg.tryAdd({ partitionKey: 'first', data: utf8('1') });
    agg.tryAdd({ partitionKey: 'second', data: utf8('2') });
    const { record } = agg.build();
    expect(record.partitionKey).toBe(AGGREGATE_PARTITION_KEY);
    expect(record.partitionKey).toBe('a');
    const md5 = createHash('md5').update('first').digest('hex');
    expect(record.explicitHashKey).toBe(BigInt(`0x${md5}`).toString(10));
    expect(record.aggregated).toBe(true);
    expect(record.userRecordCount).toBe(2);
  });

  it("uses the first record's explicit hash key when it has one", () => {
    const agg = new RecordAggregator();
    agg.tryAdd({ partitionKey: 'first', explicitHashKey: '7', data: utf8('1') });
    agg.tryAdd({ partitionKey: 'second', data: utf8('2') });
    expect(agg.build().record.explicitHashKey).toBe('7');
  });

  it('maps a partition key to the 128-bit MD5 hash key Kinesis uses', () => {
    expect(partitionKeyToHashKey('a')).toBe(0x0cc175b9c0f1b6a831c399e269772661n);
    // UTF-8 bytes are hashed, not UTF-16 code units
    const md5 = createHash('md5').update(Buffer.from('ключ-🔑', 'utf8')).digest('hex');
    expect(partitionKeyToHashKey('ключ-🔑')).toBe(BigInt(`0x${md5}`));
  });
});
