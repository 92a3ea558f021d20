import { mkdtempSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { connect, createServer as createNetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateStreamCommand, KinesisClient, waitUntilStreamExists } from '@aws-sdk/client-kinesis';
import { createClient } from '@awskit/core';
import { createTestStream, localAwsEndpoint, testClientOptions, uniqueName } from '@awskit/local/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwskitServer, ServerOptionsError, serveFromFlags, startServer } from '../src/index.js';
import { eventually, ingest } from './helpers.js';

let kinesis: KinesisClient;
let stream: string;
const servers: AwskitServer[] = [];
const sockets: Socket[] = [];

async function serve(opts: Partial<Parameters<typeof startServer>[0]> = {}) {
  const s = await startServer({ port: 0, clientOptions: testClientOptions(), streams: [stream], ...opts });
  servers.push(s);
  return s;
}

/** A raw HTTP/1.1 exchange on a fresh socket; resolves with everything the server wrote until it closed. */
function rawSocket(url: string): { socket: Socket; received: Promise<string> } {
  const u = new URL(url);
  const socket = connect(Number(u.port), u.hostname);
  sockets.push(socket);
  let data = '';
  socket.on('data', (d: Buffer) => {
    data += d.toString('latin1');
  });
  const received = new Promise<string>((resolve) => {
    socket.on('close', () => resolve(data));
    socket.on('error', () => {});
  });
  return { socket, received };
}

/** A request with exactly these headers (fetch would not let us set Host). */
function send(
  url: string,
  opts: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: u.hostname,
        port: u.port,
        method: opts.method ?? 'GET',
        path: opts.path,
        headers: opts.headers,
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => {
          body += c.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

beforeAll(async () => {
  kinesis = await createClient(KinesisClient, testClientOptions());
  stream = await createTestStream(kinesis);
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await Promise.allSettled(servers.map((s) => s.close()));
  kinesis?.destroy();
});

describe('DNS rebinding and cross-site requests (issue 14 item 7)', () => {
  it('refuses a non-loopback Host and cross-site browser posts, and accepts its own origin', async () => {
    const server = await serve();
    const port = new URL(server.url).port;
    const path = `/v1/streams/${stream}/records`;
    const json = { 'content-type': 'application/json' };
    const rebound = await send(server.url, {
      method: 'POST',
      path,
      headers: { ...json, host: `attacker.example:${port}` },
      body: '[{"a":1}]',
    });
    expect(rebound.status).toBe(403);
    expect(rebound.body).toContain('HOST_NOT_ALLOWED');
    const crossSite = await send(server.url, {
      method: 'POST',
      path,
      headers: { 'content-type': 'text/plain', origin: 'https://evil.example' },
      body: '[{"a":1}]',
    });
    expect(crossSite.status).toBe(403);
    expect(crossSite.body).toContain('CROSS_ORIGIN_REQUEST');
    const dashboard = await send(server.url, {
      method: 'POST',
      path,
      headers: { ...json, host: `localhost:${port}`, origin: `http://localhost:${port}` },
      body: '[{"a":1}]',
    });
    expect(dashboard.status).toBe(202);
  });
});

describe('request and connection limits (issue 14 item 9)', () => {
  it('answers 408 and closes the socket when a request body is not complete in time', async () => {
    const server = await serve({ requestTimeoutMs: 1_000 });
    const { socket, received } = rawSocket(server.url);
    socket.write(
      `POST /v1/streams/${stream}/records HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n[{"a":`,
    );
    const answer = await received;
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('closes without waiting for a client that trickles its body', async () => {
    const server = await startServer({
      port: 0,
      clientOptions: testClientOptions(),
      streams: [stream],
      requestTimeoutMs: 600_000,
    });
    const { socket, received } = rawSocket(server.url);
    socket.write(
      `POST /v1/streams/${stream}/records HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n[`,
    );
    await eventually(async () => (await fetch(`${server.url}/healthz`)).ok);
    await server.close();
    await received; // the server dropped the slow connection instead of waiting for it
  });

  it('caps SSE clients with 503', async () => {
    const server = await serve({ maxSseClients: 2 });
    const opened: AbortController[] = [];
    const open = async () => {
      const ac = new AbortController();
      opened.push(ac);
      return fetch(`${server.url}/api/events`, { signal: ac.signal });
    };
    try {
      expect((await open()).status).toBe(200);
      expect((await open()).status).toBe(200);
      const third = await open();
      expect(third.status).toBe(503);
      expect(third.headers.get('retry-after')).toBeTruthy();
    } finally {
      for (const ac of opened) ac.abort();
    }
  });

  it('drops an SSE client that does not read', async () => {
    // Loopback TCP buffers take megabytes before a write backs up; a Unix socket (a few hundred KiB) shows the
    // same backpressure in seconds. Its connections are handed to the server's own HTTP server.
    const wide = await createTestStream(kinesis, { shardCount: 20 });
    const server = await serve({ streams: [wide], dashboardIntervalMs: 100, sseMaxBufferedBytes: 64 * 1024 });
    const path = join(mkdtempSync(join(tmpdir(), 'awskit-sse-')), 'sse.sock');
    const relay = createNetServer((sock) => server.app.server.emit('connection', sock));
    await new Promise<void>((r) => relay.listen(path, () => r()));
    const client = connect(path);
    sockets.push(client);
    const closed = new Promise<void>((r) => client.on('close', () => r()));
    client.on('error', () => {});
    client.write('GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    client.pause(); // never reads again
    try {
      await eventually(async () => /^awskit_server_sse_clients 1$/m.test(await metrics(server)));
      await eventually(
        async () => /^awskit_server_sse_dropped_total\{reason="slow"\} 1$/m.test(await metrics(server)),
        45_000,
      );
      expect(await metrics(server)).toMatch(/^awskit_server_sse_clients 0$/m);
      client.resume();
      await closed;
    } finally {
      relay.close();
    }
  });
});

const metrics = async (server: AwskitServer) => (await fetch(`${server.url}/metrics`)).text();

describe('/readyz (issue 14 item 10)', () => {
  /** A pass-through proxy to the local AWS that counts DescribeStreamSummary calls. */
  async function countingProxy(): Promise<{ url: string; count: () => number; server: Server }> {
    const target = new URL(localAwsEndpoint());
    let n = 0;
    const proxy = createServer((req, res) => {
      if (String(req.headers['x-amz-target'] ?? '').endsWith('.DescribeStreamSummary')) n++;
      const up = httpRequest(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    const { port } = proxy.address() as { port: number };
    return { url: `http://127.0.0.1:${port}`, count: () => n, server: proxy };
  }

  it('collapses concurrent checks and caches the result', async () => {
    const proxy = await countingProxy();
    try {
      const server = await startServer({
        port: 0,
        streams: [stream],
        clientOptions: testClientOptions({ endpoint: proxy.url }),
        readyCacheMs: 60_000,
      });
      servers.push(server);
      const answers = await Promise.all(Array.from({ length: 10 }, () => fetch(`${server.url}/readyz`)));
      expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
      for (let i = 0; i < 5; i++) expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      expect(proxy.count()).toBe(1);
    } finally {
      proxy.server.closeAllConnections();
      proxy.server.close();
    }
  });

  it('never shows AWS error text (account ids, ARNs); with a token, only ok/failed without it', async () => {
    const missing = uniqueName('missing');
    const token = 'readyz-token-value';
    const server = await serve({ streams: [missing], token });
    const anonymous = await fetch(`${server.url}/readyz`);
    expect(anonymous.status).toBe(503);
    expect(await anonymous.json()).toEqual({ status: 'not ready' });
    const authorized = await fetch(`${server.url}/readyz`, { headers: { authorization: `Bearer ${token}` } });
    const text = await authorized.text();
    expect(authorized.status).toBe(503);
    expect(JSON.parse(text).checks[`kinesis:${missing}`]).toMatchObject({ ok: false });
    expect(text).not.toMatch(/000000000000|arn:aws|under account|not found/i);
    const open = await serve({ streams: [missing] });
    const openText = await (await fetch(`${open.url}/readyz`)).text();
    expect(openText).not.toMatch(/000000000000|arn:aws|under account|not found/i);
  });
});

describe('binding, stream names and bodies (issue 14 item 11)', () => {
  it('refuses a non-loopback host without a token unless insecure, and warns loudly then', async () => {
    const err = await startServer({ host: '0.0.0.0', port: 0, streams: [stream] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServerOptionsError);
    expect((err as ServerOptionsError).problems).toEqual([
      expect.objectContaining({ path: 'host', message: expect.stringMatching(/token/) }),
    ]);
    await expect(serveFromFlags({ host: '0.0.0.0', port: '0', stream: [stream] })).rejects.toThrow(
      /--insecure/,
    );
    const warnings: string[] = [];
    const server = await serve({
      host: '0.0.0.0',
      insecure: true,
      logger: { debug() {}, info() {}, error() {}, warn: (m: string) => warnings.push(m) },
    });
    expect(server.host).toBe('0.0.0.0');
    expect(warnings.join('\n')).toMatch(/WITHOUT A TOKEN/);
    // With a token the user chose to expose it and protected it: no refusal.
    const guarded = await serve({ host: '0.0.0.0', token: 'a-long-enough-token' });
    expect(guarded.host).toBe('0.0.0.0');
  });

  it('ingests into a stream whose name has 128 characters', async () => {
    const long = `${uniqueName('long')}-`.padEnd(128, 'x');
    expect(long).toHaveLength(128);
    await kinesis.send(new CreateStreamCommand({ StreamName: long, ShardCount: 1 }));
    await waitUntilStreamExists(
      { client: kinesis, maxWaitTime: 30, minDelay: 0.1, maxDelay: 0.5 },
      { StreamName: long },
    );
    const server = await serve({ streams: [long] });
    const r = await ingest(server.url, long, [{ a: 1 }]);
    expect(r.status).toBe(202);
  });

  it('accepts application/*+json bodies', async () => {
    const server = await serve();
    const r = await ingest(server.url, stream, [{ a: 1 }], {
      contentType: 'application/vnd.acme.event+json',
    });
    expect(r.status).toBe(202);
    expect(r.json).toEqual({ accepted: 1 });
  });

  it('answers 400, not 500, to deeply nested JSON (array body, +json and NDJSON)', async () => {
    const server = await serve();
    const deep = `${'['.repeat(50_000)}${']'.repeat(50_000)}`;
    for (const contentType of ['application/json', 'application/cloudevents+json', 'application/x-ndjson']) {
      const r = await fetch(`${server.url}/v1/streams/${stream}/records`, {
        method: 'POST',
        headers: { 'content-type': contentType },
        body: deep,
      });
      expect(r.status, contentType).toBe(400);
      expect(JSON.stringify(await r.json()), contentType).toMatch(/nest/i);
    }
  });
});
