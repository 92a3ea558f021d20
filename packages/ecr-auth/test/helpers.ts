import type { Clock, Logger } from '@awskit/core';
import { isAwskitError } from '@awskit/core';
import type { TokenRequest, TokenSource } from '../src/index';

// Internals the package index does not export (tests reach them directly).
export { decodeAuthorizationToken } from '../src/authorization';
export { findOnPath } from '../src/dockerConfig';
export { classifyDockerLoginFailure } from '../src/dockerLogin';
export { explainAwsError } from '../src/errors';
export * from '../src/index';
export { tryParseRegistry } from '../src/registry';
export {
  identityCacheKey,
  isCacheDisabled,
  isTokenFresh,
  resolveCacheDir,
  tokenCacheKey,
} from '../src/tokenCache';

export const isAwskitErrorLike = (e: unknown, code?: string) => isAwskitError(e, code);

/** A clock tests move by hand. */
export function manualClock(
  start = Date.UTC(2026, 0, 1),
): Clock & { advance(ms: number): void; set(ms: number): void } {
  let t = start;
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
    set(ms: number) {
      t = ms;
    },
  };
}

/** A logger that keeps every line (to assert on, and to check that no secret was logged). */
export function recordingLogger(): Logger & { lines: string[]; text(): string } {
  const lines: string[] = [];
  const rec =
    (level: string) =>
    (msg: string, fields?: Record<string, unknown>): void => {
      lines.push(`${level} ${msg} ${fields ? JSON.stringify(fields) : ''}`);
    };
  return {
    debug: rec('debug'),
    info: rec('info'),
    warn: rec('warn'),
    error: rec('error'),
    lines,
    text: () => lines.join('\n'),
  };
}

export const HOUR = 60 * 60 * 1000;
export const b64 = (s: string) => Buffer.from(s).toString('base64');

/**
 * A token source whose tokens expire `ttlMs` after the clock's now (or at a fixed date), counting calls. Passwords
 * are unique per call (`pw-<call>-<registryId>`), so a test can tell a cached token from a fresh one.
 */
export function fakeTokenSource(
  clock: Clock,
  opts: {
    arn?: string;
    account?: string;
    ttlMs?: number;
    expiresAt?: Date;
    fail?: () => Error | undefined;
  } = {},
): TokenSource & { identityCalls: number; requests: TokenRequest[] } {
  const { arn = 'arn:aws:iam::111122223333:user/alice', account = '111122223333', ttlMs = 12 * HOUR } = opts;
  const src = {
    identityCalls: 0,
    requests: [] as TokenRequest[],
    async getCallerIdentity() {
      src.identityCalls++;
      return { arn, account };
    },
    async getAuthorizationTokens(req: TokenRequest) {
      src.requests.push(req);
      const err = opts.fail?.();
      if (err) throw err;
      const n = src.requests.length;
      const ids = req.service === 'ecr' ? (req.registryIds.length ? req.registryIds : [account]) : ['public'];
      return ids.map((id) => ({
        authorizationToken: b64(`AWS:pw-${n}-${id}`),
        expiresAt: opts.expiresAt ?? new Date(clock.now() + ttlMs),
        ...(req.service === 'ecr'
          ? { proxyEndpoint: `https://${id}.dkr.ecr.${req.region}.amazonaws.com` }
          : {}),
      }));
    },
  };
  return src;
}
