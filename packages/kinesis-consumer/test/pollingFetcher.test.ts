import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type GetShardIteratorCommandInput,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { MetricsRegistry, noopLogger } from '@awskit/core';
import { describe, expect, it } from 'vitest';
import { PollingFetcher } from '../src/pollingFetcher.js';

/** A scripted Kinesis: unit tests of the fetcher's own logic (integration tests use the real local Kinesis). */
function fakeKinesis(script: (n: number) => unknown) {
  const iterators: GetShardIteratorCommandInput[] = [];
  let getRecords = 0;
  let seq = 100;
  const client = {
    send: async (cmd: unknown) => {
      if (cmd instanceof GetShardIteratorCommand) {
        iterators.push(cmd.input);
        return { ShardIterator: `it-${iterators.length}` };
      }
      if (cmd instanceof GetRecordsCommand) {
        const n = getRecords++;
        const scripted = script(n);
        if (scripted instanceof Error) throw scripted;
        if (scripted) return scripted;
        seq++;
        return {
          Records: [{ SequenceNumber: String(seq), PartitionKey: 'k', Data: new Uint8Array([1]) }],
          NextShardIterator: `next-${n}`,
          MillisBehindLatest: 0,
        };
      }
      throw new Error('unexpected command');
    },
  };
  return { client: client as unknown as KinesisClient, iterators, calls: () => getRecords };
}

const named = (name: string) => Object.assign(new Error(name), { name });
const tick = () => new Promise((r) => setTimeout(r, 20));

function fetcher(k: ReturnType<typeof fakeKinesis>, delays: number[] = [], metrics = new MetricsRegistry()) {
  return new PollingFetcher(
    {
      kinesis: k.client,
      streamName: 's',
      shardId: 'shardId-000000000000',
      start: { type: 'TRIM_HORIZON' },
      logger: noopLogger,
      metrics,
      sleep: async (ms) => {
        delays.push(ms);
      },
    },
    { minTimeBetweenReadsMs: 0, maxPrefetchBatches: 2, backoff: { baseMs: 100, capMs: 1000 } },
  );
}

describe('PollingFetcher', () => {
  it('stops fetching while maxPrefetchBatches batches wait for a slow processor (back-pressure)', async () => {
    const k = fakeKinesis(() => undefined);
    const f = fetcher(k);
    await tick();
    expect(k.calls()).toBe(2);
    await f.next();
    await tick();
    expect(k.calls()).toBe(3);
    f.close();
  });

  it('backs off on ProvisionedThroughputExceeded and carries on', async () => {
    const k = fakeKinesis((n) => (n < 2 ? named('ProvisionedThroughputExceededException') : undefined));
    const delays: number[] = [];
    const metrics = new MetricsRegistry();
    const f = fetcher(k, delays, metrics);
    const b = await f.next();
    expect(b!.records).toHaveLength(1);
    expect(delays.length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(metrics.snapshot())).toContain('kinesis_consumer_throttled_total');
    f.close();
  });

  it('renews an expired iterator after the last record fetched: nothing skipped, nothing repeated', async () => {
    const k = fakeKinesis((n) => (n === 1 ? named('ExpiredIteratorException') : undefined));
    const f = fetcher(k);
    const first = await f.next();
    const second = await f.next();
    expect(k.iterators.map((i) => i.ShardIteratorType)).toEqual(['TRIM_HORIZON', 'AFTER_SEQUENCE_NUMBER']);
    expect(k.iterators[1]!.StartingSequenceNumber).toBe(first!.records[0]!.SequenceNumber);
    expect(BigInt(second!.records[0]!.SequenceNumber!)).toBeGreaterThan(
      BigInt(first!.records[0]!.SequenceNumber!),
    );
    f.close();
  });

  it('reports the end of a closed shard with its child shards', async () => {
    const k = fakeKinesis(() => ({
      Records: [],
      NextShardIterator: undefined,
      ChildShards: [
        { ShardId: 'shardId-000000000002', ParentShards: ['shardId-000000000000'], HashKeyRange: {} },
      ],
    }));
    const f = fetcher(k);
    const b = await f.next();
    expect(b!.shardEnded).toBe(true);
    expect(b!.childShards![0]!.ShardId).toBe('shardId-000000000002');
    expect(await f.next()).toBeUndefined();
  });

  it('fails the shard on AccessDenied instead of retrying forever', async () => {
    const k = fakeKinesis(() => named('AccessDeniedException'));
    const f = fetcher(k);
    await expect(f.next()).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });
});
