import { accessSync, constants, realpathSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import type { Logger } from '@awskit/core';
import { type ManagedChild, spawnManaged } from './childProcess';
import { LocalAwsError, LocalAwsErrorCode } from './errors';
import { getFreePort, waitForPort } from './ports';

const require = createRequire(import.meta.url);

/** A running backend the edge forwards to. */
export interface Backend {
  readonly name: string;
  readonly port?: number;
  /** Handles a request in-process instead of over a socket (dynalite). */
  readonly server?: Server;
  readonly child?: ManagedChild;
  stop(): Promise<void>;
}

/** Interface every emulator binds: the edge is the only way in. */
export const BACKEND_HOST = '127.0.0.1';

// The wrapper makes kinesis-local exit when our stdin pipe closes (i.e. when we die, even by SIGKILL), and binds a
// wildcard listen to KINESIS_MOCK_HOST: kinesis-local 0.6.2 hard-codes 0.0.0.0. Our pnpm patch makes the bundle
// honour KINESIS_MOCK_HOST, but a published @awskit/local gets the unpatched bundle, so the wrapper enforces it too.
const NODE_WRAPPER = [
  "process.stdin.on('end',()=>process.exit(0));process.stdin.on('close',()=>process.exit(0));process.stdin.resume();",
  "const net=require('net');const listen=net.Server.prototype.listen;const H=process.env.KINESIS_MOCK_HOST||'127.0.0.1';",
  "const wild=(h)=>h===undefined||h===null||h===''||h==='0.0.0.0'||h==='::';",
  'net.Server.prototype.listen=function(...a){',
  "if(typeof a[0]==='number'||(typeof a[0]==='string'&&/^\\d+$/.test(a[0]))){if(typeof a[1]!=='string')a.splice(1,0,H);else if(wild(a[1]))a[1]=H;}",
  "else if(a[0]&&typeof a[0]==='object'&&a[0].path===undefined&&a[0].fd===undefined&&wild(a[0].host))a[0]={...a[0],host:H};",
  'return listen.apply(this,a);};',
  'require(process.argv[1]);',
].join('');

/** Options for the Kinesis emulator (kinesis-local, the kinesis-mock engine LocalStack uses). */
export interface KinesisEmulatorOptions {
  logger: Logger;
  /** Delay kinesis-mock applies to create/delete/split/merge/update/register. @default 100 */
  latencyMs?: number;
  accountId?: string;
  region?: string;
  persistPath?: string;
  /** Called right after the child is spawned (the caller starts its in-process work only then). */
  onSpawn?: () => void;
}

/** Starts kinesis-local as a child process on a free plain-HTTP port. */
export async function startKinesisEmulator(opts: KinesisEmulatorOptions): Promise<Backend> {
  const main = require.resolve('kinesis-local/main.js');
  const pkgDir = dirname(main);
  const [plain, tls] = [await getFreePort(), await getFreePort()];
  const latency = `${Math.max(0, Math.round(opts.latencyMs ?? 100))}ms`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KINESIS_MOCK_CERT_PATH: join(pkgDir, 'server.json'),
    KINESIS_MOCK_PLAIN_PORT: String(plain),
    KINESIS_MOCK_TLS_PORT: String(tls),
    KINESIS_MOCK_HOST: BACKEND_HOST,
    AWS_ACCOUNT_ID: opts.accountId ?? '000000000000',
    AWS_REGION: opts.region ?? 'us-east-1',
    LOG_LEVEL: 'WARN',
    SHARD_LIMIT: '1000',
  };
  for (const k of [
    'CREATE_STREAM_DURATION',
    'DELETE_STREAM_DURATION',
    'REGISTER_STREAM_CONSUMER_DURATION',
    'DEREGISTER_STREAM_CONSUMER_DURATION',
    'MERGE_SHARDS_DURATION',
    'SPLIT_SHARD_DURATION',
    'START_STREAM_ENCRYPTION_DURATION',
    'STOP_STREAM_ENCRYPTION_DURATION',
    'UPDATE_SHARD_COUNT_DURATION',
    'UPDATE_STREAM_MODE_DURATION',
  ])
    env[k] = latency;
  if (opts.persistPath) {
    Object.assign(env, {
      SHOULD_PERSIST_DATA: 'true',
      PERSIST_PATH: opts.persistPath,
      PERSIST_FILE_NAME: 'kinesis.json',
      PERSIST_INTERVAL: '2s',
      LOAD_DATA_IF_EXISTS: 'true',
    });
  }
  const child = spawnManaged('kinesis', process.execPath, ['-e', NODE_WRAPPER, main], {
    env,
    logger: opts.logger,
  });
  opts.onSpawn?.();
  // Polled often: READY follows kinesis-local's own start as closely as possible.
  const up = await waitForPort(plain, { timeoutMs: 30_000, intervalMs: 10, isDead: () => child.exited });
  if (!up) {
    await child.stop(500);
    throw new LocalAwsError(
      LocalAwsErrorCode.EmulatorStartFailed,
      `Kinesis emulator (kinesis-local) did not start:\n${child.tail()}`,
      {
        hint: 'Reinstall dependencies (`pnpm install`); kinesis-local needs Node 20+ and ~200 MB of memory.',
      },
    );
  }
  return { name: 'kinesis', port: plain, child, stop: () => child.stop() };
}

/** Starts dynalite in this process; the edge hands requests to it without a socket hop. */
export async function startDynamoEmulator(opts: {
  logger: Logger;
  path?: string;
  latencyMs?: number;
}): Promise<Backend> {
  const dynalite = require('dynalite') as (o: Record<string, unknown>) => Server;
  const ms = Math.max(0, Math.round(opts.latencyMs ?? 100));
  const server = dynalite({
    createTableMs: ms,
    deleteTableMs: ms,
    updateTableMs: ms,
    ...(opts.path ? { path: opts.path } : {}),
  });
  return {
    name: 'dynamodb',
    server,
    stop: () =>
      new Promise<void>((resolve) => {
        // dynalite closes its store in close(); the server never listened, so ignore "not running".
        try {
          server.close(() => resolve());
        } catch {
          resolve();
        }
      }),
  };
}

// Runs moto's server and exits when stdin closes (parent died), so moto never outlives us.
const MOTO_WRAPPER = [
  'import os, sys, threading',
  'def _watch():',
  '    try:',
  '        while sys.stdin.buffer.read(65536): pass',
  '    finally:',
  '        os._exit(0)',
  'threading.Thread(target=_watch, daemon=True).start()',
  'from moto.server import main',
  'main(sys.argv[1:])',
].join('\n');

/** Options for {@link startMotoServer}. */
export interface MotoServerOptions {
  /** Extra environment, e.g. `{ INITIAL_NO_AUTH_ACTION_COUNT: '5' }` to make moto enforce credentials. */
  env?: NodeJS.ProcessEnv;
  /** Python interpreter. @default AWSKIT_PYTHON, else the first `python3` on PATH that has moto */
  python?: string;
  port?: number;
  logger?: Logger;
  /** Stops a start in progress: the child is killed and the promise rejects with `START_ABORTED`. */
  signal?: AbortSignal;
}

/** A running moto server. */
export interface MotoServer extends Backend {
  readonly endpoint: string;
  readonly port: number;
}

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * Starts `python3 -m moto.server` (IAM, STS, ECR) on a free port of 127.0.0.1.
 * @throws LocalAwsError `EMULATOR_START_FAILED` when python3 or moto is missing.
 */
export async function startMotoServer(opts: MotoServerOptions = {}): Promise<MotoServer> {
  const pythons = opts.python ? [opts.python] : pythonCandidates();
  const { signal } = opts;
  const aborted = () =>
    new LocalAwsError(LocalAwsErrorCode.StartAborted, 'The moto server start was aborted', {
      hint: 'Nothing is left running.',
    });
  let lastTail = '';
  for (const python of pythons) {
    if (signal?.aborted) throw aborted();
    const port = opts.port ?? (await getFreePort());
    const env = { ...process.env, MOTO_PORT: String(port), ...opts.env };
    const child = spawnManaged('moto', python, ['-c', MOTO_WRAPPER, '-H', BACKEND_HOST, '-p', String(port)], {
      env,
      logger: opts.logger ?? silent,
    });
    const onAbort = () => void child.stop(500);
    signal?.addEventListener('abort', onAbort, { once: true });
    const up = await waitForPort(port, {
      timeoutMs: 60_000,
      intervalMs: 20,
      isDead: () => child.exited || !!signal?.aborted,
    });
    signal?.removeEventListener('abort', onAbort);
    if (signal?.aborted) {
      await child.stop(500);
      throw aborted();
    }
    if (up)
      return { name: 'moto', port, endpoint: `http://127.0.0.1:${port}`, child, stop: () => child.stop() };
    await child.stop(500);
    lastTail = child.tail();
    // This python lacks moto (e.g. /usr/bin/python3 ahead of a pyenv shim on PATH): try the next one.
    if (!/No module named|ENOENT|not found/i.test(lastTail)) break;
  }
  const missing = /No module named|ENOENT|not found/i.test(lastTail);
  throw new LocalAwsError(
    LocalAwsErrorCode.EmulatorStartFailed,
    `moto server (IAM/STS/ECR) did not start${missing ? `: no python3 with moto found (tried ${pythons.join(', ')})` : ''}:\n${lastTail}`,
    {
      hint: "Install moto for python3 (`pip install 'moto[server]'`), or set AWSKIT_PYTHON to a python that has it.",
    },
  );
}

/**
 * Every `python3` on PATH, in PATH order, without duplicates — or just AWSKIT_PYTHON when set. Package-manager
 * scripts put /usr/bin ahead of pyenv shims, so the first python3 is not always the one that has moto.
 */
export function pythonCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.AWSKIT_PYTHON) return [env.AWSKIT_PYTHON];
  const seen = new Set<string>();
  const found: string[] = [];
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'python3');
    try {
      accessSync(candidate, constants.X_OK);
    } catch {
      continue;
    }
    let real = candidate;
    try {
      real = realpathSync(candidate);
    } catch {}
    // pyenv shims all resolve to one script but pick different pythons, so only dedupe real binaries.
    const id = candidate.includes('/shims/') ? candidate : real;
    if (seen.has(id)) continue;
    seen.add(id);
    found.push(candidate);
  }
  return found.length ? found : ['python3'];
}
