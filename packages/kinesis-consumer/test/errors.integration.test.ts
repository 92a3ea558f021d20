import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { ListShardsCommand, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { MetricsRegistry } from '@awskit/core';
import { createTestStream, uniqueName } from '@awskit/local/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type BadRecordInfo,
  type HandlerErrorInfo,
  isKinesisConsumerError,
  type KinesisConsumer,
  StreamNotFoundError,
} from '../src/index.js';
import { workerTableName } from '../src/workerRegistry.js';
import { appName, Collector, clients, newConsumer, put, records, text, waitFor } from './helpers.js';

const running: KinesisConsumer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.stop()));
});

describe('KinesisConsumer on bad input', () => {
  it('an unknown stream fails start() with StreamNotFoundError, and creates no tables', async () => {
    const c = await clients();
    const app = appName();
    const w = newConsumer(c, {
      streamName: uniqueName('missing'),
      applicationName: app,
      processor: () => {},
    });
    const e = await w.start().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(StreamNotFoundError);
    expect(isKinesisConsumerError(e, 'KINESIS_CONSUMER_STREAM_NOT_FOUND')).toBe(true);
    expect((e as StreamNotFoundError).hint).toBeTruthy();
    // Neither the lease table nor the worker table (a typo leaves nothing to clean up on the account).
    for (const TableName of [app, workerTableName(app)]) {
      const missing = await c.dynamo.send(new DescribeTableCommand({ TableName })).catch((x: unknown) => x);
      expect((missing as Error).name).toBe('ResourceNotFoundException');
    }
  });

  it('a malformed KPL aggregate is reported and delivered raw; the other shard keeps going', async () => {
    const c = await clients();
    const stream = await createTestStream(c.kinesis, { shardCount: 2 });
    const shards = (await c.kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards!;
    // Aggregate magic, then garbage and a wrong MD5.
    const bad = new Uint8Array([0xf3, 0x89, 0x9a, 0xc2, 0x0a, 0x05, ...new Array(20).fill(7)]);
    const badSeq = (
      await c.kinesis.send(
        new PutRecordCommand({
          StreamName: stream,
          PartitionKey: 'x',
          ExplicitHashKey: shards[0]!.HashKeyRange!.StartingHashKey,
          Data: bad,
        }),
      )
    ).SequenceNumber!;
    await put(c.kinesis, stream, records(20, 10));
    const reported: BadRecordInfo[] = [];
    const col = new Collector();
    const w = newConsumer(c, {
      streamName: stream,
      applicationName: appName(),
      initialPosition: 'TRIM_HORIZON',
      processor: (rs) => col.add(rs),
      onBadRecord: (info) => reported.push(info),
    });
    running.push(w);
    await w.start();
    await waitFor('all good records and the raw bad one', () => col.distinct().size === 21);
    expect(reported.map((r) => r.sequenceNumber)).toEqual([badSeq]);
    expect(col.all.find((r) => r.sequenceNumber === badSeq)!.aggregated).toBe(false);
  });

  it('a failing handler is retried with backoff and never skipped silently; other shards are not held up', async () => {
    const c = await clients();
    const stream = await createTestStream(c.kinesis, { shardCount: 2 });
    const shards = (await c.kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards!;
    const failing = shards[0]!.ShardId!;
    await put(
      c.kinesis,
      stream,
      shards.flatMap((s, i) =>
        Array.from({ length: 5 }, (_, j) => ({
          key: `s${i}`,
          data: `s${i}:${j}`,
          explicitHashKey: s.HashKeyRange!.StartingHashKey!,
        })),
      ),
    );
    let failures = 0;
    const col = new Collector();
    const errors: HandlerErrorInfo[] = [];
    const metrics = new MetricsRegistry();
    const w = newConsumer(c, {
      streamName: stream,
      applicationName: appName(),
      initialPosition: 'TRIM_HORIZON',
      metrics,
      processor: (rs, ctx) => {
        if (ctx.shardId === failing && failures < 3) {
          failures++;
          throw new Error('downstream unavailable');
        }
        col.add(rs);
      },
      onError: (_e, info) => {
        errors.push(info);
        return 'retry';
      },
    });
    running.push(w);
    await w.start();
    await waitFor('all 10', () => col.distinct().size === 10);
    expect(errors.map((e) => e.attempt)).toEqual([1, 2, 3]);
    expect(errors.every((e) => e.shardId === failing && e.records.length === 5)).toBe(true);
    expect(metrics.toPrometheus()).toMatch(
      new RegExp(`kinesis_consumer_handler_errors_total\\{shard="${failing}"\\} 3`),
    );
  });

  it('stop() does not hang on a handler that keeps failing; the batch stays unprocessed for the next owner', async () => {
    const c = await clients();
    const stream = await createTestStream(c.kinesis, { shardCount: 1 });
    const app = appName();
    await put(c.kinesis, stream, [{ key: 'k', data: 'k:0' }]);
    let attempts = 0;
    const w = newConsumer(c, {
      streamName: stream,
      applicationName: app,
      initialPosition: 'TRIM_HORIZON',
      processor: () => {
        attempts++;
        throw new Error('always down');
      },
    });
    running.push(w);
    await w.start();
    await waitFor('a few attempts', () => attempts >= 2);
    await w.stop();
    const col = new Collector();
    const next = newConsumer(c, {
      streamName: stream,
      applicationName: app,
      initialPosition: 'TRIM_HORIZON',
      processor: (rs) => col.add(rs),
    });
    running.push(next);
    await next.start();
    await waitFor('redelivered to the next owner', () => col.distinct().has('k:0'));
  });

  it('LATEST: a record that arrived before the first checkpoint is not skipped when the lease changes hands', async () => {
    const c = await clients();
    const stream = await createTestStream(c.kinesis, { shardCount: 1 });
    const app = appName();
    let attempts = 0;
    const w = newConsumer(c, {
      streamName: stream,
      applicationName: app,
      initialPosition: 'LATEST',
      processor: () => {
        attempts++;
        throw new Error('down');
      },
    });
    running.push(w);
    await w.start();
    await waitFor('reading', () => w.heldLeases()[0]?.millisBehindLatest !== undefined);
    await put(c.kinesis, stream, [{ key: 'k', data: 'k:0' }]);
    await waitFor('delivered but never checkpointed', () => attempts >= 1);
    await w.stop();
    const col = new Collector();
    const next = newConsumer(c, {
      streamName: stream,
      applicationName: app,
      initialPosition: 'LATEST',
      processor: (rs) => col.add(rs),
    });
    running.push(next);
    await next.start();
    await waitFor('the next owner gets it', () => col.distinct().has('k:0'));
  });

  it("onError returning 'skip' (after dead-lettering) moves past the batch and checkpoints it", async () => {
    const c = await clients();
    const stream = await createTestStream(c.kinesis, { shardCount: 1 });
    await put(c.kinesis, stream, [{ key: 'k', data: 'poison' }]);
    const deadLetters: string[] = [];
    const col = new Collector();
    const w = newConsumer(c, {
      streamName: stream,
      applicationName: appName(),
      initialPosition: 'TRIM_HORIZON',
      processor: (rs) => {
        if (rs.some((r) => text(r) === 'poison')) throw new Error('cannot parse');
        col.add(rs);
      },
      onError: (_e, info) => {
        deadLetters.push(...info.records.map(text));
        return info.attempt >= 2 ? 'skip' : 'retry';
      },
    });
    running.push(w);
    await w.start();
    await waitFor('dead-lettered', () => deadLetters.length === 2);
    await put(c.kinesis, stream, [{ key: 'k', data: 'k:1' }]);
    await waitFor('next record', () => col.distinct().has('k:1'));
    // The batch after the skipped one is checkpointed right after its handler returns.
    await waitFor(
      'checkpoint past the skipped batch',
      () => w.heldLeases()[0]!.checkpoint.sequenceNumber === col.all.at(-1)!.sequenceNumber,
    );
  });
});
