import {
  type Clock,
  DEFAULT_LOCAL_ENDPOINT,
  type Logger,
  localEndpointFromEnv,
  noopLogger,
  sleep,
  systemClock,
  timeoutSignal,
} from '@awskit/core';
import { LocalstackHooksError, LocalstackHooksErrorCode } from './errors';

/** LocalStack's init script states. */
export type InitScriptState = 'UNKNOWN' | 'RUNNING' | 'SUCCESSFUL' | 'ERROR';

/** One entry of `GET /_localstack/init`. */
export interface InitScriptStatus {
  stage: string;
  name: string;
  state: InitScriptState;
}

/** What the endpoint reported when it became ready. */
export interface ReadyState {
  endpoint: string;
  /** Service states from `/_localstack/health`. */
  services: Record<string, string>;
  /** `/_localstack/init`, when the endpoint has it. */
  init?: { completed: Record<string, boolean>; scripts: InitScriptStatus[] };
  /** LocalStack version / edition when reported. */
  version?: string;
  edition?: string;
  elapsedMs: number;
  attempts: number;
}

/** Options of {@link waitForReady}. */
export interface WaitForReadyOptions {
  /** Edge endpoint. @default `AWS_ENDPOINT_URL`, else `LOCALSTACK_ENDPOINT`/`LOCALSTACK_HOST`, else http://127.0.0.1:4566 */
  endpoint?: string;
  /** Services that must be `running` or `available` in `/_localstack/health`. @default [] */
  services?: readonly string[];
  /** Give up after this long. @default 60_000 */
  timeoutMs?: number;
  /** Pause between polls. @default 500 */
  intervalMs?: number;
  /** Timeout of each HTTP request. @default 2_000 */
  requestTimeoutMs?: number;
  /** Also wait until the READY init stage has completed (all `ready.d` hooks ran). @default true */
  requireInit?: boolean;
  /** Cancels the wait. */
  signal?: AbortSignal;
  /** Environment used for the default endpoint (tests). @default process.env */
  env?: NodeJS.ProcessEnv;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** @default systemClock */
  clock?: Clock;
  /** @default core's sleep */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** @default noopLogger */
  logger?: Logger;
}

/** Defaults of {@link WaitForReadyOptions}. */
export const WAIT_DEFAULTS = {
  timeoutMs: 60_000,
  intervalMs: 500,
  requestTimeoutMs: 2_000,
  requireInit: true,
} as const;

/** Service states that mean "usable": LocalStack starts services lazily, so `available` counts. */
const READY_STATES = new Set(['running', 'available']);

/** The endpoint `waitForReady` and the CLI use when none is given. */
export function defaultLocalEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  if (env.AWS_ENDPOINT_URL) return env.AWS_ENDPOINT_URL.replace(/\/+$/, '');
  return localEndpointFromEnv(env, true)?.url ?? DEFAULT_LOCAL_ENDPOINT;
}

type Probe = { kind: 'ok'; status: number; body: unknown } | { kind: 'unreachable'; reason: string };

async function probe(f: typeof fetch, url: string, timeoutMs: number, signal?: AbortSignal): Promise<Probe> {
  try {
    const res = await f(url, { signal: timeoutSignal(timeoutMs, signal) });
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    return { kind: 'ok', status: res.status, body };
  } catch (e) {
    if (signal?.aborted) throw e;
    const cause = (e as { cause?: { code?: string } }).cause;
    const reason =
      cause?.code ??
      ((e as Error).name === 'TimeoutError' ? `no answer in ${timeoutMs} ms` : (e as Error).message);
    return { kind: 'unreachable', reason };
  }
}

/**
 * Polls LocalStack (or the awskit local AWS) until the needed services run and the READY init stage has completed.
 * Fails fast when an init script ends in ERROR (naming it) or a needed service is disabled; on timeout the error
 * says what was still missing. Replaces `sleep 30` in scripts and CI; usable from a vitest `globalSetup`.
 *
 * @throws {LocalstackHooksError} `NOT_READY` (failed script, disabled service), `WAIT_TIMEOUT`.
 * @example
 * await waitForReady({ endpoint: 'http://localhost:4566', services: ['kinesis', 'dynamodb'], timeoutMs: 90_000 });
 */
export async function waitForReady(options: WaitForReadyOptions = {}): Promise<ReadyState> {
  const o = { ...WAIT_DEFAULTS, ...options };
  const endpoint = (options.endpoint ?? defaultLocalEndpoint(options.env)).replace(/\/+$/, '');
  const f = options.fetch ?? globalThis.fetch;
  const clock = options.clock ?? systemClock;
  const pause = options.sleep ?? sleep;
  const logger = options.logger ?? noopLogger;
  const services = [...(options.services ?? [])];
  const start = clock.now();
  let attempts = 0;
  let missing: string[] = ['first poll'];
  for (;;) {
    attempts++;
    missing = [];
    const health = await probe(f, `${endpoint}/_localstack/health`, o.requestTimeoutMs, options.signal);
    let serviceStates: Record<string, string> = {};
    let version: string | undefined;
    let edition: string | undefined;
    if (health.kind === 'unreachable') missing.push(`${endpoint} to answer (${health.reason})`);
    else if (health.status !== 200 || typeof health.body !== 'object' || health.body === null)
      missing.push(`/_localstack/health to answer 200 with JSON (got ${health.status})`);
    else {
      const b = health.body as { services?: Record<string, string>; version?: string; edition?: string };
      serviceStates = b.services ?? {};
      version = b.version;
      edition = b.edition;
      for (const s of services) {
        const state = serviceStates[s];
        if (state === 'disabled')
          throw new LocalstackHooksError(
            LocalstackHooksErrorCode.NotReady,
            `service ${s} is disabled at ${endpoint}`,
            {
              hint: `Add ${s} to LocalStack's SERVICES (awskit localstack init derives it from the declaration).`,
              details: { services: serviceStates },
            },
          );
        if (state === undefined || !READY_STATES.has(state)) missing.push(`${s} (${state ?? 'not listed'})`);
      }
    }
    let init: ReadyState['init'];
    if (health.kind === 'ok' && o.requireInit) {
      const r = await probe(f, `${endpoint}/_localstack/init`, o.requestTimeoutMs, options.signal);
      if (r.kind === 'unreachable') missing.push(`/_localstack/init (${r.reason})`);
      else if (r.status === 404)
        missing.push('/_localstack/init (404: this LocalStack has no init endpoint; use requireInit: false)');
      else if (r.status !== 200 || typeof r.body !== 'object' || r.body === null)
        missing.push(`/_localstack/init to answer 200 (got ${r.status})`);
      else {
        const b = r.body as { completed?: Record<string, boolean>; scripts?: InitScriptStatus[] };
        init = { completed: b.completed ?? {}, scripts: b.scripts ?? [] };
        const failed = init.scripts.filter((s) => s.state === 'ERROR');
        if (failed.length)
          throw new LocalstackHooksError(
            LocalstackHooksErrorCode.NotReady,
            `init script${failed.length > 1 ? 's' : ''} failed at ${endpoint}: ${failed.map((s) => `${s.name} (${s.stage})`).join(', ')}`,
            {
              hint: 'Read the script output in the LocalStack log (`docker compose logs localstack`) or the awskit local log, fix it and restart.',
              details: { scripts: init.scripts },
            },
          );
        if (init.completed.READY !== true) {
          const pending = init.scripts.filter((s) => s.stage === 'READY' && s.state !== 'SUCCESSFUL');
          missing.push(
            `READY init stage${pending.length ? ` (${pending.map((s) => `${s.name} ${s.state}`).join(', ')})` : ''}`,
          );
        }
      }
    }
    const elapsedMs = clock.now() - start;
    if (missing.length === 0) {
      logger.debug('local AWS ready', { endpoint, elapsedMs, attempts });
      return {
        endpoint,
        services: serviceStates,
        ...(init ? { init } : {}),
        ...(version !== undefined ? { version } : {}),
        ...(edition !== undefined ? { edition } : {}),
        elapsedMs,
        attempts,
      };
    }
    logger.debug('local AWS not ready yet', { endpoint, missing, attempts });
    if (elapsedMs + o.intervalMs > o.timeoutMs)
      throw new LocalstackHooksError(
        LocalstackHooksErrorCode.WaitTimeout,
        `${endpoint} not ready after ${Math.round(elapsedMs / 100) / 10}s; still waiting for: ${missing.join('; ')}`,
        {
          hint: 'Is LocalStack (or `awskit local up`) running at that endpoint? Raise --timeout if it is just slow to start.',
          details: { missing, attempts },
        },
      );
    await pause(o.intervalMs, options.signal);
  }
}
