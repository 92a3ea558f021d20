import { mkdir } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { AWSKIT_VERSION, type Logger, noopLogger } from '@awskit/core';
import { type EdgeState, handleAwsRequest, proxy, type ServiceStatus, sendAwsError } from './edge';
import { type Backend, startDynamoEmulator, startKinesisEmulator, startMotoServer } from './emulators';
import { LocalAwsError, LocalAwsErrorCode } from './errors';
import {
  DEFAULT_INIT_TIMEOUT_MS,
  InitHookRunner,
  type InitReport,
  type InitScript,
  InitStage,
} from './initHooks';
import { createRequestGuard } from './requestGuard';
import type { EdgeService } from './router';

/** Options of {@link startLocalAws}. */
export interface LocalAwsOptions {
  /** Edge port; 0 picks a free one. @default 4566 */
  port?: number;
  /**
   * Interface to bind. On loopback (the default) requests must name a loopback host (`localhost`, `127.0.0.1`,
   * `[::1]`, `*.localhost`, `localhost.localstack.cloud`) or one of `allowedHosts`; binding another interface is
   * taken as meaning it, and any `Host` is accepted. Cross-site browser requests are refused either way.
   * @default '127.0.0.1'
   */
  host?: string;
  /** More host names accepted in the `Host` header while bound to loopback. @default [] */
  allowedHosts?: string[];
  /** Directory with LocalStack-style `boot.d`, `start.d`, `ready.d`, `shutdown.d` script folders. */
  initDir?: string;
  /** Keep Kinesis and DynamoDB data here across restarts (moto's IAM/STS/ECR state is not persisted). */
  persistDir?: string;
  /** Region handed to init hooks and used as kinesis-local's default. @default 'us-east-1' */
  region?: string;
  /** Services to start. @default all: kinesis, dynamodb, iam, sts, ecr */
  services?: EdgeService[];
  /**
   * Resolve (and run `ready.d`) only once every service runs. By default the start resolves as soon as Kinesis and
   * DynamoDB run, and IAM/STS/ECR (moto, a Python process that takes a second or more to start) finish starting in
   * the background: requests for them wait at the edge until moto is up (or answer with why it is unavailable).
   * @default false
   */
  waitForAllServices?: boolean;
  /** Delay of Kinesis/DynamoDB control-plane operations (create, split, ...). @default 100 */
  latencyMs?: number;
  /**
   * Longest an init script may run; then its process group (the script and everything it started) is killed and
   * the script is marked ERROR. 0 means no limit. @default 120_000
   */
  initTimeoutMs?: number;
  /**
   * Aborts the start-up (e.g. on SIGINT/SIGTERM): the running hook is killed, the emulators are stopped,
   * `shutdown.d` runs, temp dirs are removed, and the promise rejects with `START_ABORTED`.
   */
  signal?: AbortSignal;
  logger?: Logger;
}

/** A running local AWS. */
export interface LocalAws {
  /** `http://host:port`, the one endpoint for every service. */
  readonly endpoint: string;
  readonly port: number;
  readonly host: string;
  readonly region: string;
  /** Per-service status, as in `/_localstack/health`. */
  services(): Record<EdgeService, ServiceStatus>;
  /** Init hook progress, as in `/_localstack/init`. */
  init(): InitReport;
  /** Every init script with its output. */
  initScripts(): readonly InitScript[];
  /** Resolves with the crash error if an emulator dies while running. */
  readonly crashed: Promise<LocalAwsError>;
  /**
   * Resolves once the services still starting at READY (IAM/STS/ECR: moto) have started or failed to; with the
   * statuses then. Never rejects: a failed start shows as `unavailable` with its reason in error responses.
   */
  readonly allStarted: Promise<Record<EdgeService, ServiceStatus>>;
  /** Runs shutdown hooks and stops every emulator (SIGTERM, then SIGKILL). Safe to call twice. */
  stop(): Promise<void>;
}

const ALL: EdgeService[] = ['kinesis', 'dynamodb', 'iam', 'sts', 'ecr'];
const MOTO_SERVICES: EdgeService[] = ['iam', 'sts', 'ecr'];

function sendJson(res: ServerResponse, status: number, body: unknown, head = false): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(head ? undefined : text);
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (err.code === 'EADDRINUSE')
        reject(
          new LocalAwsError(LocalAwsErrorCode.PortInUse, `Port ${port} on ${host} is already in use`, {
            hint: `Another local AWS or LocalStack is probably running there: stop it, or pick another port (--port ${port + 1}).`,
            cause: err,
          }),
        );
      else reject(err);
    };
    const onListening = () => {
      server.off('error', onError);
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/**
 * Starts a LocalStack-compatible local AWS without Docker or Java: one edge HTTP server that routes Kinesis to
 * kinesis-local, DynamoDB to dynalite and IAM/STS/ECR to moto, serves `/_localstack/health` and `/_localstack/init`,
 * and runs init hooks like a LocalStack container. Resolves (READY) once Kinesis and DynamoDB run and `ready.d` is
 * done; moto finishes starting in the background (see `waitForAllServices` and {@link LocalAws.allStarted}).
 *
 * @throws LocalAwsError `LOCAL_PORT_IN_USE`, `EMULATOR_START_FAILED` (Kinesis or DynamoDB; moto missing only marks its
 *   services unavailable)
 * @example
 * const aws = await startLocalAws({ initDir: './localstack' });
 * console.log(aws.endpoint); // http://127.0.0.1:4566
 * await aws.stop();
 */
export async function startLocalAws(options: LocalAwsOptions = {}): Promise<LocalAws> {
  const { host = '127.0.0.1', region = 'us-east-1', logger = noopLogger, latencyMs = 100 } = options;
  const wanted = new Set(options.services ?? ALL);
  for (const s of wanted)
    if (!ALL.includes(s))
      throw new LocalAwsError(LocalAwsErrorCode.InvalidOptions, `Unknown service "${s}"`, {
        hint: `Choose from ${ALL.join(', ')}.`,
      });

  const state: EdgeState = {
    backends: {},
    status: Object.fromEntries(ALL.map((s) => [s, wanted.has(s) ? 'starting' : 'unavailable'])) as Record<
      EdgeService,
      ServiceStatus
    >,
    reasons: Object.fromEntries(
      ALL.filter((s) => !wanted.has(s)).map((s) => [s, 'not enabled (services option)']),
    ),
  };
  const initTimeoutMs = options.initTimeoutMs ?? DEFAULT_INIT_TIMEOUT_MS;
  if (!Number.isInteger(initTimeoutMs) || initTimeoutMs < 0)
    throw new LocalAwsError(LocalAwsErrorCode.InvalidOptions, `initTimeoutMs must be a whole number >= 0`, {
      hint: 'Give milliseconds, or 0 for no limit.',
    });
  const { signal } = options;
  const abortedError = () =>
    new LocalAwsError(LocalAwsErrorCode.StartAborted, 'The local AWS start-up was aborted', {
      hint: 'Nothing is left running: the emulators were stopped and shutdown.d ran.',
    });
  if (signal?.aborted) throw abortedError();
  const hooks = new InitHookRunner(options.initDir, logger, initTimeoutMs);
  await hooks.discover();
  let moto: Backend | undefined;
  let motoStart: Promise<void> | undefined;
  const motoAbort = new AbortController();
  const guard = createRequestGuard({ boundHost: host, allowedHosts: options.allowedHosts ?? [] });

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    // DNS rebinding and cross-site form posts (IAM actions, /moto-api/reset) are refused before anything else.
    const rejected = guard(req.headers);
    if (rejected) {
      logger.warn(`edge: refused ${req.method} ${req.url}: ${rejected.message}`);
      req.resume();
      return sendAwsError(
        res,
        undefined,
        rejected.status,
        rejected.code,
        `awskit local: ${rejected.message}`,
      );
    }
    const url = req.url ?? '/';
    const path = url.split('?')[0]!;
    if (path === '/_localstack/health' || path === '/health') {
      sendJson(
        res,
        200,
        { services: state.status, edition: 'awskit', version: AWSKIT_VERSION },
        req.method === 'HEAD',
      );
      return;
    }
    if (path === '/_localstack/init') return sendJson(res, 200, hooks.report(), req.method === 'HEAD');
    const stageMatch = /^\/_localstack\/init\/([a-z]+)$/i.exec(path);
    if (stageMatch) {
      const stage = stageMatch[1]!.toUpperCase() as InitStage;
      if (!Object.values(InitStage).includes(stage))
        return sendJson(res, 404, { error: `unknown stage ${stageMatch[1]}` });
      const r = hooks.report(stage);
      return sendJson(res, 200, { completed: r.completed[stage], scripts: r.scripts });
    }
    if (path.startsWith('/moto-api')) {
      const answer = () => {
        if (moto?.port) return proxy(req, res, moto.port, undefined, 'iam', logger);
        return sendJson(res, 501, { error: `moto is not running: ${state.reasons.iam ?? 'disabled'}` });
      };
      // Like AWS requests for IAM/STS/ECR, the admin API waits for a moto that is still starting.
      if (!moto && motoStart) void motoStart.then(answer);
      else answer();
      return;
    }
    handleAwsRequest(req, res, state, logger).catch((err: Error) =>
      sendAwsError(res, undefined, 500, 'InternalFailure', `awskit local: ${err.message}`),
    );
  });
  server.keepAliveTimeout = 65_000;

  const requestedPort = options.port ?? 4566;
  const port = await listen(server, requestedPort, host);
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const endpoint = `http://${urlHost}:${port}`;
  const hookEnv = { endpoint, region, host: urlHost, port };
  const backends: Backend[] = [];
  let stopping = false;
  let resolveCrash!: (e: LocalAwsError) => void;
  const crashed = new Promise<LocalAwsError>((r) => {
    resolveCrash = r;
  });

  const watch = (b: Backend, services: EdgeService[]) => {
    b.child?.exit.then(({ code, signal }) => {
      if (stopping) return;
      for (const s of services) {
        state.status[s] = 'error';
        state.reasons[s] = `the ${b.name} emulator exited (code ${code}, signal ${signal})`;
      }
      const err = new LocalAwsError(
        LocalAwsErrorCode.EmulatorCrashed,
        `The ${b.name} emulator exited unexpectedly (code ${code}, signal ${signal}):\n${b.child?.tail() ?? ''}`,
        {
          hint: 'Restart the local AWS; if it keeps happening, run with --verbose and report the output.',
        },
      );
      logger.error(err.message);
      resolveCrash(err);
    });
  };

  const stopAll = async () => {
    stopping = true;
    await Promise.allSettled(backends.map((b) => b.stop()));
    for (const s of ALL) if (state.status[s] === 'running') state.status[s] = 'stopped';
  };

  const starts: Promise<void>[] = [];
  const onAbort = () => void hooks.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  const checkAborted = () => {
    if (signal?.aborted) throw abortedError();
  };
  try {
    await hooks.run(InitStage.Boot, hookEnv);
    checkAborted();
    const persist = options.persistDir;
    if (persist) await mkdir(persist, { recursive: true });
    // dynalite is loaded in this process (~0.2 s of blocking require): only once kinesis-local is spawned, so the
    // two start in parallel instead of one after the other.
    let kinesisSpawned!: () => void;
    const afterKinesisSpawn = new Promise<void>((r) => {
      kinesisSpawned = r;
    });
    if (wanted.has('kinesis'))
      starts.push(
        startKinesisEmulator({
          logger,
          latencyMs,
          region,
          onSpawn: kinesisSpawned,
          ...(persist ? { persistPath: join(persist, 'kinesis') } : {}),
        }).then((b) => {
          backends.push(b);
          state.backends.kinesis = b;
          state.status.kinesis = 'running';
          watch(b, ['kinesis']);
        }),
      );
    else kinesisSpawned();
    // A kinesis-local that fails before spawning rejects its start; dynalite must not wait for it then.
    starts[0]?.catch(() => kinesisSpawned());
    if (wanted.has('dynamodb'))
      starts.push(
        afterKinesisSpawn
          .then(() =>
            startDynamoEmulator({
              logger,
              latencyMs,
              ...(persist ? { path: join(persist, 'dynamodb') } : {}),
            }),
          )
          .then((b) => {
            backends.push(b);
            state.backends.dynamodb = b;
            state.status.dynamodb = 'running';
          }),
      );
    const motoWanted = MOTO_SERVICES.filter((s) => wanted.has(s));
    if (motoWanted.length) {
      const motoT0 = Date.now();
      // In the background, moto (a Python process, ~1 s of CPU to import) is spawned once Kinesis and DynamoDB
      // run, so it does not compete with kinesis-local for the CPU before READY.
      const motoAfter = options.waitForAllServices
        ? Promise.resolve()
        : Promise.allSettled([...starts]).then(() => undefined);
      motoStart = motoAfter
        .then(() => startMotoServer({ logger, signal: motoAbort.signal }))
        .then(
          async (b) => {
            if (motoAbort.signal.aborted) {
              for (const s of motoWanted) state.status[s] = 'stopped';
              return b.stop();
            }
            moto = b;
            backends.push(b);
            for (const s of motoWanted) {
              state.backends[s] = b;
              state.status[s] = 'running';
            }
            watch(b, motoWanted);
            logger.debug(`${motoWanted.join(', ')} running (moto up after ${Date.now() - motoT0} ms)`);
          },
          (err: LocalAwsError) => {
            for (const s of motoWanted) {
              state.status[s] = motoAbort.signal.aborted ? 'stopped' : 'unavailable';
              state.reasons[s] = `${err.message.split('\n')[0]} (${err.hint ?? ''})`;
            }
            if (!motoAbort.signal.aborted)
              logger.warn(
                `IAM, STS and ECR are unavailable: ${err.message.split('\n')[0]}. ${err.hint ?? ''}`,
              );
          },
        );
      // moto is the slow one (a Python process): unless asked to wait for it, READY does not.
      if (options.waitForAllServices) starts.push(motoStart);
      else state.pending = Object.fromEntries(motoWanted.map((s) => [s, motoStart]));
    }
    await hooks.run(InitStage.Start, hookEnv);
    checkAborted();
    const results = await Promise.allSettled(starts);
    checkAborted();
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    await hooks.run(InitStage.Ready, hookEnv);
    checkAborted();
  } catch (err) {
    // Whatever started is stopped and cleaned up as on a normal stop, shutdown.d included.
    await hooks.killAll();
    motoAbort.abort();
    await Promise.allSettled([...starts, motoStart]);
    await hooks.run(InitStage.Shutdown, hookEnv).catch(() => []);
    await stopAll();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await hooks.dispose();
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }

  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    port,
    host,
    region,
    services: () => ({ ...state.status }),
    init: () => hooks.report(),
    initScripts: () => hooks.details(),
    crashed,
    allStarted: (motoStart ?? Promise.resolve()).then(() => ({ ...state.status })),
    stop: () => {
      stopped ??= (async () => {
        // shutdown.d hooks may still call IAM: they wait for a starting moto like any request; then it is stopped.
        await hooks.run(InitStage.Shutdown, hookEnv);
        motoAbort.abort();
        await motoStart;
        await stopAll();
        server.closeAllConnections();
        await new Promise<void>((r) => server.close(() => r()));
        await hooks.dispose();
      })();
      return stopped;
    },
  };
}
