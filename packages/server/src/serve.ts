import type { ClientOptions, Logger } from '@awskit/core';
import { ConsumerOptionsError, type InitialPosition, parseInitialPosition } from '@awskit/kinesis-consumer';
import { startDemo } from './demo.js';
import { type Problem, ServerOptionsError } from './errors.js';
import { loadHandler } from './handler.js';
import { SERVER_DEFAULTS, serverEnv } from './options.js';
import { startServer } from './server.js';
import type { ServerOptions } from './types.js';

/** Flags of `awskit serve` / `awskit-server`, as strings from the command line (flag > env > default). */
export interface ServeFlags {
  host?: string;
  port?: string;
  stream?: string[];
  token?: string;
  /** Allow a non-loopback host without a token. */
  insecure?: boolean;
  handler?: string;
  consume?: string;
  workers?: string;
  applicationName?: string;
  initialPosition?: string;
  partitionKeyField?: string;
  bodyLimit?: string;
  demo?: boolean;
  load?: boolean;
  loadRate?: string;
  awsPort?: string;
  profile?: string;
  region?: string;
  endpointUrl?: string;
  local?: boolean;
}

/** What {@link serveFromFlags} started. */
export interface Serving {
  /** Dashboard URL. */
  url: string;
  /** Extra lines worth printing (streams, workers, endpoint). */
  details: string[];
  stop(): Promise<void>;
}

/**
 * Starts the server (or, with `demo`, the whole demo) from command-line flags and `AWSKIT_SERVER_*` variables;
 * `env` (default `process.env`) is also the environment AWS clients resolve profiles, regions and endpoints from.
 * Shared by `awskit serve` and the `awskit-server` bin so both behave the same.
 * @throws {ServerOptionsError} listing every bad flag.
 */
export async function serveFromFlags(
  flags: ServeFlags,
  { env = process.env, logger }: { env?: NodeJS.ProcessEnv; logger?: Logger } = {},
): Promise<Serving> {
  const e = serverEnv(env);
  const problems: Problem[] = [];
  const int = (name: string, v: string | number | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0)
      problems.push({ path: `--${name}`, message: `must be a whole number, got "${v}"` });
    return n;
  };
  const port = int('port', flags.port ?? e.port);
  const workers = int('workers', flags.workers ?? e.workers);
  const bodyLimit = int('body-limit', flags.bodyLimit ?? e.bodyLimitBytes);
  const host = flags.host ?? e.host;
  const token = flags.token ?? e.token;

  if (flags.demo) {
    const awsPort = int('aws-port', flags.awsPort);
    const loadRate = int('load-rate', flags.loadRate);
    if (problems.length) throw new ServerOptionsError(problems);
    const demo = await startDemo({
      ...(host ? { host } : {}),
      ...(port !== undefined ? { port } : {}),
      ...(awsPort !== undefined ? { awsPort } : {}),
      ...(flags.endpointUrl ? { endpoint: flags.endpointUrl } : {}),
      ...(workers !== undefined ? { workers } : {}),
      ...(loadRate !== undefined ? { loadPerSecond: loadRate } : {}),
      load: flags.load ?? true,
      ...(token ? { token } : {}),
      ...(flags.insecure ? { insecure: true } : {}),
      ...(logger ? { logger } : {}),
    });
    return {
      url: demo.url,
      details: [
        `local AWS: ${demo.endpoint} (ap-northeast-2)`,
        `stream: my-event-dev, ${workers ?? 2} consumer workers, demo load ${flags.load === false ? 'off' : 'on'}`,
        `ingest: curl -X POST ${demo.server.url}/v1/streams/my-event-dev/records -H 'content-type: application/json' -d '[{"userId":"u1","type":"click"}]'`,
      ],
      stop: () => demo.stop(),
    };
  }

  const streams = flags.stream?.length ? flags.stream : (e.streams ?? []);
  const handlerPath = flags.handler ?? e.handler;
  const consumeStream = flags.consume ?? (handlerPath ? streams[0] : undefined);
  if (handlerPath && !consumeStream)
    problems.push({ path: '--consume', message: 'name the stream the handler reads (or give one --stream)' });
  if (consumeStream && !handlerPath)
    problems.push({ path: '--handler', message: 'a handler module is needed to consume a stream' });
  if (!streams.length && !consumeStream)
    problems.push({
      path: '--stream',
      message: 'give at least one stream to ingest into (or --consume with --handler)',
    });
  let initialPosition: InitialPosition | undefined;
  if (flags.initialPosition) {
    try {
      initialPosition = parseInitialPosition(flags.initialPosition, '--initial-position');
    } catch (e) {
      if (!(e instanceof ConsumerOptionsError)) throw e;
      problems.push(...e.problems);
    }
  }
  if (problems.length) throw new ServerOptionsError(problems);

  const clientOptions: ClientOptions = {
    // The same environment decides AWS resolution (AWS_PROFILE, AWS_CONFIG_FILE, AWS_REGION...).
    ...(env !== process.env ? { env } : {}),
    ...(flags.profile ? { profile: flags.profile } : {}),
    ...(flags.region ? { region: flags.region } : {}),
    ...(flags.endpointUrl ? { endpoint: flags.endpointUrl } : {}),
    ...(flags.local ? { local: true } : {}),
  };
  const options: ServerOptions = {
    host: host ?? SERVER_DEFAULTS.host,
    port: port ?? SERVER_DEFAULTS.port,
    clientOptions,
    streams,
    ...(token ? { token } : {}),
    ...(flags.insecure ? { insecure: true } : {}),
    ...(bodyLimit !== undefined ? { bodyLimitBytes: bodyLimit } : {}),
    ...((flags.partitionKeyField ?? e.partitionKeyField)
      ? { partitionKeyField: flags.partitionKeyField ?? e.partitionKeyField }
      : {}),
    ...(logger ? { logger } : {}),
  };
  if (handlerPath && consumeStream) {
    const mod = await loadHandler(handlerPath);
    options.consume = {
      stream: consumeStream,
      handler: mod.handler,
      ...(mod.onError ? { onError: mod.onError } : {}),
      ...(workers !== undefined ? { workers } : {}),
      ...(flags.applicationName ? { applicationName: flags.applicationName } : {}),
      ...(initialPosition ? { initialPosition } : {}),
    };
  }
  const server = await startServer(options);
  return {
    url: `${server.url}/`,
    details: [
      `ingest: ${streams.map((s) => `${server.url}/v1/streams/${s}/records`).join(', ') || '(none)'}`,
      ...(options.consume
        ? [
            `consuming ${options.consume.stream} with ${options.consume.workers ?? 1} worker(s) (${handlerPath})`,
          ]
        : []),
    ],
    stop: () => server.close(),
  };
}
