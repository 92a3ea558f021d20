import { randomInt } from 'node:crypto';
import {
  Agent,
  type ClientRequest,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { type Logger, noopLogger } from '@awskit/core';
import { LocalAwsError, LocalAwsErrorCode } from './errors';
import {
  parsePutRecords,
  pickFailed,
  sendFaultError,
  serverErrorCode,
  splicePutRecordsResult,
  throttleCode,
} from './faultResponses';
import {
  deriveSeed,
  FAULT_KINDS,
  type FaultKind,
  type FaultRule,
  mulberry32,
  validateFaultRules,
} from './faultRules';
import { createRequestGuard } from './requestGuard';
import { requestOperation, routeRequest } from './router';

export type { FaultKind, FaultRule } from './faultRules';

/** Options of {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /** The endpoint to forward to, e.g. a local AWS's `endpoint` (`http://127.0.0.1:4566`). */
  target: string;
  /** Fault rules; replace them later with `setRules`. @default [] (a transparent proxy) */
  rules?: FaultRule[];
  /** Seed of every random decision (32-bit unsigned integer). @default a random one, see `FaultProxy.seed` */
  seed?: number;
  /** Port to listen on; 0 picks a free one. @default 0 */
  port?: number;
  /** Interface to bind. @default '127.0.0.1' */
  host?: string;
  logger?: Logger;
}

/** A running fault-injecting proxy. */
export interface FaultProxy {
  /** `http://127.0.0.1:<port>`: point clients here instead of the target. */
  readonly endpoint: string;
  readonly port: number;
  /** The seed in use (the random one when none was given): print it so a run can be replayed. */
  readonly seed: number;
  /**
   * Replaces the rules; their call counters, random sequences and time windows start afresh (`fromMs`/`untilMs`
   * count from now).
   * @throws LocalAwsError `INVALID_FAULT_RULES`
   */
  setRules(rules: FaultRule[]): void;
  /** Faults injected so far, by kind (every kind present, 0 when none). */
  counts(): Record<FaultKind, number>;
  /** AWS calls seen so far, by `"service:Operation"` (e.g. `"kinesis:PutRecords"`). */
  calls(): Record<string, number>;
  /** Stops listening and drops every connection, hung or streaming, and every timer. Safe to call twice. */
  close(): Promise<void>;
}

interface RuleState {
  rule: FaultRule;
  operations?: Set<string>;
  /** Decides whether a matching call is hit. */
  decide: () => number;
  /** Drives the fault's own choices (which PutRecords entries fail), so they don't shift the decisions. */
  detail: () => number;
  matched: number;
  fired: number;
}

const IMPLIED_OPERATION: Partial<Record<FaultKind, string>> = {
  partialPutRecords: 'PutRecords',
  streamCut: 'SubscribeToShard',
  streamSilent: 'SubscribeToShard',
};
const IMPLIED_SERVICE: Partial<Record<FaultKind, string>> = {
  partialPutRecords: 'kinesis',
  streamCut: 'kinesis',
  streamSilent: 'kinesis',
};
const DEFAULT_STREAM_AFTER_MS = 1500;
const DEFAULT_FAIL_FRACTION = 0.5;

function compile(rules: FaultRule[], seed: number): RuleState[] {
  return rules.map((rule, i) => {
    const ops = rule.operation ?? IMPLIED_OPERATION[rule.kind];
    return {
      rule,
      ...(ops !== undefined ? { operations: new Set(Array.isArray(ops) ? ops : [ops]) } : {}),
      decide: mulberry32(deriveSeed(seed, i, 0)),
      detail: mulberry32(deriveSeed(seed, i, 1)),
      matched: 0,
      fired: 0,
    };
  });
}

function resetSocket(socket: Socket | null | undefined): void {
  if (!socket || socket.destroyed) return;
  // A TCP RST (ECONNRESET at the client) rather than a clean FIN, like a proxy or load balancer dropping the call.
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}

const isEventStream = (res: IncomingMessage) =>
  String(res.headers['content-type'] ?? '').startsWith('application/vnd.amazon.eventstream');

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function readAll(res: IncomingMessage): Promise<Buffer> {
  return readBody(res);
}

function validateOptions(options: FaultProxyOptions): { target: URL; seed: number; port: number } {
  const problems: string[] = [];
  let target: URL | undefined;
  try {
    target = new URL(options.target);
    if (target.protocol !== 'http:' && target.protocol !== 'https:')
      problems.push(`target must be an http(s) URL, got "${options.target}"`);
  } catch {
    problems.push(
      `target must be a URL such as http://127.0.0.1:4566, got ${JSON.stringify(options.target)}`,
    );
  }
  const { seed, port = 0 } = options;
  if (seed !== undefined && !(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff))
    problems.push(`seed must be an integer from 0 to 4294967295, got ${JSON.stringify(seed)}`);
  if (!(Number.isInteger(port) && port >= 0 && port <= 65535))
    problems.push(`port must be a port number (0 = any free port), got ${JSON.stringify(port)}`);
  if (problems.length || !target)
    throw new LocalAwsError(
      LocalAwsErrorCode.InvalidOptions,
      `Invalid fault proxy options: ${problems.join('; ')}`,
      {
        hint: 'Pass { target: aws.endpoint, rules: [...], seed?: 42 }.',
        details: { problems },
      },
    );
  return { target, seed: seed ?? randomInt(0, 0xffffffff), port };
}

/**
 * Starts an HTTP proxy in front of a local AWS that injects faults into the calls it forwards: latency, HTTP
 * 500/503, throttling errors, partial PutRecords failures, connection resets before or after forwarding, hung
 * calls, cut or silent SubscribeToShard streams and refused connections — chosen per service/operation by
 * probability or schedule, reproducibly from a seed, and counted by kind.
 *
 * @throws LocalAwsError `LOCAL_INVALID_OPTIONS`, `INVALID_FAULT_RULES`, `LOCAL_PORT_IN_USE`
 * @example
 * const aws = await startLocalAws({ port: 0 });
 * const proxy = await startFaultProxy({
 *   target: aws.endpoint,
 *   seed: 7,
 *   rules: [{ kind: 'throttle', service: 'kinesis', operation: 'PutRecords', probability: 0.2 }],
 * });
 * const kinesis = await createClient(KinesisClient, { endpoint: proxy.endpoint });
 * // ...
 * console.log(proxy.counts().throttle);
 * await proxy.close();
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const { target, seed, port: wantedPort } = validateOptions(options);
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger ?? noopLogger;
  let rules = compile(validateFaultRules(options.rules ?? []), seed);
  let epoch = Date.now();
  const counts = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
  const calls: Record<string, number> = {};
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const upstreams = new Set<ClientRequest>();
  let closed = false;

  const https = target.protocol === 'https:';
  const agent = https
    ? new HttpsAgent({ keepAlive: true, maxSockets: 256 })
    : new Agent({ keepAlive: true, maxSockets: 256 });
  const targetPort = Number(target.port) || (https ? 443 : 80);
  const basePath = target.pathname.replace(/\/$/, '');

  const later = (ms: number, fn: () => void): NodeJS.Timeout => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
    return t;
  };
  const delay = (ms: number) => new Promise<void>((resolve) => later(ms, resolve));

  /** Counts a fault that was applied. (`fired` is reserved at decision time, so maxTimes holds under concurrency.) */
  const inject = (kind: FaultKind, where: string) => {
    counts[kind]++;
    logger.debug(`fault proxy: injected ${kind} into ${where}`, { kind, call: where });
  };

  const active = (s: RuleState, now: number) =>
    (s.rule.fromMs === undefined || now >= s.rule.fromMs) &&
    (s.rule.untilMs === undefined || now < s.rule.untilMs);

  /** Evaluates every rule against one call; returns the total added latency and the one other fault to apply. */
  const decide = (service: string, operation: string, where: string) => {
    const now = Date.now() - epoch;
    let latencyMs = 0;
    let fault: RuleState | undefined;
    for (const s of rules) {
      const { rule } = s;
      const svc = rule.service ?? IMPLIED_SERVICE[rule.kind];
      if (svc !== undefined && svc !== service) continue;
      if (s.operations && !s.operations.has(operation)) continue;
      if (!active(s, now)) continue;
      const index = s.matched++;
      // Draw on every matching call, hit or not, so a decision depends only on the seed and the call's position.
      const draw = s.decide();
      if (index < (rule.afterCalls ?? 0)) continue;
      if (rule.maxTimes !== undefined && s.fired >= rule.maxTimes) continue;
      if (draw >= (rule.probability ?? 1)) continue;
      if (rule.kind === 'latency') {
        s.fired++;
        latencyMs += rule.latencyMs ?? 0;
        inject('latency', where);
      } else if (!fault) {
        s.fired++;
        fault = s;
      }
    }
    return { latencyMs, fault };
  };

  /** Sends the call upstream; `onResponse` gets the upstream response (or 502 is answered when it fails). */
  const sendUpstream = (
    req: IncomingMessage,
    res: ServerResponse,
    service: string,
    body: Buffer | undefined,
    onResponse: (up: IncomingMessage) => void,
    headers: OutgoingHttpHeaders = req.headers,
    answerErrors = true,
  ): ClientRequest => {
    const send = https ? httpsRequest : httpRequest;
    const upstream = send(
      {
        host: target.hostname,
        port: targetPort,
        method: req.method,
        path: basePath + (req.url ?? '/'),
        headers,
        agent,
      },
      onResponse,
    );
    upstreams.add(upstream);
    upstream.on('close', () => upstreams.delete(upstream));
    upstream.on('error', (err) => {
      if (closed) return;
      logger.debug(`fault proxy: upstream error: ${err.message}`);
      if (!answerErrors) return;
      if (!res.headersSent && !res.destroyed)
        sendFaultError(
          res,
          req.headers,
          service,
          502,
          'ServiceUnavailable',
          `awskit fault proxy: the target did not answer (${err.message})`,
        );
      else res.destroy();
    });
    if (body) upstream.end(body);
    else req.pipe(upstream);
    return upstream;
  };

  /** Forwards a call and streams the answer back unbuffered (event streams included). */
  const pass = (
    req: IncomingMessage,
    res: ServerResponse,
    service: string,
    body: Buffer | undefined,
    onStream?: (up: IncomingMessage) => void,
  ) => {
    const upstream = sendUpstream(req, res, service, body, (up) => {
      res.writeHead(up.statusCode ?? 502, up.statusMessage, up.headers);
      res.flushHeaders();
      up.pipe(res);
      up.on('error', () => res.destroy());
      onStream?.(up);
    });
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
  };

  /** Forwards a call, waits for the whole answer, then resets the client's connection: the write happened. */
  const forwardThenDrop = (
    req: IncomingMessage,
    res: ServerResponse,
    service: string,
    body: Buffer | undefined,
    drop: () => void,
    answerErrors = true,
  ) => {
    sendUpstream(
      req,
      res,
      service,
      body,
      (up) => {
        // An event stream (SubscribeToShard) runs for minutes: the call has happened once it started.
        if (isEventStream(up)) {
          up.destroy();
          drop();
          return;
        }
        up.resume();
        up.on('end', drop);
        up.on('error', drop);
      },
      req.headers,
      answerErrors,
    );
  };

  const partialPutRecords = async (
    req: IncomingMessage,
    res: ServerResponse,
    state: RuleState,
    bodyIn: Buffer | undefined,
    where: string,
  ) => {
    const body = bodyIn ?? (await readBody(req));
    const parsed = parsePutRecords(body);
    if (!parsed || parsed.Records.length === 0) {
      state.fired--;
      return pass(req, res, 'kinesis', body);
    }
    const total = parsed.Records.length;
    const failed = pickFailed(total, state.rule.failFraction ?? DEFAULT_FAIL_FRACTION, state.detail);
    const errorCode = state.rule.errorCode ?? 'ProvisionedThroughputExceededException';
    const streamName = parsed.StreamName ?? parsed.StreamARN?.split('/').pop() ?? 'unknown';
    inject('partialPutRecords', where);
    const answer = (result: Record<string, unknown>, headers: IncomingHttpHeaders = {}) => {
      const text = JSON.stringify(result);
      const out: OutgoingHttpHeaders = { ...headers, 'content-length': Buffer.byteLength(text) };
      delete out['transfer-encoding'];
      delete out['content-encoding'];
      out['content-type'] ??= req.headers['content-type'] ?? 'application/x-amz-json-1.1';
      res.writeHead(200, out);
      res.end(text);
    };
    if (failed.size === total)
      return answer(splicePutRecordsResult(undefined, total, failed, errorCode, streamName));
    const forwarded = Buffer.from(
      JSON.stringify({ ...parsed, Records: parsed.Records.filter((_, i) => !failed.has(i)) }),
    );
    const headers: OutgoingHttpHeaders = { ...req.headers, 'content-length': forwarded.length };
    delete headers['transfer-encoding'];
    // The result is rewritten, so it must come back uncompressed.
    delete headers['accept-encoding'];
    const upstream = sendUpstream(
      req,
      res,
      'kinesis',
      forwarded,
      (up) => {
        readAll(up).then(
          (raw) => {
            let result: Record<string, unknown> | undefined;
            if (up.statusCode === 200)
              try {
                result = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
              } catch {
                result = undefined;
              }
            if (!result || !Array.isArray(result.Records)) {
              // The shortened call failed as a whole: pass its answer on unchanged.
              res.writeHead(up.statusCode ?? 502, up.statusMessage, up.headers);
              res.end(raw);
              return;
            }
            answer(splicePutRecordsResult(result, total, failed, errorCode, streamName), up.headers);
          },
          () => res.destroy(),
        );
      },
      headers,
    );
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
  };

  const apply = async (
    req: IncomingMessage,
    res: ServerResponse,
    service: string,
    operation: string,
    body: Buffer | undefined,
    state: RuleState | undefined,
    where: string,
  ) => {
    const kind = state?.rule.kind;
    switch (kind) {
      case undefined:
        return pass(req, res, service, body);
      case 'http500':
      case 'http503': {
        inject(kind, where);
        const status = kind === 'http500' ? 500 : 503;
        const code = serverErrorCode(service, status);
        return sendFaultError(
          res,
          req.headers,
          service,
          status,
          code,
          `${code} (injected by the awskit fault proxy)`,
        );
      }
      case 'throttle': {
        inject(kind, where);
        const code = state!.rule.errorCode ?? throttleCode(service, operation);
        return sendFaultError(
          res,
          req.headers,
          service,
          400,
          code,
          'Rate exceeded (injected by the awskit fault proxy)',
        );
      }
      case 'resetBeforeForward':
      case 'unavailable':
        inject(kind, where);
        return resetSocket(req.socket);
      case 'resetAfterForward':
        inject(kind, where);
        return forwardThenDrop(req, res, service, body, () => resetSocket(req.socket));
      case 'hang': {
        inject(kind, where);
        const { latencyMs, forward } = state!.rule;
        if (forward) forwardThenDrop(req, res, service, body, () => {}, false);
        else req.resume();
        // Otherwise nothing is ever written back; close() (or the client giving up) ends it.
        if (latencyMs !== undefined) later(latencyMs, () => resetSocket(req.socket));
        return;
      }
      case 'partialPutRecords':
        return partialPutRecords(req, res, state!, body, where);
      case 'streamCut':
      case 'streamSilent':
        return pass(req, res, service, body, (up) => {
          // Only an event stream can be cut; any other answer (an error) passes and the rule stays unspent.
          if (!isEventStream(up)) {
            state!.fired--;
            return;
          }
          let done = false;
          const timer = later(state!.rule.afterMs ?? DEFAULT_STREAM_AFTER_MS, () => {
            if (res.writableFinished || res.destroyed) return;
            done = true;
            inject(kind, where);
            if (kind === 'streamCut') {
              up.destroy();
              resetSocket(req.socket);
            } else {
              // Silent: no more bytes, yet the connection stays open until the client (or close()) gives up.
              up.unpipe(res);
              up.destroy();
            }
          });
          res.on('close', () => {
            if (!done) state!.fired--;
            clearTimeout(timer);
            timers.delete(timer);
          });
        });
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    const path = url.split('?')[0]!;
    // Health, init and moto-api calls are the harness's, not the clients': never faulted, never counted.
    if (path.startsWith('/_localstack') || path.startsWith('/moto-api') || path === '/health')
      return pass(req, res, 'unknown', undefined);
    // Query-protocol calls (IAM, STS) name their operation in the form body; JSON ones in X-Amz-Target.
    const body = req.headers['x-amz-target'] ? undefined : await readBody(req);
    const text = body?.toString('utf8');
    const route = routeRequest(req.headers, url, text);
    const service = route.service ?? route.name ?? 'unknown';
    const operation = requestOperation(req.headers, url, text) ?? 'unknown';
    const where = `${service}:${operation}`;
    calls[where] = (calls[where] ?? 0) + 1;
    const { latencyMs, fault } = decide(service, operation, where);
    if (latencyMs > 0) {
      await delay(latencyMs);
      if (closed || req.socket.destroyed) return;
    }
    await apply(req, res, service, operation, body, fault, where);
  };

  /** An `unavailable` rule for every call, in its window and sure to fire, refuses new connections outright. */
  const refusesConnections = (): RuleState | undefined => {
    const now = Date.now() - epoch;
    return rules.find(
      (s) =>
        s.rule.kind === 'unavailable' &&
        s.rule.service === undefined &&
        s.rule.operation === undefined &&
        (s.rule.probability ?? 1) >= 1 &&
        active(s, now) &&
        s.matched >= (s.rule.afterCalls ?? 0) &&
        (s.rule.maxTimes === undefined || s.fired < s.rule.maxTimes),
    );
  };

  const guard = createRequestGuard({ boundHost: host });
  const server = createServer((req, res) => {
    // The same DNS-rebinding and cross-site rule as the local AWS edge.
    const rejected = guard(req.headers);
    if (rejected) {
      req.resume();
      sendFaultError(
        res,
        req.headers,
        'unknown',
        rejected.status,
        rejected.code,
        `awskit fault proxy: ${rejected.message}`,
      );
      return;
    }
    handle(req, res).catch((err: Error) => {
      logger.debug(`fault proxy: ${err.message}`);
      if (!res.headersSent && !res.destroyed)
        sendFaultError(
          res,
          req.headers,
          'unknown',
          500,
          'InternalFailure',
          `awskit fault proxy: ${err.message}`,
        );
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;
  server.on('connection', (socket: Socket) => {
    const refusing = refusesConnections();
    if (refusing) {
      refusing.fired++;
      inject('unavailable', 'connection');
      resetSocket(socket);
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_err, socket) => socket.destroy());

  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new LocalAwsError(
              LocalAwsErrorCode.PortInUse,
              `Port ${wantedPort} on ${host} is already in use`,
              {
                hint: 'Pick another port for the fault proxy, or 0 for any free one.',
                cause: err,
              },
            )
          : err,
      ),
    );
    server.listen(wantedPort, host, () => {
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : wantedPort);
    });
  });
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;

  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://${urlHost}:${port}`,
    port,
    seed,
    setRules(next) {
      rules = compile(validateFaultRules(next), seed);
      epoch = Date.now();
    },
    counts: () => ({ ...counts }),
    calls: () => ({ ...calls }),
    close() {
      closing ??= new Promise<void>((resolve) => {
        closed = true;
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
        for (const u of upstreams) u.destroy();
        agent.destroy();
      });
      return closing;
    },
  };
}
