import { type ClientOptions, isAwskitError, LOCAL_CREDENTIALS, type Logger, noopLogger } from '@awskit/core';
import { type LocalAws, startLocalAws } from '@awskit/local';
import { apply, type LocalResourcesInput } from '@awskit/localstack-hooks';
import { createDemoHandler, type DemoStats } from './demoHandler.js';
import { type AwskitServer, startServer } from './server.js';

/** The stream the demo writes to and reads from (the example declaration's). */
export const DEMO_STREAM = 'my-event-dev';
/** The demo's region (the example declaration's). */
export const DEMO_REGION = 'ap-northeast-2';

/**
 * The example declaration of `@awskit/localstack-hooks` (`examples/awskit.local.yaml`), with two shards so both
 * demo workers get one. Applying it to a local AWS that already has the stream with one shard reshards it.
 */
export function demoDeclaration(shards = 2): LocalResourcesInput {
  return {
    version: 1,
    region: DEMO_REGION,
    kinesis: {
      streams: [{ name: DEMO_STREAM, shards, retentionHours: 24, tags: { team: 'events', env: 'dev' } }],
    },
  } as LocalResourcesInput;
}

/** Options of {@link startDemo}. */
export interface DemoOptions {
  /** Server interface. @default '127.0.0.1' */
  host?: string;
  /** Server port (0 = any free port). @default 8080 */
  port?: number;
  /** Port of the local AWS to start. @default 4566 */
  awsPort?: number;
  /** Use this running local AWS (or LocalStack) instead of starting one. */
  endpoint?: string;
  /** Consumer workers. @default 2 */
  workers?: number;
  /** Shards of the demo stream. @default 2 */
  shards?: number;
  /** Send demo events to the server's own ingest endpoint. @default true */
  load?: boolean;
  /** Average events per second of the demo load (it swings ±50% so the dashboard has something to show). @default 200 */
  loadPerSecond?: number;
  /** Bearer token for the server. */
  token?: string;
  /** Allow a non-loopback `host` without a token (see `ServerOptions.insecure`). @default false */
  insecure?: boolean;
  /** @default noopLogger */
  logger?: Logger;
}

/** A running demo. */
export interface Demo {
  /** The dashboard URL. */
  readonly url: string;
  readonly server: AwskitServer;
  /** The local AWS endpoint in use. */
  readonly endpoint: string;
  /** What the demo handler has processed. */
  readonly stats: DemoStats;
  /** Events the demo load has sent. */
  loadSent(): number;
  /** Stops the load, the server (consumers release their leases) and the local AWS the demo started. */
  stop(): Promise<void>;
}

const EVENT_TYPES = ['page_view', 'page_view', 'page_view', 'click', 'click', 'signup', 'purchase'];

/**
 * The main job: starts the local AWS, applies the example declaration (`my-event-dev` in ap-northeast-2), starts
 * the server with the demo handler and two consumer workers, and optionally a demo load.
 *
 * @example
 * const demo = await startDemo();
 * console.log(`dashboard: ${demo.url}`);
 */
export async function startDemo(options: DemoOptions = {}): Promise<Demo> {
  const logger = options.logger ?? noopLogger;
  let local: LocalAws | undefined;
  let endpoint = options.endpoint;
  if (!endpoint) {
    const awsPort = options.awsPort ?? 4566;
    try {
      local = await startLocalAws({ port: awsPort, region: DEMO_REGION, logger });
      endpoint = local.endpoint;
    } catch (e) {
      // Something already serves the port: reuse it if it is a local AWS (awskit local up, LocalStack).
      if (!isAwskitError(e, 'LOCAL_PORT_IN_USE')) throw e;
      const candidate = `http://127.0.0.1:${awsPort}`;
      const health = await fetch(`${candidate}/_localstack/health`).catch(() => undefined);
      if (!health?.ok) throw e;
      logger.info('reusing the local AWS already running', { endpoint: candidate });
      endpoint = candidate;
    }
  }
  const clientOptions: ClientOptions = {
    endpoint,
    region: DEMO_REGION,
    credentials: LOCAL_CREDENTIALS,
    env: {},
  };
  let server: AwskitServer | undefined;
  try {
    await apply({ declaration: demoDeclaration(options.shards ?? 2), clientOptions, logger });
    const demo = createDemoHandler();
    server = await startServer({
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 8080,
      clientOptions,
      streams: [DEMO_STREAM],
      partitionKeyField: 'userId',
      consume: {
        stream: DEMO_STREAM,
        handler: demo.handler,
        workers: options.workers ?? 2,
        applicationName: 'awskit-demo',
        initialPosition: 'TRIM_HORIZON',
      },
      logger,
      ...(options.token ? { token: options.token } : {}),
      ...(options.insecure ? { insecure: true } : {}),
    });
    const srv = server;
    let sent = 0;
    const stopLoad = new AbortController();
    let loadLoop: Promise<void> = Promise.resolve();
    if (options.load ?? true) {
      const rate = options.loadPerSecond ?? 200;
      loadLoop = (async () => {
        const started = Date.now();
        const headers: Record<string, string> = { 'content-type': 'application/x-ndjson' };
        if (options.token) headers.authorization = `Bearer ${options.token}`;
        while (!stopLoad.signal.aborted) {
          const t = (Date.now() - started) / 1000;
          const n = Math.max(1, Math.round((rate / 5) * (1 + 0.5 * Math.sin(t / 10))));
          const lines: string[] = [];
          for (let i = 0; i < n; i++) {
            lines.push(
              JSON.stringify({
                type: EVENT_TYPES[Math.floor(Math.random() * EVENT_TYPES.length)],
                userId: `user-${Math.floor(Math.random() * 1000)}`,
                at: new Date().toISOString(),
              }),
            );
          }
          try {
            const r = await fetch(`${srv.url}/v1/streams/${DEMO_STREAM}/records`, {
              method: 'POST',
              headers,
              body: lines.join('\n'),
              signal: stopLoad.signal,
            });
            if (r.status === 202) sent += n;
            await r.arrayBuffer();
            const wait = r.status === 429 ? Number(r.headers.get('retry-after') ?? 1) * 1000 : 200;
            await new Promise((res) => setTimeout(res, wait));
          } catch {
            if (stopLoad.signal.aborted) break;
            await new Promise((res) => setTimeout(res, 1000));
          }
        }
      })();
    }
    let stopped: Promise<void> | undefined;
    return {
      url: `${srv.url}/`,
      server: srv,
      endpoint,
      stats: demo.stats,
      loadSent: () => sent,
      stop: () => {
        stopped ??= (async () => {
          stopLoad.abort();
          await loadLoop;
          await srv.close();
          await local?.stop();
        })();
        return stopped;
      },
    };
  } catch (e) {
    await server?.close();
    await local?.stop();
    throw e;
  }
}
