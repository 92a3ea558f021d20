import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { isAwskitError, MetricsRegistry } from '@awskit/core';
import { hashKeyInRange, userRecordHashKey } from '@awskit/kinesis-aggregation';
import { createTestStream, uniqueName } from '@awskit/local/testing';
import { describe, expect, it } from 'vitest';
import {
  InvalidRecordError,
  KinesisProducer,
  LOCAL_ENDPOINT_DEFAULTS,
  type PutResult,
  putRecords,
  RecordExpiredError,
} from '../src/index.js';
import {
  beforePutRecords,
  injectPartialFailures,
  listAllShards,
  readAll,
  seeded,
  text,
  useKinesisClients,
  utf8,
} from './helpers.js';

const { admin, producerClient } = useKinesisClients();

/** n records over `keys` partition keys; data says which key and which position, so order can be checked. */
function makeRecords(n: number, keys: number, size = 0) {
  return Array.from({ length: n }, (_, i) => {
    const key = `key-${i % keys}`;
    const body = `${key}#${Math.floor(i / keys)}`;
    return { partitionKey: key, data: utf8(size > body.length ? body.padEnd(size, '.') : body) };
  });
}

function expectExactlyOnceInOrder(
  input: { partitionKey: string; data: Uint8Array }[],
  read: { partitionKey: string; data: Uint8Array }[],
) {
  const got = read.map((r) => `${r.partitionKey}|${text(r.data)}`);
  expect(got.length).toBe(input.length);
  expect(new Set(got).size).toBe(got.length);
  expect([...got].sort()).toEqual(input.map((r) => `${r.partitionKey}|${text(r.data)}`).sort());
  // per partition key, the order in the stream is the put order
  const byKey = new Map<string, string[]>();
  for (const r of read) {
    const list = byKey.get(r.partitionKey) ?? [];
    list.push(text(r.data));
    byKey.set(r.partitionKey, list);
  }
  for (const [key, list] of byKey) {
    expect(list).toEqual(input.filter((r) => r.partitionKey === key).map((r) => text(r.data)));
  }
}

describe('KinesisProducer on the local Kinesis', () => {
  it('aggregates per shard; GetRecords + deaggregate give back exactly the input, in order per key', async () => {
    const stream = await createTestStream(admin(), { shardCount: 2 });
    const metrics = new MetricsRegistry();
    const producer = new KinesisProducer({ streamName: stream, client: await producerClient(), metrics });
    const input = makeRecords(1_500, 40, 60);
    const results = await Promise.all(input.map((r) => producer.put(r)));
    await producer.close();

    const { records, kinesisRecords } = await readAll(admin(), stream);
    expectExactlyOnceInOrder(input, records);
    // aggregation happened, and no aggregate straddles shards: every user record's hash key is in its shard
    expect(kinesisRecords).toBeLessThan(input.length / 10);
    const shards = await listAllShards(admin(), stream);
    for (const r of records) {
      const range = shards.find((s) => s.ShardId === r.shardId)!.HashKeyRange!;
      expect(hashKeyInRange(userRecordHashKey(r), range as never)).toBe(true);
    }
    // each result says where the record is
    const where = new Map(records.map((r) => [`${r.sequenceNumber}/${r.subSequenceNumber}`, r]));
    results.forEach((res, i) => {
      const found = where.get(`${res.sequenceNumber}/${res.subSequenceNumber}`);
      expect(found && text(found.data)).toBe(text(input[i]!.data));
      expect(found!.shardId).toBe(res.shardId);
      expect(res.attempts).toBe(1);
    });
    const stats = producer.stats;
    expect(stats.userRecordsPut).toBe(1_500);
    expect(stats.kinesisRecordsPut).toBe(kinesisRecords);
    expect(metrics.value('kinesis_producer_user_records_put_total', { stream })).toBe(1_500);
    expect(metrics.value('kinesis_producer_kinesis_records_put_total', { stream })).toBe(kinesisRecords);
  });

  it('without aggregation sends each record alone, on the shard its partition key hashes to', async () => {
    const stream = await createTestStream(admin(), { shardCount: 4 });
    const producer = new KinesisProducer({
      streamName: stream,
      client: await producerClient(),
      aggregation: false,
    });
    const input = makeRecords(300, 300);
    const results = await Promise.all(input.map((r) => producer.put(r)));
    await producer.close();
    const shards = await listAllShards(admin(), stream);
    results.forEach((res, i) => {
      expect(res.subSequenceNumber).toBeUndefined();
      const range = shards.find((s) => s.ShardId === res.shardId)!.HashKeyRange!;
      expect(hashKeyInRange(userRecordHashKey(input[i]!), range as never)).toBe(true);
    });
    const { records, kinesisRecords } = await readAll(admin(), stream);
    expect(kinesisRecords).toBe(300);
    expectExactlyOnceInOrder(input, records);
  });

  it('without a shard map (ListShards failing) still delivers everything, unaggregated, then aggregates once it loads', async () => {
    const stream = await createTestStream(admin(), { shardCount: 2 });
    const client = await producerClient();
    let listShardsCalls = 0;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'ListShardsCommand' && listShardsCalls++ === 0) {
          throw Object.assign(new Error('Rate exceeded for stream'), {
            name: 'LimitExceededException',
            $fault: 'client',
            $metadata: { httpStatusCode: 400 },
          });
        }
        return next(args);
      },
      { step: 'initialize', name: 'failFirstListShards' },
    );
    const producer = new KinesisProducer({ streamName: stream, client });
    const first = makeRecords(40, 4);
    const firstResults = await Promise.all(first.map((r) => producer.put(r)));
    expect(firstResults.every((r) => r.subSequenceNumber === undefined)).toBe(true); // sent one by one
    expect(producer.stats.shardMapRefreshes).toBe(0);
    // the map load is retried after a backoff (1 s), on the next pump: trigger one, wait for the map
    await new Promise((r) => setTimeout(r, 1_050));
    await producer.put({ partitionKey: 'trigger', data: utf8('t') });
    for (let i = 0; i < 200 && producer.stats.shardMapRefreshes === 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(producer.stats.shardMapRefreshes).toBe(1);
    const second = makeRecords(40, 4).map((r) => ({ ...r, partitionKey: `later-${r.partitionKey}` }));
    const secondResults = await Promise.all(second.map((r) => producer.put(r)));
    await producer.close();
    expect(secondResults.some((r) => r.subSequenceNumber !== undefined)).toBe(true);
    expect(listShardsCalls).toBeGreaterThanOrEqual(2);
    const { records } = await readAll(admin(), stream);
    expectExactlyOnceInOrder([...first, { partitionKey: 'trigger', data: utf8('t') }, ...second], records);
  });

  it('uses smaller requests against a local endpoint (LOCAL_ENDPOINT_DEFAULTS) unless told otherwise', async () => {
    const stream = await createTestStream(admin(), { shardCount: 1 });
    const sizes: number[] = [];
    const measure = (c: KinesisClient) =>
      c.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName === 'PutRecordsCommand') {
            const recs = (args.input as { Records: { Data: Uint8Array; PartitionKey: string }[] }).Records;
            sizes.push(recs.reduce((n, r) => n + r.Data.byteLength + r.PartitionKey.length, 0));
          }
          return next(args);
        },
        { step: 'initialize', name: 'measureRequests' },
      );
    const local = await producerClient();
    measure(local);
    const producer = new KinesisProducer({ streamName: stream, client: local });
    await Promise.all(makeRecords(6_000, 50, 100).map((r) => producer.put(r)));
    await producer.close();
    expect(Math.max(...sizes)).toBeLessThanOrEqual(LOCAL_ENDPOINT_DEFAULTS.collectionMaxBytes);
    expect(sizes.length).toBeGreaterThan(1);

    sizes.length = 0;
    const explicit = await producerClient();
    measure(explicit);
    const big = new KinesisProducer({
      streamName: stream,
      client: explicit,
      collectionMaxBytes: 5 * 1024 * 1024,
    });
    await Promise.all(makeRecords(6_000, 50, 100).map((r) => big.put(r)));
    await big.close();
    expect(Math.max(...sizes)).toBeGreaterThan(LOCAL_ENDPOINT_DEFAULTS.collectionMaxBytes);
  });

  it('honours explicit hash keys', async () => {
    const stream = await createTestStream(admin(), { shardCount: 2 });
    const producer = new KinesisProducer({ streamName: stream, client: await producerClient() });
    const low = await producer.put({ partitionKey: 'same', explicitHashKey: '1', data: utf8('low') });
    const high = await producer.put({
      partitionKey: 'same',
      explicitHashKey: ((1n << 128n) - 2n).toString(),
      data: utf8('high'),
    });
    await producer.close();
    expect(low.shardId).not.toBe(high.shardId);
  });

  it('retries only the failed entries of partial PutRecords failures; nothing lost or duplicated', async () => {
    const stream = await createTestStream(admin(), { shardCount: 2 });
    const client = await producerClient();
    const rnd = seeded(7);
    // about a third of entries fail, with the two retryable codes Kinesis uses
    const injected = injectPartialFailures(client, () =>
      rnd() < 0.35 ? (rnd() < 0.7 ? 'ProvisionedThroughputExceededException' : 'InternalFailure') : undefined,
    );
    const producer = new KinesisProducer({
      streamName: stream,
      client,
      aggregationMaxBytes: 2_000, // many aggregates, so many entries can fail
      retryBaseDelayMs: 5,
      retryMaxDelayMs: 50,
      random: seeded(1),
    });
    const input = makeRecords(800, 25, 40);
    const results = await Promise.all(input.map((r) => producer.put(r)));
    await producer.close();
    expect(injected.failedEntries).toBeGreaterThan(0);
    const stats = producer.stats;
    expect(stats.retries).toBeGreaterThan(0);
    expect(stats.throttles).toBeGreaterThan(0);
    expect(results.some((r) => r.attempts > 1)).toBe(true);
    const { records } = await readAll(admin(), stream);
    const got = records.map((r) => `${r.partitionKey}|${text(r.data)}`);
    expect(got.length).toBe(input.length);
    expect(new Set(got).size).toBe(input.length);
  });

  it('ordered: keeps each key in put order across injected failures and retries', async () => {
    const stream = await createTestStream(admin(), { shardCount: 2 });
    const client = await producerClient();
    const rnd = seeded(11);
    injectPartialFailures(client, () => (rnd() < 0.3 ? 'ProvisionedThroughputExceededException' : undefined));
    const producer = new KinesisProducer({
      streamName: stream,
      client,
      ordered: true,
      aggregationMaxBytes: 1_000,
      maxBufferedTimeMs: 5,
      retryBaseDelayMs: 5,
      retryMaxDelayMs: 30,
    });
    const input = makeRecords(400, 8, 30);
    await Promise.all(input.map((r) => producer.put(r)));
    await producer.close();
    expect(producer.stats.retries).toBeGreaterThan(0);
    const { records } = await readAll(admin(), stream);
    expectExactlyOnceInOrder(input, records);
  });

  it('ordered without aggregation: retries never let a later record of the key overtake', async () => {
    const stream = await createTestStream(admin(), { shardCount: 1 });
    const client = await producerClient();
    const rnd = seeded(5);
    injectPartialFailures(client, () => (rnd() < 0.4 ? 'InternalFailure' : undefined));
    const producer = new KinesisProducer({
      streamName: stream,
      client,
      ordered: true,
      aggregation: false,
      maxBufferedTimeMs: 1,
      retryBaseDelayMs: 1,
      retryMaxDelayMs: 10,
    });
    const input = makeRecords(60, 3);
    await Promise.all(input.map((r) => producer.put(r)));
    await producer.close();
    const { records } = await readAll(admin(), stream);
    expectExactlyOnceInOrder(input, records);
  });

  it('rate-limits each shard to rateLimitPercent of 1,000 records/s', async () => {
    const stream = await createTestStream(admin(), { shardCount: 1 });
    const client = await producerClient();
    const perCall: number[] = [];
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'PutRecordsCommand') {
          perCall.push((args.input as { Records: unknown[] }).Records.length);
        }
        return next(args);
      },
      { step: 'initialize', name: 'countEntries' },
    );
    // 2% of 1,000 records/s = 20 records/s, and a bucket of 20
    const producer = new KinesisProducer({
      streamName: stream,
      client,
      aggregation: false,
      rateLimitPercent: 2,
      maxBufferedTimeMs: 1,
    });
    await Promise.all(makeRecords(50, 5).map((r) => producer.put(r)));
    await producer.close();
    expect(perCall.reduce((a, b) => a + b, 0)).toBe(50);
    // the bucket of 20, plus at most one more for what refills while a request is being built
    expect(Math.max(...perCall)).toBeLessThanOrEqual(21);
    expect(perCall.length).toBeGreaterThanOrEqual(3);
  });

  it('retries whole-request throttling, server errors and network-level failures', async () => {
    const stream = await createTestStream(admin(), { shardCount: 1 });
    const client = await producerClient();
    beforePutRecords(client, (call) => {
      if (call === 0) {
        throw Object.assign(new Error('Rate exceeded for shard'), {
          name: 'ProvisionedThroughputExceededException',
          $fault: 'client',
          $metadata: { httpStatusCode: 400 },
        });
      }
      if (call < 3) {
        throw Object.assign(new Error('We encountered an internal error'), {
          name: 'InternalFailure',
          $fault: 'server',
          $metadata: { httpStatusCode: 500 },
        });
      }
      if (call === 3) throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    });
    const producer = new KinesisProducer({
      streamName: stream,
      client,
      retryBaseDelayMs: 5,
      retryMaxDelayMs: 20,
    });
    const input = makeRecords(50, 5);
    const results = await Promise.all(input.map((r) => producer.put(r)));
    await producer.close();
    // four failed calls, then success: every record needed more than one attempt, and none more than five
    expect(results.every((r) => r.attempts > 1 && r.attempts <= 5)).toBe(true);
    expect(Math.max(...results.map((r) => r.attempts))).toBe(5);
    expect(producer.stats.throttles).toBeGreaterThan(0);
    expect((await readAll(admin(), stream)).records).toHaveLength(50);
  });

  it('rejects with RecordExpiredError carrying the last AWS error code when the TTL passes', async () => {
    const stream = await createTestStream(admin(), { shardCount: 1 });
    const client = await producerClient();
    injectPartialFailures(client, () => 'ProvisionedThroughputExceededException');
    const metrics = new MetricsRegistry();
    const producer = new KinesisProducer({
      streamName: stream,
      client,
      metrics,
      recordTtlMs: 400,
      retryBaseDelayMs: 20,
      retryMaxDelayMs: 50,
    });
    const outcomes = await Promise.allSettled(makeRecords(20, 4).map((r) => producer.put(r)));
    await producer.close();
    for (const o of outcomes) {
      expect(o.status).toBe('rejected');
      const e = (o as PromiseRejectedResult).reason;
      expect(e).toBeInstanceOf(RecordExpiredError);
      expect(isAwskitError(e, 'RECORD_EXPIRED')).toBe(true);
      expect(e.lastErrorCode).toBe('ProvisionedThroughputExceededException');
      expect(e.attempts).toBeGreaterThan(1);
      expect(e.hint).toMatch(/shard/);
    }
    expect(producer.stats.expired).toBe(20);
    expect(metrics.value('kinesis_producer_expired_total', { stream })).toBe(20);
    expect((await readAll(admin(), stream)).records).toHaveLength(0);
  });

  it('failIfThrottled rejects throttled records at once with KINESIS_PRODUCER_THROTTLED', async () => {
    const stream = await createTestStream(admin(), { shardCount: 1 });
    const client = await producerClient();
    injectPartialFailures(client, () => 'ProvisionedThroughputExceededException');
    const producer = new KinesisProducer({ streamName: stream, client, failIfThrottled: true });
    const outcome = await producer.put({ partitionKey: 'k', data: utf8('x') }).catch((e) => e);
    await producer.close();
    expect(isAwskitError(outcome, 'KINESIS_PRODUCER_THROTTLED')).toBe(true);
  });

  it('fails fast with PUT_FAILED (not retried to the TTL) when the stream does not exist', async () => {
    const producer = new KinesisProducer({
      streamName: uniqueName('missing'),
      client: await producerClient(),
    });
    const e = await producer.put({ partitionKey: 'k', data: utf8('x') }).catch((x) => x);
    await producer.close();
    expect(isAwskitError(e, 'PUT_FAILED')).toBe(true);
    expect(isAwskitError(e.cause, 'RESOURCE_NOT_FOUND')).toBe(true);
    expect(e.hint).toBeTruthy();
    // one PutRecords call, no retries: not retried until the TTL
    expect(producer.stats.requests).toBe(1);
    expect(producer.stats.retries).toBe(0);
  });

  it('close() flushes records still waiting for the buffering time, and put after close rejects', async () => {
    const stream = await createTestStream(admin(), { shardCount: 1 });
    const producer = new KinesisProducer({
      streamName: stream,
      client: await producerClient(),
      maxBufferedTimeMs: 60_000,
    });
    const pending = makeRecords(30, 3).map((r) => producer.put(r));
    await producer.close();
    const results = await Promise.all(pending);
    expect(results).toHaveLength(30);
    expect((await readAll(admin(), stream)).records).toHaveLength(30);
    const e = await producer.put({ partitionKey: 'k', data: utf8('late') }).catch((x) => x);
    expect(isAwskitError(e, 'PRODUCER_CLOSED')).toBe(true);
  });

  it('flush() sends without waiting for maxBufferedTimeMs and resolves once those records settled', async () => {
    const stream = await createTestStream(admin(), { shardCount: 1 });
    const producer = new KinesisProducer({
      streamName: stream,
      client: await producerClient(),
      maxBufferedTimeMs: 60_000,
    });
    const settled: PutResult[] = [];
    const ps = makeRecords(10, 2).map((r) => producer.put(r).then((x) => settled.push(x)));
    await producer.flush();
    expect(settled).toHaveLength(10);
    await Promise.all(ps);
    await producer.close();
  });

  it('holds memory to maxBufferedBytes: put waits for room instead of growing the buffer', async () => {
    const stream = await createTestStream(admin(), { shardCount: 1 });
    const client = await producerClient();
    beforePutRecords(client, () => new Promise((r) => setTimeout(r, 30)));
    const maxBufferedBytes = 4_000;
    const producer = new KinesisProducer({
      streamName: stream,
      client,
      maxBufferedBytes,
      maxBufferedTimeMs: 5,
      collectionMaxCount: 10,
      aggregation: false,
    });
    const input = makeRecords(400, 10, 100);
    let peak = 0;
    let sawFull = false;
    const results: Promise<PutResult>[] = [];
    for (const r of input) {
      // the caller that respects backpressure
      if (producer.isFull) {
        sawFull = true;
        await producer.waitForCapacity();
      }
      results.push(producer.put(r));
      peak = Math.max(peak, producer.bufferedBytes);
    }
    // a caller that ignores it: puts wait outside the buffer, which still does not grow
    const extra = makeRecords(100, 10, 100).map((r) => ({ ...r, partitionKey: `x${r.partitionKey}` }));
    for (const r of extra) {
      results.push(producer.put(r));
      peak = Math.max(peak, producer.bufferedBytes);
    }
    const sampler = setInterval(() => {
      peak = Math.max(peak, producer.bufferedBytes);
    }, 1);
    await Promise.all(results);
    clearInterval(sampler);
    await producer.close();
    expect(sawFull).toBe(true);
    expect(peak).toBeLessThanOrEqual(maxBufferedBytes);
    expect(producer.bufferedBytes).toBe(0);
    expect((await readAll(admin(), stream)).records).toHaveLength(500);
  });

  it('rejects invalid records at once with every problem, without sending anything', async () => {
    const producer = new KinesisProducer({ streamName: uniqueName('never'), client: await producerClient() });
    const cases = [
      { partitionKey: '', data: utf8('x') },
      { partitionKey: 'k'.repeat(257), data: utf8('x') },
      { partitionKey: 'k', data: Buffer.alloc(1024 * 1024) },
      { partitionKey: 'k', explicitHashKey: '-5', data: utf8('x') },
      { partitionKey: 'k', explicitHashKey: (1n << 128n).toString(), data: utf8('x') },
    ];
    for (const c of cases) {
      const e = await producer.put(c).catch((x) => x);
      expect(e).toBeInstanceOf(InvalidRecordError);
      expect(e.problems.length).toBeGreaterThan(0);
    }
    const both = await producer
      .put({ partitionKey: '', explicitHashKey: 'x', data: utf8('x') })
      .catch((x) => x);
    expect(both.problems.map((p: { path: string }) => p.path)).toEqual(['partitionKey', 'explicitHashKey']);
    await producer.close();
    expect(producer.stats.requests).toBe(0);
    expect(producer.stats.failed).toBe(6);
  });

  it('putRecords() one-shot returns a settled result per record', async () => {
    const stream = await createTestStream(admin(), { shardCount: 1 });
    const records = [...makeRecords(20, 4), { partitionKey: '', data: utf8('bad') }];
    const summary = await putRecords(records, { streamName: stream, client: await producerClient() });
    expect(summary.succeeded).toBe(20);
    expect(summary.failed).toBe(1);
    expect(summary.results[20]!.status).toBe('rejected');
    expect(summary.stats.userRecordsPut).toBe(20);
  });

  it('can be piped into (writable) and fed an async iterable (putAll)', async () => {
    const stream = await createTestStream(admin(), { shardCount: 1 });
    const producer = new KinesisProducer({ streamName: stream, client: await producerClient() });
    const { Readable } = await import('node:stream');
    const { pipeline } = await import('node:stream/promises');
    const errors: Error[] = [];
    await pipeline(
      Readable.from([...makeRecords(25, 5), { partitionKey: '', data: utf8('bad') }]),
      producer.writable({ onError: (e) => errors.push(e) }),
    );
    expect(errors).toHaveLength(1);
    async function* gen() {
      for (const r of makeRecords(25, 5)) yield { ...r, partitionKey: `b-${r.partitionKey}` };
    }
    const summary = await producer.putAll(gen());
    expect(summary).toEqual({ succeeded: 25, failed: 0 });
    await producer.close();
    expect((await readAll(admin(), stream)).records).toHaveLength(50);
  });
});
