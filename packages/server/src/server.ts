import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { DescribeTableCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamSummaryCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import {
  AWSKIT_VERSION,
  createClient,
  type Logger,
  MetricsRegistry,
  noopLogger,
  resolveServiceConfig,
  toAwskitError,
} from '@awskit/core';
import { KinesisProducer } from '@awskit/kinesis-producer';
import { createRequestGuard, isLoopbackHostname } from '@awskit/local';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { bearerToken, tokenMatches } from './auth.js';
import { ConsumerPool, errorText } from './consumers.js';
import { DashboardStateBuilder, type IngestStream } from './dashboardState.js';
import { SERVER_DEFAULTS } from './defaults.js';
import { type Problem, ServerError } from './errors.js';
import { jsonDepthExceeds, MAX_JSON_DEPTH, parseBody, partitionKeySource, toUserRecords } from './ingest.js';
import { validateServerOptions } from './options.js';
import { RateMeter } from './rate.js';
import type { DashboardState, ServerOptions } from './types.js';

/** A running awskit server. */
export interface AwskitServer {
  /** `http://host:port` */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The registry behind `/metrics` (producers, consumers and the server write to it). */
  readonly metrics: MetricsRegistry;
  /** The fastify instance (for `inject` in tests or extra routes before traffic starts). */
  readonly app: FastifyInstance;
  /** The producer of an ingest stream. */
  producer(stream: string): KinesisProducer | undefined;
  /** What the dashboard shows right now. */
  state(): Promise<DashboardState>;
  /**
   * Graceful stop: new ingest requests get 503 + Retry-After, consumers finish their batches and release their
   * leases, producers flush, then the HTTP server closes. Safe to call twice.
   */
  close(): Promise<void>;
}

const DASHBOARD_FILES: Record<string, string> = {
  '/': 'index.html',
  '/app.js': 'app.js',
  '/style.css': 'style.css',
};
const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};
/** Routes that never need the token: the dashboard shell (it holds no data) and the probes. */
const PUBLIC_PATHS = new Set(['/', '/app.js', '/style.css', '/favicon.ico', '/healthz', '/readyz']);
const NDJSON_TYPES = [
  'application/x-ndjson',
  'application/ndjson',
  'application/jsonl',
  'application/x-jsonlines',
];
const READY_TIMEOUT_MS = 3_000;
/** Longest the dashboard page waits for a state build before it is served with the last one (or none). */
const INITIAL_STATE_WAIT_MS = 1_500;
/** Oldest last-built state a page may be served with when a fresh build is slow. */
const STALE_PAGE_STATE_MS = 60_000;

/**
 * The dashboard page with the state embedded (`<script id="initial-state" type="application/json">`, `<` escaped so
 * no stream name or error text can close the element) and app.js inline, which renders it before the first paint.
 */
export function renderDashboardPage(html: string, script: string, state: DashboardState): string {
  const json = JSON.stringify(state)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
  const inline = `<script id="initial-state" type="application/json">${json}</script>\n    <script>${script.replace(/<\/script/gi, '<\\/script')}</script>`;
  return html.replace('<script src="/app.js"></script>', () => inline);
}
/** Kinesis stream names have up to 128 characters; the router's default parameter limit is 100. */
const MAX_PARAM_LENGTH = 1_024;
const PLUS_JSON = /^application\/[a-z0-9!#$&^_.-]+\+json$/i;

/** One readiness check as shown on /readyz: never the AWS error text (it names accounts, ARNs, principals). */
interface ReadyCheck {
  ok: boolean;
  /** A short code (`STREAM_NOT_FOUND`, `ACCESS_DENIED`, `stream is CREATING`...). */
  error?: string;
}

function loadDashboard(): Map<string, { body: string; type: string }> {
  const dir = new URL('../dashboard/', import.meta.url);
  const out = new Map<string, { body: string; type: string }>();
  for (const [route, file] of Object.entries(DASHBOARD_FILES)) {
    const ext = file.split('.').pop()!;
    out.set(route, { body: readFileSync(new URL(file, dir), 'utf8'), type: CONTENT_TYPES[ext]! });
  }
  return out;
}

function sendError(
  reply: FastifyReply,
  status: number,
  code: string,
  message: string,
  extra: { hint?: string; problems?: Problem[] } = {},
) {
  return reply.code(status).send({ error: { code, message, ...extra } });
}

/**
 * Starts the awskit server: ingest into Kinesis through one `KinesisProducer` per stream, optional consumer
 * workers running a handler, `/healthz`, `/readyz`, `/metrics` and the live dashboard at `/`.
 *
 * @throws {ServerOptionsError} listing every invalid option.
 * @throws {ServerError} `SERVER_PORT_IN_USE`; consumer start errors (`StreamNotFoundError`...) as thrown by the consumer.
 * @example
 * const server = await startServer({ streams: ['orders'], clientOptions: { profile: 'prod' } });
 * console.log(`dashboard: ${server.url}/`);
 */
export async function startServer(options: ServerOptions): Promise<AwskitServer> {
  validateServerOptions(options);
  const o = { ...SERVER_DEFAULTS, ...options };
  const logger: Logger = options.logger ?? noopLogger;
  const metrics = options.metrics ?? new MetricsRegistry();
  const resolved = await resolveServiceConfig('kinesis', options.clientOptions);
  const target = {
    region: resolved.region.value,
    endpoint: resolved.endpoint.url ?? 'AWS',
    local: resolved.endpoint.local,
  };
  const kinesis = await createClient(KinesisClient, options.clientOptions);
  const dynamo = await createClient(DynamoDBClient, options.clientOptions);

  const streams = new Map<string, IngestStream>();
  for (const name of o.streams) {
    const maxBufferedBytes = options.producer?.maxBufferedBytes ?? SERVER_DEFAULTS.maxBufferedBytes;
    streams.set(name, {
      name,
      producer: new KinesisProducer({
        ...options.producer,
        maxBufferedBytes,
        streamName: name,
        client: kinesis,
        logger,
        metrics,
      }),
      maxBufferedBytes,
      meter: new RateMeter(),
      rejected: 0,
      failed: 0,
    });
  }

  const pools: ConsumerPool[] = [];
  const builder = new DashboardStateBuilder({ kinesis, streams, pools, version: AWSKIT_VERSION, target });
  if (options.consume)
    pools.push(
      new ConsumerPool(options.consume, {
        kinesisClient: kinesis,
        dynamoClient: dynamo,
        logger,
        metrics,
        onError: (e) => builder.addError(e),
      }),
    );
  let consumersStarted = false;
  let closing = false;
  // Throughput samples from the start, whether or not a dashboard is open (local counters only, no AWS call).
  builder.sample();
  const sampler = setInterval(() => builder.sample(), o.dashboardIntervalMs);
  sampler.unref();
  /** The state the page is served with: a build, or the last one if a build is slow (then the SSE catches up). */
  const initialState = async (): Promise<DashboardState | undefined> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((r) => {
      timer = setTimeout(() => r(undefined), INITIAL_STATE_WAIT_MS);
    });
    try {
      return (
        (await Promise.race([builder.build().catch(() => undefined), late])) ??
        builder.lastState(STALE_PAGE_STATE_MS)
      );
    } finally {
      clearTimeout(timer);
    }
  };

  const dashboard = loadDashboard();
  if (!isLoopbackHostname(o.host) && !options.token)
    logger.warn(
      `!!! SERVING ON ${o.host} WITHOUT A TOKEN (--insecure): anyone who can reach this interface can ingest into ${[...streams.keys()].join(', ') || 'your streams'} and read the dashboard. Set --token unless this network is yours alone. !!!`,
    );
  const app = Fastify({
    logger: false,
    bodyLimit: o.bodyLimitBytes,
    return503OnClosing: true,
    // A slow or stalled client is answered 408 and closed; Node checks open requests once a second.
    requestTimeout: o.requestTimeoutMs,
    http: {
      requestTimeout: o.requestTimeoutMs,
      headersTimeout: Math.min(60_000, o.requestTimeoutMs),
      connectionsCheckingInterval: Math.min(1_000, o.requestTimeoutMs),
    },
    // close() has already drained ingest and flushed the producers: drop whatever connection is still open.
    forceCloseConnections: true,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
  });
  app.addContentTypeParser(NDJSON_TYPES, { parseAs: 'string' }, (_req, body, done) => done(null, body));
  // JSON and application/*+json: refuse deep nesting before parsing (deep values overflow the stack later on).
  const defaultJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  const parseJson: ReturnType<typeof app.getDefaultJsonParser> = (req, body, done) => {
    if (jsonDepthExceeds(String(body), MAX_JSON_DEPTH))
      return done(
        Object.assign(new Error(`JSON is nested deeper than ${MAX_JSON_DEPTH} levels`), {
          statusCode: 400,
          code: 'JSON_TOO_DEEP',
        }),
        undefined,
      );
    defaultJson(req, body, done);
  };
  app.addContentTypeParser('application/json', { parseAs: 'string' }, parseJson);
  app.addContentTypeParser(PLUS_JSON, { parseAs: 'string' }, parseJson);
  const guard = createRequestGuard({ boundHost: o.host });

  app.setErrorHandler((err: Error & { code?: string; statusCode?: number }, _req, reply) => {
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      return sendError(
        reply,
        413,
        'BODY_TOO_LARGE',
        `Request body is over the ${o.bodyLimitBytes}-byte limit`,
        {
          hint: 'Split the events over several requests.',
        },
      );
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
      return sendError(reply, 415, 'UNSUPPORTED_MEDIA_TYPE', err.message, {
        hint: 'Send application/json (an array of events) or application/x-ndjson (one event per line).',
      });
    if (err.code === 'JSON_TOO_DEEP') return sendError(reply, 400, 'INVALID_BODY', err.message);
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500)
      return sendError(reply, err.statusCode, 'BAD_REQUEST', err.message);
    logger.error('request failed', { error: errorText(err) });
    return sendError(reply, 500, 'INTERNAL', 'Internal server error');
  });
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, 404, 'NOT_FOUND', `No route ${req.method} ${req.url}`),
  );

  const authorized = (
    req: { method: string; headers: { authorization?: string }; query: unknown },
    path: string,
  ) => {
    if (!options.token) return true;
    const q = req.query as Record<string, string | undefined> | undefined;
    const presented =
      bearerToken(req.headers.authorization) ??
      (req.method === 'GET' && path.startsWith('/api/') ? q?.token : undefined);
    return tokenMatches(options.token, presented);
  };

  app.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?')[0]!;
    // DNS rebinding (a foreign Host while bound to loopback) and cross-site browser requests, before anything else.
    const rejected = guard(req.headers);
    if (rejected) return sendError(reply, rejected.status, rejected.code, rejected.message);
    if (options.token && !PUBLIC_PATHS.has(path)) {
      if (!authorized(req, path)) {
        reply.header('www-authenticate', 'Bearer');
        return sendError(reply, 401, 'UNAUTHORIZED', 'Missing or wrong bearer token', {
          hint: 'Send `Authorization: Bearer <token>` (the token given with --token or AWSKIT_SERVER_TOKEN).',
        });
      }
    }
    if (closing && path.startsWith('/v1/')) {
      reply.header('retry-after', String(o.retryAfterSeconds));
      return sendError(reply, 503, 'SHUTTING_DOWN', 'The server is shutting down', {
        hint: 'Retry after the Retry-After delay, against another instance or after the restart.',
      });
    }
  });

  for (const [route, file] of dashboard)
    if (route !== '/')
      app.get(route, (_req, reply) =>
        reply.type(file.type).header('cache-control', 'no-cache').send(file.body),
      );
  // The page comes with the current state in it (and app.js inline), so its first paint shows streams, shards and
  // the chart instead of blanks until the first event. Only for a reader who may see the data: without a configured
  // token, or with it in `?token=` (the shell itself stays public and data-free).
  const page = dashboard.get('/')!;
  const script = dashboard.get('/app.js')!.body;
  app.get('/', async (req, reply) => {
    reply.type(page.type).header('cache-control', 'no-store');
    const q = req.query as Record<string, string | undefined> | undefined;
    if (options.token && !tokenMatches(options.token, q?.token)) return reply.send(page.body);
    const state = await initialState();
    if (!state) return reply.send(page.body);
    return reply.send(renderDashboardPage(page.body, script, state));
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  // One check at a time, reused for readyCacheMs: N probes cost one DescribeStreamSummary per stream, not N.
  let readyCache: { at: number; checks: Record<string, ReadyCheck> } | undefined;
  let readyRun: Promise<Record<string, ReadyCheck>> | undefined;
  const failure = (name: string, e: unknown, service: 'kinesis' | 'dynamodb'): ReadyCheck => {
    const err = toAwskitError(e, { service });
    // The AWS text (account ids, ARNs, principals) goes to the log, never into the public answer.
    logger.warn(`readiness check ${name} failed`, { error: err.message });
    return { ok: false, error: err.code };
  };
  const runChecks = async (): Promise<Record<string, ReadyCheck>> => {
    const checks: Record<string, ReadyCheck> = {};
    const signal = () => AbortSignal.timeout(READY_TIMEOUT_MS);
    const names = new Set([...streams.keys(), ...pools.map((p) => p.stream)]);
    await Promise.all([
      ...[...names].map(async (name) => {
        try {
          const r = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }), {
            abortSignal: signal(),
          });
          const status = r.StreamDescriptionSummary?.StreamStatus;
          checks[`kinesis:${name}`] =
            status === 'ACTIVE' || status === 'UPDATING'
              ? { ok: true }
              : { ok: false, error: `stream is ${status}` };
        } catch (e) {
          checks[`kinesis:${name}`] = failure(`kinesis:${name}`, e, 'kinesis');
        }
      }),
      (async () => {
        try {
          if (pools[0])
            await dynamo.send(new DescribeTableCommand({ TableName: pools[0].applicationName }), {
              abortSignal: signal(),
            });
          else await dynamo.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: signal() });
          checks.dynamodb = { ok: true };
        } catch (e) {
          checks.dynamodb = failure('dynamodb', e, 'dynamodb');
        }
      })(),
    ]);
    return checks;
  };
  const awsChecks = async (): Promise<Record<string, ReadyCheck>> => {
    if (readyCache && Date.now() - readyCache.at < o.readyCacheMs) return readyCache.checks;
    readyRun ??= runChecks()
      .then((checks) => {
        readyCache = { at: Date.now(), checks };
        return checks;
      })
      .finally(() => {
        readyRun = undefined;
      });
    return readyRun;
  };

  app.get('/readyz', async (req, reply) => {
    const checks: Record<string, ReadyCheck> = { ...(await awsChecks()) };
    if (pools.length)
      checks.consumers = consumersStarted ? { ok: true } : { ok: false, error: 'consumers not started' };
    if (closing) checks.server = { ok: false, error: 'shutting down' };
    const ready = Object.values(checks).every((c) => c.ok);
    const status = ready ? 'ready' : 'not ready';
    reply.header('cache-control', 'no-store').code(ready ? 200 : 503);
    // With a token, only its holders see which check failed; everyone else gets ok/failed.
    return authorized(req, '/readyz') ? reply.send({ status, checks }) : reply.send({ status });
  });

  app.get('/metrics', async (_req, reply) => {
    for (const s of streams.values()) {
      metrics.gauge('awskit_server_producer_buffered_bytes', s.producer.bufferedBytes, { stream: s.name });
    }
    metrics.gauge('awskit_server_sse_clients', sseClients.size);
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(metrics.toPrometheus());
  });

  app.get('/api/state', async () => builder.build());

  // Live dashboard: one timer builds the state once per tick and writes it to every open event stream.
  const sseClients = new Set<ServerResponse>();
  let sseTimer: NodeJS.Timeout | undefined;
  /** Writes to an event-stream client, or drops it when it is not reading (its backlog is over the limit). */
  const sseWrite = (c: ServerResponse, payload: string) => {
    if (c.destroyed || !sseClients.has(c)) return;
    if (c.writableLength > o.sseMaxBufferedBytes) {
      sseClients.delete(c);
      metrics.increment('awskit_server_sse_dropped_total', 1, { reason: 'slow' });
      logger.warn('dropped a dashboard client that does not read', { bufferedBytes: c.writableLength });
      c.destroy();
      return;
    }
    c.write(payload);
  };
  const broadcast = async () => {
    if (sseClients.size === 0) return;
    try {
      const payload = `event: state\ndata: ${JSON.stringify(await builder.build())}\n\n`;
      for (const c of sseClients) sseWrite(c, payload);
    } catch (e) {
      logger.warn('dashboard state failed', { error: errorText(e) });
    }
  };
  app.get('/api/events', (req, reply) => {
    if (sseClients.size >= o.maxSseClients) {
      reply.header('retry-after', String(o.retryAfterSeconds * 5));
      return sendError(reply, 503, 'TOO_MANY_CLIENTS', `${o.maxSseClients} dashboards are open already`, {
        hint: 'Close another dashboard tab, or poll /api/state.',
      });
    }
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    sseClients.add(res);
    req.raw.on('close', () => sseClients.delete(res));
    void builder.build().then(
      (s) => sseWrite(res, `event: state\ndata: ${JSON.stringify(s)}\n\n`),
      () => {},
    );
    if (!sseTimer) {
      sseTimer = setInterval(() => void broadcast(), o.dashboardIntervalMs);
      sseTimer.unref();
    }
  });

  app.post<{
    Params: { stream: string };
    Querystring: { partitionKey?: string; partitionKeyField?: string; wait?: string };
  }>('/v1/streams/:stream/records', async (req, reply) => {
    const s = streams.get(req.params.stream);
    if (!s)
      return sendError(
        reply,
        404,
        'STREAM_NOT_CONFIGURED',
        `Stream "${req.params.stream}" is not served here`,
        {
          hint: `This server ingests into: ${[...streams.keys()].join(', ') || '(none)'}. Add it with --stream.`,
        },
      );
    const ctype = String(req.headers['content-type'] ?? '')
      .split(';')[0]!
      .trim()
      .toLowerCase();
    const ndjson = NDJSON_TYPES.includes(ctype);
    if (!ndjson && ctype !== 'application/json' && !ctype.endsWith('+json'))
      return sendError(
        reply,
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        `Content-Type ${ctype || '(none)'} is not supported`,
        {
          hint: 'Send application/json (an array of events) or application/x-ndjson (one event per line).',
        },
      );
    const parsed = parseBody(req.body, ndjson);
    if (!parsed.ok)
      return sendError(reply, 400, 'INVALID_BODY', 'The body holds no valid events', {
        problems: parsed.problems,
      });
    const n = parsed.items.length;
    if (n === 0) return sendError(reply, 400, 'NO_RECORDS', 'The body holds no events');
    if (n > o.maxRecordsPerRequest)
      return sendError(
        reply,
        413,
        'TOO_MANY_RECORDS',
        `${n} events in one request; the limit is ${o.maxRecordsPerRequest}`,
        {
          hint: 'Split the events over several requests.',
        },
      );
    const recs = toUserRecords(parsed.items, partitionKeySource(req.query, o.partitionKeyField));
    if (!recs.ok)
      return sendError(reply, 400, 'INVALID_RECORDS', 'Some events cannot become Kinesis records', {
        problems: recs.problems,
      });
    if (recs.bytes > s.maxBufferedBytes)
      return sendError(reply, 413, 'BODY_TOO_LARGE', 'The events are larger than the whole ingest buffer', {
        hint: 'Split the events over several requests.',
      });
    const p = s.producer;
    if (p.isFull || p.bufferedBytes + recs.bytes > s.maxBufferedBytes) {
      s.rejected += n;
      metrics.increment('awskit_server_ingest_rejected_total', n, { stream: s.name, reason: 'buffer_full' });
      reply.header('retry-after', String(o.retryAfterSeconds));
      return sendError(reply, 429, 'BUFFER_FULL', 'The ingest buffer is full; Kinesis is not keeping up', {
        hint: 'Retry after the Retry-After delay; add shards if this persists.',
      });
    }
    const puts = recs.records.map((r) => p.put(r));
    s.meter.add(n);
    metrics.increment('awskit_server_ingest_records_total', n, { stream: s.name });
    const onFail = (e: unknown) => {
      s.failed++;
      metrics.increment('awskit_server_ingest_failed_total', 1, {
        stream: s.name,
        code: (e as { code?: string }).code ?? 'UNKNOWN',
      });
      builder.addError({ source: 'producer', message: errorText(e) });
    };
    const wait = req.query.wait === '1' || req.query.wait === 'true';
    if (!wait) {
      for (const put of puts) put.then(undefined, onFail);
      return reply.code(202).send({ accepted: n });
    }
    const settled = await Promise.allSettled(puts);
    let failed = 0;
    const results = settled.map((r) => {
      if (r.status === 'fulfilled')
        return { shardId: r.value.shardId, sequenceNumber: r.value.sequenceNumber };
      failed++;
      onFail(r.reason);
      const e = r.reason as { code?: string; message?: string };
      return { error: { code: e.code ?? 'UNKNOWN', message: e.message ?? String(r.reason) } };
    });
    // 207: some records are in Kinesis and some not (each result says which); 502: Kinesis took none of them.
    return reply
      .code(failed === 0 ? 200 : failed === n ? 502 : 207)
      .send({ accepted: n - failed, failed, results });
  });

  let address: { host: string; port: number };
  try {
    await app.listen({ host: o.host, port: o.port });
    const a = app.server.address();
    address = { host: o.host, port: typeof a === 'object' && a ? a.port : o.port };
  } catch (e) {
    await Promise.allSettled([...streams.values()].map((s) => s.producer.close()));
    kinesis.destroy();
    dynamo.destroy();
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw new ServerError('SERVER_PORT_IN_USE', `Port ${o.port} on ${o.host} is already in use`, {
        hint: `Stop what runs there or pick another port (--port ${o.port + 1}, or 0 for any free port).`,
        cause: e,
      });
    throw e;
  }

  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      closing = true;
      clearInterval(sampler);
      if (sseTimer) clearInterval(sseTimer);
      await Promise.allSettled(pools.map((p) => p.stop()));
      await Promise.allSettled([...streams.values()].map((s) => s.producer.close()));
      for (const c of sseClients) c.end();
      sseClients.clear();
      await app.close();
      kinesis.destroy();
      dynamo.destroy();
      logger.info('server stopped');
    })();
    return closed;
  };

  try {
    for (const pool of pools) await pool.start();
    consumersStarted = true;
  } catch (e) {
    await close();
    throw e;
  }
  const hostForUrl = address.host.includes(':') ? `[${address.host}]` : address.host;
  const url = `http://${hostForUrl === '0.0.0.0' ? '127.0.0.1' : hostForUrl}:${address.port}`;
  logger.info('server listening', { url, streams: [...streams.keys()] });
  return {
    url,
    host: address.host,
    port: address.port,
    metrics,
    app,
    producer: (stream) => streams.get(stream)?.producer,
    state: () => builder.build(),
    close,
  };
}
