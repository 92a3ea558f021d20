import { ListShardsCommand } from '@aws-sdk/client-kinesis';
import { createTestStream, uniqueName } from '@awskit/local/testing';
import { describe, expect, it } from 'vitest';
import { StreamNotFoundError, tailStream } from '../src/index.js';
import { Collector, clients, put, records, splitShardInHalf, waitFor } from './helpers.js';

describe('tailStream', () => {
  it('reads every shard without a lease table and follows a split (children after the parent)', async () => {
    const c = await clients();
    const stream = await createTestStream(c.kinesis, { shardCount: 1 });
    await put(c.kinesis, stream, records(30, 6));
    const col = new Collector();
    const stop = new AbortController();
    const done = tailStream({
      kinesisClient: c.kinesis,
      streamName: stream,
      from: 'TRIM_HORIZON',
      onRecords: (rs) => col.add(rs),
      signal: stop.signal,
      polling: { idleTimeBetweenReadsMs: 100, minTimeBetweenReadsMs: 50 },
    });
    await waitFor('first 30', () => col.distinct().size === 30);
    const [s0] = (await c.kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards!;
    await splitShardInHalf(c.kinesis, stream, s0!);
    await waitFor('split done', async () => {
      const shards = (await c.kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards!;
      return shards.length === 3;
    });
    const more = records(60, 6).slice(30);
    await put(c.kinesis, stream, more);
    await waitFor('all 60', () => col.distinct().size === 60);
    stop.abort();
    await done;
    expect(col.orderViolations()).toEqual([]);
    expect(new Set(col.all.map((r) => r.shardId)).size).toBe(3);
  });

  it('an unknown stream is a StreamNotFoundError', async () => {
    const c = await clients();
    await expect(
      tailStream({ kinesisClient: c.kinesis, streamName: uniqueName('nope'), onRecords: () => {} }),
    ).rejects.toBeInstanceOf(StreamNotFoundError);
  });
});
