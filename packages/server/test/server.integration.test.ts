import { KinesisClient } from '@aws-sdk/client-kinesis';
import { createClient } from '@awskit/core';
import type { ConsumerRecord } from '@awskit/kinesis-consumer';
import { createTestStream, testClientOptions, uniqueName } from '@awskit/local/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwskitServer, startServer } from '../src/index.js';
import { eventually, ingest, readAll } from './helpers.js';

let kinesis: KinesisClient;
const servers: AwskitServer[] = [];

async function serve(opts: Omit<Parameters<typeof startServer>[0], 'clientOptions' | 'port'>) {
  const s = await startServer({ port: 0, clientOptions: testClientOptions(), ...opts });
  servers.push(s);
  return s;
}

beforeAll(async () => {
  kinesis = await createClient(KinesisClient, testClientOptions());
});
afterAll(async () => {
  await Promise.allSettled(servers.map((s) => s.close()));
  kinesis?.destroy();
});

describe('POST /v1/streams/:stream/records', () => {
  it('puts a JSON array into the stream with partition keys taken from a field', async () => {
    const stream = await createTestStream(kinesis, { shardCount: 2 });
    const server = await serve({ streams: [stream], partitionKeyField: 'userId' });
    const events = Array.from({ length: 40 }, (_, i) => ({ userId: `u${i % 7}`, n: i }));
    const r = await ingest(server.url, stream, events);
    expect(r.status).toBe(202);
    expect(r.json).toEqual({ accepted: 40 });
    await server.producer(stream)!.flush();
    const got = await readAll(kinesis, stream);
    expect(got).toHaveLength(40);
    expect(got.map((g) => JSON.parse(g.text).n).sort((a, b) => a - b)).toEqual(events.map((e) => e.n));
    for (const g of got) expect(g.partitionKey).toBe(`u${JSON.parse(g.text).n % 7}`);
    expect(new Set(got.map((g) => g.shardId)).size).toBe(2);
  });

  it('takes NDJSON with a fixed key and, with ?wait=1, answers where each record landed', async () => {
    const stream = await createTestStream(kinesis);
    const server = await serve({ streams: [stream] });
    const lines = ['{"a":1}', '{"a":2}', '', '{"a":3}'].join('\n');
    const r = await ingest(server.url, stream, lines, {
      contentType: 'application/x-ndjson',
      query: 'partitionKey=fixed-key&wait=1',
    });
    expect(r.status).toBe(200);
    expect(r.json.accepted).toBe(3);
    const results = r.json.results as { shardId: string; sequenceNumber: string }[];
    expect(results).toHaveLength(3);
    for (const x of results) {
      expect(x.shardId).toBe('shardId-000000000000');
      expect(x.sequenceNumber).toMatch(/^\d+$/);
    }
    const got = await readAll(kinesis, stream);
    expect(got.map((g) => g.text)).toEqual(['{"a":1}', '{"a":2}', '{"a":3}']);
    expect(new Set(got.map((g) => g.partitionKey))).toEqual(new Set(['fixed-key']));
  });

  it('answers 400 with every bad record, 404 for a stream it does not serve, 415 for other media types', async () => {
    const stream = await createTestStream(kinesis);
    const server = await serve({ streams: [stream], partitionKeyField: 'id' });
    const bad = await ingest(server.url, stream, [{ id: 'a' }, { x: 1 }, { id: null }]);
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatchObject({
      code: 'INVALID_RECORDS',
      problems: [{ path: '[1].id' }, { path: '[2].id' }],
    });
    const ndjson = await ingest(server.url, stream, '{"id":1}\n{oops', {
      contentType: 'application/x-ndjson',
    });
    expect(ndjson.status).toBe(400);
    expect((ndjson.json.error as { problems: unknown[] }).problems).toEqual([
      expect.objectContaining({ path: 'line 2' }),
    ]);
    const other = await ingest(server.url, 'not-served', [{ id: 1 }]);
    expect(other.status).toBe(404);
    expect(other.json.error).toMatchObject({ code: 'STREAM_NOT_CONFIGURED' });
    const text = await ingest(server.url, stream, 'hello', { contentType: 'text/plain' });
    expect(text.status).toBe(415);
    // Nothing of the rejected requests reached the stream.
    expect(await readAll(kinesis, stream)).toHaveLength(0);
  });

  it('enforces the body size limit and the records-per-request limit with 413', async () => {
    const stream = await createTestStream(kinesis);
    const server = await serve({ streams: [stream], bodyLimitBytes: 1_024, maxRecordsPerRequest: 5 });
    const big = await ingest(server.url, stream, [{ pad: 'x'.repeat(2_000) }]);
    expect(big.status).toBe(413);
    expect(big.json.error).toMatchObject({ code: 'BODY_TOO_LARGE' });
    const many = await ingest(server.url, stream, [1, 2, 3, 4, 5, 6]);
    expect(many.status).toBe(413);
    expect(many.json.error).toMatchObject({ code: 'TOO_MANY_RECORDS' });
    expect((await ingest(server.url, stream, [1, 2, 3, 4, 5])).status).toBe(202);
  });

  it('answers 429 with Retry-After while the producer buffer is full, and accepts again once it drains', async () => {
    const stream = await createTestStream(kinesis);
    const server = await serve({
      streams: [stream],
      retryAfterSeconds: 2,
      // Records stay buffered until flushed, so the buffer is full for as long as the test needs.
      producer: { maxBufferedBytes: 2_000, maxBufferedTimeMs: 60_000 },
    });
    const batch = (n: number) => Array.from({ length: n }, (_, i) => ({ pad: 'x'.repeat(80), i }));
    const first = await ingest(server.url, stream, batch(15), { query: 'partitionKey=k' });
    expect(first.status).toBe(202);
    expect(server.producer(stream)!.bufferedBytes).toBeGreaterThan(1_000);
    const second = await ingest(server.url, stream, batch(15), { query: 'partitionKey=k' });
    expect(second.status).toBe(429);
    expect(second.headers.get('retry-after')).toBe('2');
    expect(second.json.error).toMatchObject({ code: 'BUFFER_FULL' });
    await server.producer(stream)!.flush();
    const third = await ingest(server.url, stream, batch(15), { query: 'partitionKey=k' });
    expect(third.status).toBe(202);
    await server.producer(stream)!.flush();
    expect(await readAll(kinesis, stream)).toHaveLength(30);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toContain(
      `awskit_server_ingest_rejected_total{reason="buffer_full",stream="${stream}"} 15`,
    );
  });
});

describe('ingest failures', () => {
  it("answers 502 with each record's error when Kinesis takes none, and lists failures on /metrics and the dashboard", async () => {
    const missing = uniqueName('gone');
    const server = await serve({ streams: [missing], producer: { recordTtlMs: 1_500 } });
    const r = await ingest(server.url, missing, [{ a: 1 }, { a: 2 }], { query: 'wait=1' });
    expect(r.status).toBe(502);
    expect(r.json).toMatchObject({ accepted: 0, failed: 2 });
    const results = r.json.results as { error: { code: string } }[];
    expect(results.map((x) => x.error.code)).toEqual([expect.any(String), expect.any(String)]);
    expect((await ingest(server.url, missing, [{ a: 3 }])).status).toBe(202);
    const state = await eventually(async () => {
      const s = await server.state();
      return s.streams[0]!.ingest.failedTotal === 3 ? s : undefined;
    });
    expect(state.errors.recent[0]).toMatchObject({ source: 'producer' });
    expect(state.streams[0]!.error).toBeDefined();
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(
      new RegExp(`^awskit_server_ingest_failed_total\\{code="[A-Z_]+",stream="${missing}"\\} \\d$`, 'm'),
    );
  });

  it('shows handler failures on the dashboard while the consumer retries the batch', async () => {
    const stream = await createTestStream(kinesis);
    let calls = 0;
    const done: string[] = [];
    const server = await serve({
      streams: [stream],
      consume: {
        stream,
        applicationName: uniqueName('app'),
        initialPosition: 'TRIM_HORIZON',
        handler: async (records) => {
          calls++;
          if (calls === 1) throw new Error('database unavailable');
          done.push(...records.map((x) => Buffer.from(x.data).toString()));
        },
      },
    });
    expect((await ingest(server.url, stream, [{ n: 1 }])).status).toBe(202);
    await eventually(() => done.length === 1);
    const state = await server.state();
    expect(state.errors.total).toBe(1);
    expect(state.errors.recent[0]).toMatchObject({
      source: 'handler',
      message: 'database unavailable',
      shardId: 'shardId-000000000000',
    });
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toContain('kinesis_consumer_handler_errors_total{shard="shardId-000000000000"} 1');
  });
});

describe('bearer token', () => {
  it('guards ingest, the dashboard API and /metrics, but not the probes or the dashboard shell', async () => {
    const stream = await createTestStream(kinesis);
    const token = 'correct-horse-battery';
    const server = await serve({ streams: [stream], token });
    const none = await ingest(server.url, stream, [{ a: 1 }]);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect((await ingest(server.url, stream, [{ a: 1 }], { token: 'wrong-token-value' })).status).toBe(401);
    expect((await ingest(server.url, stream, [{ a: 1 }], { token })).status).toBe(202);
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${server.url}/api/state`)).status).toBe(401);
    expect((await fetch(`${server.url}/api/state?token=${token}`)).status).toBe(200);
    expect(
      (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).status,
    ).toBe(200);
    for (const path of ['/', '/app.js', '/style.css', '/healthz', '/readyz'])
      expect((await fetch(`${server.url}${path}`)).status, path).toBe(200);
  });

  it('binds 127.0.0.1 unless told otherwise', async () => {
    const stream = await createTestStream(kinesis);
    const server = await serve({ streams: [stream] });
    expect(server.host).toBe('127.0.0.1');
    expect(server.app.server.address()).toMatchObject({ address: '127.0.0.1' });
  });
});

describe('/healthz and /readyz', () => {
  it('is ready when Kinesis has the stream and DynamoDB answers', async () => {
    const stream = await createTestStream(kinesis);
    const server = await serve({ streams: [stream] });
    const r = await fetch(`${server.url}/readyz`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({
      status: 'ready',
      checks: { [`kinesis:${stream}`]: { ok: true }, dynamodb: { ok: true } },
    });
    expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ status: 'ok' });
  });

  it('is not ready when a stream is missing, and says which check failed', async () => {
    const missing = uniqueName('missing');
    const server = await serve({ streams: [missing] });
    const r = await fetch(`${server.url}/readyz`);
    expect(r.status).toBe(503);
    const body = (await r.json()) as { checks: Record<string, { ok: boolean; error?: string }> };
    expect(body.checks[`kinesis:${missing}`]).toMatchObject({ ok: false });
    expect(body.checks.dynamodb).toEqual({ ok: true });
  });

  it('is not ready when Kinesis and DynamoDB are unreachable', async () => {
    const server = await startServer({
      port: 0,
      streams: ['anything'],
      clientOptions: testClientOptions({ endpoint: 'http://127.0.0.1:9', maxAttempts: 1 }),
    });
    servers.push(server);
    const r = await fetch(`${server.url}/readyz`);
    expect(r.status).toBe(503);
    const body = (await r.json()) as { checks: Record<string, { ok: boolean }> };
    expect(body.checks['kinesis:anything']!.ok).toBe(false);
    expect(body.checks.dynamodb!.ok).toBe(false);
  });
});

describe('consumers', () => {
  it('runs two workers with the handler, splits the shards between them and exposes producer and consumer metrics', async () => {
    const stream = await createTestStream(kinesis, { shardCount: 2 });
    const seen: ConsumerRecord[] = [];
    const server = await serve({
      streams: [stream],
      partitionKeyField: 'user',
      consume: {
        stream,
        workers: 2,
        applicationName: uniqueName('app'),
        initialPosition: 'TRIM_HORIZON',
        takeIntervalMs: 300,
        handler: async (records) => {
          seen.push(...records);
        },
      },
    });
    const events = Array.from({ length: 60 }, (_, i) => ({ user: `user-${i}`, i }));
    expect((await ingest(server.url, stream, events)).status).toBe(202);
    await eventually(() => seen.length >= 60);
    expect(new Set(seen.map((r) => JSON.parse(Buffer.from(r.data).toString()).i)).size).toBe(60);

    const state = await eventually(async () => {
      const s = await server.state();
      const owners = new Set(s.streams[0]!.shards.map((x) => x.owner));
      return owners.size === 2 && !owners.has(undefined) ? s : undefined;
    });
    expect(state.workers.map((w) => w.shardIds.length)).toEqual([1, 1]);
    expect(state.streams[0]!.ingest.recordsTotal).toBe(60);

    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^kinesis_producer_user_records_put_total\{stream="[^"]+"\} 60$/m);
    expect(metrics).toMatch(
      /^kinesis_consumer_records_processed_total\{shard="shardId-000000000000"\} \d+$/m,
    );
    expect(metrics).toMatch(/^kinesis_consumer_leases_held\{worker="[^"]+-w1"\} 1$/m);
    expect(metrics).toContain(`awskit_server_ingest_records_total{stream="${stream}"} 60`);
    const ready = await (await fetch(`${server.url}/readyz`)).json();
    expect(ready).toMatchObject({
      status: 'ready',
      checks: { consumers: { ok: true }, dynamodb: { ok: true } },
    });
  });

  it('answers ingest with 503 and Retry-After while shutting down, after letting the handler finish', async () => {
    const stream = await createTestStream(kinesis);
    let entered!: () => void;
    const inHandler = new Promise<void>((r) => {
      entered = r;
    });
    let release!: () => void;
    const released = new Promise<void>((r) => {
      release = r;
    });
    let finished = 0;
    const server = await serve({
      streams: [stream],
      consume: {
        stream,
        applicationName: uniqueName('app'),
        initialPosition: 'TRIM_HORIZON',
        handler: async (records) => {
          entered();
          await released;
          finished += records.length;
        },
      },
    });
    expect((await ingest(server.url, stream, [{ a: 1 }])).status).toBe(202);
    await inHandler;
    const closing = server.close();
    const during = await ingest(server.url, stream, [{ a: 2 }]);
    expect(during.status).toBe(503);
    expect(during.headers.get('retry-after')).toBe('1');
    expect(during.json.error).toMatchObject({ code: 'SHUTTING_DOWN' });
    release();
    await closing;
    expect(finished).toBe(1);
  });
});

describe('dashboard state', () => {
  it('streams the state over SSE at once and then on every tick', async () => {
    const stream = await createTestStream(kinesis, { shardCount: 2 });
    const server = await serve({ streams: [stream], dashboardIntervalMs: 200 });
    const ac = new AbortController();
    const r = await fetch(`${server.url}/api/events`, { signal: ac.signal });
    expect(r.headers.get('content-type')).toContain('text/event-stream');
    const reader = r.body!.getReader();
    let text = '';
    const events = () => text.split('\n\n').filter((e) => e.startsWith('event: state'));
    while (events().length < 3) text += new TextDecoder().decode((await reader.read()).value);
    ac.abort();
    const first = JSON.parse(events()[0]!.split('\ndata: ')[1]!);
    expect(first.streams[0]).toMatchObject({ name: stream, consumed: false });
    expect(first.streams[0].shards.map((x: { shardId: string }) => x.shardId)).toEqual([
      'shardId-000000000000',
      'shardId-000000000001',
    ]);
    await eventually(async () => {
      const m = await (await fetch(`${server.url}/metrics`)).text();
      return m.includes('awskit_server_sse_clients 0');
    });
  });

  it('shows a split: the parent closed, two children naming it, and the children owned once the parent is read', async () => {
    const { SplitShardCommand, waitUntilStreamExists } = await import('@aws-sdk/client-kinesis');
    const stream = await createTestStream(kinesis);
    const server = await serve({
      streams: [stream],
      consume: {
        stream,
        workers: 2,
        applicationName: uniqueName('app'),
        initialPosition: 'TRIM_HORIZON',
        takeIntervalMs: 300,
        shardSyncIntervalMs: 500,
        handler: async () => {},
      },
    });
    expect((await ingest(server.url, stream, [{ a: 1 }, { a: 2 }])).status).toBe(202);
    await kinesis.send(
      new SplitShardCommand({
        StreamName: stream,
        ShardToSplit: 'shardId-000000000000',
        NewStartingHashKey: (2n ** 127n).toString(),
      }),
    );
    await waitUntilStreamExists({ client: kinesis, maxWaitTime: 30, minDelay: 0.1 }, { StreamName: stream });
    const state = await eventually(async () => {
      const s = await server.state();
      const shards = s.streams[0]!.shards;
      const children = shards.filter((x) => x.parentShardId === 'shardId-000000000000');
      return shards.length === 3 && children.length === 2 && children.every((c) => c.owner) ? s : undefined;
    });
    const parent = state.streams[0]!.shards.find((x) => x.shardId === 'shardId-000000000000')!;
    expect(parent.open).toBe(false);
    expect(parent.leaseStatus).toBe('ended');
    expect(parent.checkpoint).toBe('SHARD_END');
    expect(state.streams[0]!.shards.filter((x) => x.open)).toHaveLength(2);
  });
});
