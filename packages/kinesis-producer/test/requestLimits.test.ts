import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { userRecordHashKey } from '@awskit/kinesis-aggregation';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KinesisProducer } from '../src/index.js';

const MAX = (1n << 128n) - 1n;

/**
 * A stand-in for the Kinesis client (this is a unit test of the batching logic; the integration tests use the local
 * Kinesis): two shards, every entry accepted on the shard its hash key belongs to, every request recorded.
 */
function fakeKinesis() {
  const requests: { Data: Uint8Array; PartitionKey: string; ExplicitHashKey?: string }[][] = [];
  const half = 1n << 127n;
  const client = {
    send: async (cmd: { constructor: { name: string }; input: Record<string, unknown> }) => {
      if (cmd.constructor.name === 'ListShardsCommand') {
        return {
          Shards: [
            { ShardId: 's0', HashKeyRange: { StartingHashKey: '0', EndingHashKey: (half - 1n).toString() } },
            {
              ShardId: 's1',
              HashKeyRange: { StartingHashKey: half.toString(), EndingHashKey: MAX.toString() },
            },
          ],
        };
      }
      const records = cmd.input.Records as (typeof requests)[number];
      requests.push(records);
      let seq = 0;
      return {
        Records: records.map((r) => ({
          ShardId:
            userRecordHashKey({ partitionKey: r.PartitionKey, explicitHashKey: r.ExplicitHashKey }) >= half
              ? 's1'
              : 's0',
          SequenceNumber: String(++seq),
        })),
      };
    },
    destroy() {},
  };
  return { client: client as unknown as KinesisClient, requests };
}

const billable = (r: { Data: Uint8Array; PartitionKey: string }) =>
  r.Data.byteLength + Buffer.byteLength(r.PartitionKey, 'utf8');

describe('KinesisProducer request limits', () => {
  it('never sends a PutRecords over 500 records or 5 MiB, or a record over 1 MiB, and settles every put', async () => {
    let sent = 0;
    let maxEntries = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            size: fc.oneof(
              { arbitrary: fc.integer({ min: 0, max: 300 }), weight: 30 },
              { arbitrary: fc.integer({ min: 100_000, max: 1_048_000 }), weight: 1 },
            ),
            key: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }),
            ehk: fc.bigInt({ min: 0n, max: MAX }),
          }),
          { minLength: 1, maxLength: 1_200, size: 'max' },
        ),
        fc.boolean(),
        async (specs, aggregation) => {
          const { client, requests } = fakeKinesis();
          const producer = new KinesisProducer({
            streamName: 's',
            client,
            aggregation,
            rateLimitPercent: 100_000,
            maxBufferedTimeMs: 1,
          });
          const puts = specs.map((s) => {
            const data = Buffer.alloc(Math.max(0, s.size - Buffer.byteLength(s.key, 'utf8')), 1);
            return producer.put({ data, partitionKey: s.key, explicitHashKey: s.ehk.toString() });
          });
          const results = await Promise.all(puts);
          await producer.close();
          expect(results).toHaveLength(specs.length);
          expect(requests.length).toBeGreaterThan(0);
          sent += requests.reduce((n, r) => n + r.length, 0);
          maxEntries = Math.max(maxEntries, ...requests.map((r) => r.length));
          for (const req of requests) {
            expect(req.length).toBeGreaterThan(0);
            expect(req.length).toBeLessThanOrEqual(500);
            expect(req.reduce((n, r) => n + billable(r), 0)).toBeLessThanOrEqual(5 * 1024 * 1024);
            for (const r of req) expect(billable(r)).toBeLessThanOrEqual(1024 * 1024);
          }
          // aggregates never straddle shards: every user record landed where its hash key belongs
          for (let i = 0; i < specs.length; i++) {
            expect(results[i]!.shardId).toBe(specs[i]!.ehk >= 1n << 127n ? 's1' : 's0');
          }
        },
      ),
      { numRuns: 15 },
    );
    expect(sent).toBeGreaterThan(1_000);
    expect(maxEntries).toBeGreaterThan(100);
  });

  it('fills requests up to exactly 500 records without aggregation', async () => {
    const { client, requests } = fakeKinesis();
    const producer = new KinesisProducer({
      streamName: 's',
      client,
      aggregation: false,
      rateLimitPercent: 100_000,
    });
    await Promise.all(
      Array.from({ length: 1_200 }, (_, i) =>
        producer.put({ partitionKey: `k${i}`, data: Buffer.alloc(10) }),
      ),
    );
    await producer.close();
    expect(requests.map((r) => r.length)).toEqual([500, 500, 200]);
  });
});
