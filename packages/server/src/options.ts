import { isLoopbackHostname } from '@awskit/local';
import { SERVER_DEFAULTS } from './defaults.js';
import { type Problem, ServerOptionsError } from './errors.js';
import type { ServerOptions } from './types.js';

const STREAM_NAME = /^[a-zA-Z0-9_.-]{1,128}$/;

/**
 * Checks server options and reports every problem at once.
 * @throws {ServerOptionsError}
 */
export function validateServerOptions(o: ServerOptions): void {
  const problems: Problem[] = [];
  const bad = (path: string, message: string) => problems.push({ path, message });
  if (!Array.isArray(o.streams)) bad('streams', 'a list of stream names is required');
  else
    o.streams.forEach((s, i) => {
      if (typeof s !== 'string' || !STREAM_NAME.test(s))
        bad(`streams[${i}]`, 'not a valid Kinesis stream name');
    });
  const int = (path: string, v: unknown, min: number, max: number) => {
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max))
      bad(path, `must be an integer in [${min}, ${max}]`);
  };
  int('port', o.port, 0, 65_535);
  int('bodyLimitBytes', o.bodyLimitBytes, 1, 1024 * 1024 * 1024);
  int('maxRecordsPerRequest', o.maxRecordsPerRequest, 1, 1_000_000);
  int('retryAfterSeconds', o.retryAfterSeconds, 0, 3_600);
  int('dashboardIntervalMs', o.dashboardIntervalMs, 100, 60_000);
  int('requestTimeoutMs', o.requestTimeoutMs, 100, 3_600_000);
  int('maxSseClients', o.maxSseClients, 1, 100_000);
  int('sseMaxBufferedBytes', o.sseMaxBufferedBytes, 1, 1024 * 1024 * 1024);
  int('readyCacheMs', o.readyCacheMs, 0, 3_600_000);
  if (o.host !== undefined && (typeof o.host !== 'string' || !o.host))
    bad('host', 'must be a host name or address');
  else if (o.host !== undefined && !isLoopbackHostname(o.host) && !o.token && o.insecure !== true)
    bad(
      'host',
      `"${o.host}" exposes ingest and the dashboard to the network without a token: set a token (--token / AWSKIT_SERVER_TOKEN), or pass --insecure (insecure: true) if you really mean it`,
    );
  if (o.token !== undefined && (typeof o.token !== 'string' || o.token.length < 8))
    bad('token', 'must be at least 8 characters');
  if (o.partitionKeyField !== undefined && (typeof o.partitionKeyField !== 'string' || !o.partitionKeyField))
    bad('partitionKeyField', 'must be a field name or dot path');
  if (o.consume) {
    const c = o.consume;
    if (typeof c.stream !== 'string' || !STREAM_NAME.test(c.stream))
      bad('consume.stream', 'not a valid Kinesis stream name');
    if (typeof c.handler !== 'function')
      bad('consume.handler', 'must be a function (records, ctx) => Promise<void>');
    int('consume.workers', c.workers, 1, 64);
  }
  if (problems.length) throw new ServerOptionsError(problems);
}

/** Reads `AWSKIT_SERVER_*` variables (used when a flag is not given; flag > env > default). */
export function serverEnv(env: NodeJS.ProcessEnv = process.env): {
  host?: string;
  port?: number;
  token?: string;
  streams?: string[];
  bodyLimitBytes?: number;
  partitionKeyField?: string;
  handler?: string;
  workers?: number;
} {
  const num = (v: string | undefined) => (v === undefined || v === '' ? undefined : Number(v));
  const out: ReturnType<typeof serverEnv> = {};
  if (env.AWSKIT_SERVER_HOST) out.host = env.AWSKIT_SERVER_HOST;
  const port = num(env.AWSKIT_SERVER_PORT);
  if (port !== undefined) out.port = port;
  if (env.AWSKIT_SERVER_TOKEN) out.token = env.AWSKIT_SERVER_TOKEN;
  if (env.AWSKIT_SERVER_STREAMS)
    out.streams = env.AWSKIT_SERVER_STREAMS.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const limit = num(env.AWSKIT_SERVER_BODY_LIMIT_BYTES);
  if (limit !== undefined) out.bodyLimitBytes = limit;
  if (env.AWSKIT_SERVER_PARTITION_KEY_FIELD) out.partitionKeyField = env.AWSKIT_SERVER_PARTITION_KEY_FIELD;
  if (env.AWSKIT_SERVER_HANDLER) out.handler = env.AWSKIT_SERVER_HANDLER;
  const workers = num(env.AWSKIT_SERVER_WORKERS);
  if (workers !== undefined) out.workers = workers;
  return out;
}

export { SERVER_DEFAULTS };
