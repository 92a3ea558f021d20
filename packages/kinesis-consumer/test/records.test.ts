import type { _Record } from '@aws-sdk/client-kinesis';
import { encodeAggregatedRecord, partitionKeyToHashKey } from '@awskit/kinesis-aggregation';
import { describe, expect, it } from 'vitest';
import { comparePositions, toConsumerRecords } from '../src/records.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

function aggregate(seq: string, items: { pk: string; data: string }[]): _Record {
  return {
    SequenceNumber: seq,
    PartitionKey: 'a',
    Data: encodeAggregatedRecord(items.map((i) => ({ partitionKey: i.pk, data: enc(i.data) }))),
    ApproximateArrivalTimestamp: new Date(),
  };
}

describe('comparePositions', () => {
  it('compares sequence numbers as integers, then sub-sequence numbers', () => {
    expect(
      comparePositions(
        { sequenceNumber: '9', subSequenceNumber: 0 },
        { sequenceNumber: '10', subSequenceNumber: 0 },
      ),
    ).toBe(-1);
    expect(
      comparePositions(
        { sequenceNumber: '10', subSequenceNumber: 3 },
        { sequenceNumber: '10', subSequenceNumber: 1 },
      ),
    ).toBeGreaterThan(0);
    expect(
      comparePositions(
        { sequenceNumber: '10', subSequenceNumber: 1 },
        { sequenceNumber: '10', subSequenceNumber: 1 },
      ),
    ).toBe(0);
  });
});

describe('toConsumerRecords', () => {
  it('deaggregates KPL records with sub-sequence numbers', () => {
    const r = toConsumerRecords(
      [
        aggregate('100', [
          { pk: 'x', data: 'a' },
          { pk: 'y', data: 'b' },
        ]),
      ],
      'shardId-0',
    );
    expect(r.records.map((x) => [dec(x.data), x.partitionKey, x.subSequenceNumber, x.aggregated])).toEqual([
      ['a', 'x', 0, true],
      ['b', 'y', 1, true],
    ]);
  });

  it('resumes inside an aggregate: skips what the checkpoint covers', () => {
    const raw = [
      aggregate('100', [
        { pk: 'x', data: 'a' },
        { pk: 'x', data: 'b' },
        { pk: 'x', data: 'c' },
      ]),
      { SequenceNumber: '101', PartitionKey: 'z', Data: enc('plain') },
    ];
    const r = toConsumerRecords(raw, 's', { resumeAfter: { sequenceNumber: '100', subSequenceNumber: 1 } });
    expect(r.records.map((x) => dec(x.data))).toEqual(['c', 'plain']);
    expect(r.droppedBeforeResume).toBe(2);
  });

  it('skips a plain record equal to the checkpoint (AT_SEQUENCE_NUMBER restart)', () => {
    const raw = [
      { SequenceNumber: '7', PartitionKey: 'z', Data: enc('done') },
      { SequenceNumber: '8', PartitionKey: 'z', Data: enc('next') },
    ];
    const r = toConsumerRecords(raw, 's', { resumeAfter: { sequenceNumber: '7', subSequenceNumber: 0 } });
    expect(r.records.map((x) => dec(x.data))).toEqual(['next']);
  });

  it('drops aggregated user records whose hash key is outside the shard range (post-reshard duplicates)', () => {
    const hx = partitionKeyToHashKey('x');
    const range = { StartingHashKey: String(hx), EndingHashKey: String(hx) };
    const r = toConsumerRecords(
      [
        aggregate('100', [
          { pk: 'x', data: 'in' },
          { pk: 'y', data: 'out' },
        ]),
      ],
      's',
      {
        hashRange: range,
      },
    );
    expect(r.records.map((x) => dec(x.data))).toEqual(['in']);
    expect(r.droppedOutOfRange).toBe(1);
  });

  it('reports a malformed aggregate and delivers it raw', () => {
    const bad = new Uint8Array([
      0xf3, 0x89, 0x9a, 0xc2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
    ]);
    const r = toConsumerRecords([{ SequenceNumber: '5', PartitionKey: 'p', Data: bad }], 's');
    expect(r.bad).toHaveLength(1);
    expect(r.records).toHaveLength(1);
    expect(r.records[0]!.aggregated).toBe(false);
  });
});
