import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  aggregateRecords,
  KINESIS_LIMITS,
  RecordAggregator,
  splitIntoRequests,
  type UserRecord,
} from '../src/index.js';

const userRecord: fc.Arbitrary<UserRecord> = fc.record(
  {
    partitionKey: fc.oneof(
      fc.constantFrom('k', 'ключ', '🔑🔑'),
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 64 }),
    ),
    explicitHashKey: fc.option(
      fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }).map((n) => n.toString()),
      { nil: undefined, freq: 3 },
    ),
    // sizes around the varint boundaries (127/128, 16383/16384) and some big ones
    data: fc
      .oneof(
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 16_300, max: 16_500 }),
        fc.integer({ min: 100_000, max: 400_000 }),
      )
      .map((n) => Buffer.alloc(n, 7)),
  },
  { requiredKeys: ['partitionKey', 'data'] },
);

const billable = (r: { data: Uint8Array; partitionKey: string }) =>
  r.data.byteLength + Buffer.byteLength(r.partitionKey, 'utf8');

describe('exact size accounting', () => {
  it('sizeWith() predicts the size after tryAdd() and sizeBytes is the built record size, to the byte', () => {
    fc.assert(
      fc.property(
        fc.array(userRecord, { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 64, max: 1_048_576 }),
        (records, maxBytes) => {
          const agg = new RecordAggregator({ maxBytes });
          for (const r of records) {
            const predicted = agg.sizeWith(r);
            if (agg.tryAdd(r)) {
              expect(agg.sizeBytes).toBe(predicted);
            } else {
              expect(predicted).toBeGreaterThan(maxBytes);
              const before = agg.sizeBytes;
              const { record } = agg.build();
              expect(record.sizeBytes).toBe(before);
              expect(billable(record)).toBe(before);
              // only a record that alone exceeds maxBytes may (KPL: it bypasses aggregation)
              if (record.userRecordCount > 1) expect(record.sizeBytes).toBeLessThanOrEqual(maxBytes);
              expect(agg.tryAdd(r)).toBe(true);
            }
          }
          const size = agg.sizeBytes;
          const { record } = agg.build();
          expect(billable(record)).toBe(size);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('counts keys in UTF-8 bytes, not characters', () => {
    const agg = new RecordAggregator();
    agg.tryAdd({ partitionKey: '🔑', data: Buffer.alloc(1) });
    expect(agg.sizeBytes).toBe(1 + 4);
    agg.tryAdd({ partitionKey: 'é', data: Buffer.alloc(1) });
    // "a" + magic + md5 + pk table (1+1+4, 1+1+2) + records (1+1+(2+3)) * 2
    expect(agg.sizeBytes).toBe(1 + 20 + 6 + 4 + 7 + 7);
    expect(billable(agg.build().record)).toBe(1 + 20 + 6 + 4 + 7 + 7);
  });

  it('never builds a Kinesis record over 1 MiB from records that are each within it', () => {
    const fitting = userRecord.filter((r) => billable(r) <= KINESIS_LIMITS.maxRecordBytes);
    fc.assert(
      fc.property(fc.array(fitting, { minLength: 1, maxLength: 40 }), (records) => {
        const built = aggregateRecords(records);
        for (const r of built) {
          expect(billable(r)).toBeLessThanOrEqual(KINESIS_LIMITS.maxRecordBytes);
          expect(r.sizeBytes).toBe(billable(r));
        }
        expect(built.reduce((n, r) => n + r.userRecordCount, 0)).toBe(records.length);
      }),
      { numRuns: 100 },
    );
  });

  it('fills an aggregate up to exactly the limit when records fit exactly', () => {
    // 1 + 20 + pk table (1+1+1) + n records of (1+1+(2 + 1+1+d)) = limit
    const agg = new RecordAggregator({ maxBytes: 1 + 20 + 3 + 2 * (1 + 1 + 2 + 1 + 1 + 100) });
    const r = { partitionKey: 'k', data: Buffer.alloc(100) };
    expect(agg.tryAdd(r)).toBe(true);
    expect(agg.tryAdd(r)).toBe(true);
    expect(agg.sizeBytes).toBe(agg.maxBytes);
    expect(agg.tryAdd(r)).toBe(false);
  });

  it('respects maxCount', () => {
    const agg = new RecordAggregator({ maxCount: 2 });
    const r = { partitionKey: 'k', data: Buffer.alloc(1) };
    expect(agg.tryAdd(r)).toBe(true);
    expect(agg.tryAdd(r)).toBe(true);
    expect(agg.tryAdd(r)).toBe(false);
  });

  it('accepts a record bigger than maxBytes into an empty aggregator and sends it alone (KPL behaviour)', () => {
    const agg = new RecordAggregator({ maxBytes: 64 });
    expect(agg.tryAdd({ partitionKey: 'k', data: Buffer.alloc(1000) })).toBe(true);
    expect(agg.tryAdd({ partitionKey: 'k', data: Buffer.alloc(1) })).toBe(false);
    const { record } = agg.build();
    expect(record.aggregated).toBe(false);
  });
});

describe('splitIntoRequests', () => {
  it('never makes a PutRecords request over 5 MiB or 500 records, and keeps order', () => {
    const sizes = fc.array(
      fc.oneof(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 40_000, max: 1_048_576 })),
      { maxLength: 1_500 },
    );
    fc.assert(
      fc.property(sizes, (ss) => {
        const items = ss.map((sizeBytes, i) => ({ sizeBytes, i }));
        const requests = splitIntoRequests(items);
        for (const req of requests) {
          expect(req.length).toBeGreaterThan(0);
          expect(req.length).toBeLessThanOrEqual(500);
          expect(req.reduce((n, r) => n + r.sizeBytes, 0)).toBeLessThanOrEqual(5 * 1024 * 1024);
        }
        expect(requests.flat().map((r) => r.i)).toEqual(items.map((r) => r.i));
      }),
      { numRuns: 200 },
    );
  });

  it('end to end: aggregated records packed into requests stay within every limit', () => {
    fc.assert(
      fc.property(
        fc.array(
          userRecord.filter((r) => billable(r) <= KINESIS_LIMITS.maxRecordBytes),
          { maxLength: 60 },
        ),
        fc.integer({ min: 64, max: 1_048_576 }),
        (records, maxBytes) => {
          const requests = splitIntoRequests(aggregateRecords(records, { maxBytes }));
          for (const req of requests) {
            expect(req.length).toBeLessThanOrEqual(KINESIS_LIMITS.maxRecordsPerRequest);
            expect(req.reduce((n, r) => n + billable(r), 0)).toBeLessThanOrEqual(
              KINESIS_LIMITS.maxRequestBytes,
            );
            for (const r of req) expect(billable(r)).toBeLessThanOrEqual(KINESIS_LIMITS.maxRecordBytes);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
