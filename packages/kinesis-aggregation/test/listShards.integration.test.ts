import { DescribeStreamSummaryCommand, KinesisClient, SplitShardCommand } from '@aws-sdk/client-kinesis';
import { createClient } from '@awskit/core';
import { createTestStream, testClientOptions } from '@awskit/local/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { listShards } from '../src/listShards.js';

let kinesis: KinesisClient;
let pages = 0;

beforeAll(async () => {
  kinesis = await createClient(KinesisClient, testClientOptions());
  kinesis.middlewareStack.add(
    (next, context) => (args) => {
      if (context.commandName === 'ListShardsCommand') pages++;
      return next(args);
    },
    { step: 'initialize', name: 'countListShards' },
  );
});

describe('listShards', () => {
  it('follows NextToken over every page, by name and by ARN', async () => {
    const stream = await createTestStream(kinesis, { shardCount: 3 });
    pages = 0;
    const byName = await listShards(kinesis, { streamName: stream }, { maxResults: 1 });
    expect(pages).toBe(3);
    expect(byName.map((s) => s.ShardId)).toEqual([
      'shardId-000000000000',
      'shardId-000000000001',
      'shardId-000000000002',
    ]);
    const arn = (await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream })))
      .StreamDescriptionSummary!.StreamARN!;
    expect((await listShards(kinesis, { streamARN: arn })).map((s) => s.ShardId)).toEqual(
      byName.map((s) => s.ShardId),
    );
  });

  it('returns closed shards too (parents of a split), so callers can tell them apart', async () => {
    const stream = await createTestStream(kinesis, { shardCount: 1 });
    const [parent] = await listShards(kinesis, { streamName: stream });
    await kinesis.send(
      new SplitShardCommand({
        StreamName: stream,
        ShardToSplit: parent!.ShardId!,
        NewStartingHashKey: (2n ** 127n).toString(),
      }),
    );
    let shards = await listShards(kinesis, { streamName: stream }, { maxResults: 2 });
    for (let i = 0; shards.length < 3 && i < 100; i++) {
      await new Promise((r) => setTimeout(r, 100));
      shards = await listShards(kinesis, { streamName: stream }, { maxResults: 2 });
    }
    expect(shards).toHaveLength(3);
    const closed = shards.filter((s) => s.SequenceNumberRange?.EndingSequenceNumber);
    expect(closed.map((s) => s.ShardId)).toEqual([parent!.ShardId]);
  });

  it('gives up when the signal aborts', async () => {
    const stream = await createTestStream(kinesis);
    await expect(
      listShards(kinesis, { streamName: stream }, { signal: AbortSignal.abort() }),
    ).rejects.toThrow(/abort/i);
  });

  it('passes the service error through for a missing stream', async () => {
    await expect(listShards(kinesis, { streamName: 'no-such-stream-listshards' })).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });
});
