import { AwskitError, CoreErrorCode } from './errors';

/** Options for {@link backoffDelay}. */
export interface BackoffOptions {
  /** First delay's upper bound. @default 100 */
  baseMs?: number;
  /** Largest delay. @default 10_000 */
  capMs?: number;
  /** Source of randomness in [0, 1) (inject for deterministic tests). @default Math.random */
  random?: () => number;
}

/**
 * Exponential backoff with full jitter (AWS Architecture Blog): a delay drawn uniformly from
 * [0, min(cap, base * 2^attempt)). Full jitter spreads retries of many clients best.
 * @param attempt 0 for the first retry.
 */
export function backoffDelay(
  attempt: number,
  { baseMs = 100, capMs = 10_000, random = Math.random }: BackoffOptions = {},
): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.floor(random() * ceiling);
}

/** Resolves after `ms`, or rejects with an `ABORTED` AwskitError when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AwskitError(CoreErrorCode.Aborted, 'aborted'));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new AwskitError(CoreErrorCode.Aborted, 'aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Options for {@link retry}. */
export interface RetryOptions extends BackoffOptions {
  /** Retries after the first attempt. @default 3 */
  retries?: number;
  /** Whether an error is worth another attempt. @default every error */
  shouldRetry?: (error: unknown, attempt: number) => boolean;
  /** Called before each wait, e.g. to log. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  signal?: AbortSignal;
  /** Injected sleep (tests). @default {@link sleep} */
  sleepFn?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Runs `fn` until it succeeds, backing off with full jitter between attempts; rethrows the last error. */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const { retries = 3, shouldRetry = () => true, onRetry, signal, sleepFn = sleep } = options;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (attempt >= retries || !shouldRetry(e, attempt) || signal?.aborted) throw e;
      const delay = backoffDelay(attempt, options);
      onRetry?.(e, attempt, delay);
      await sleepFn(delay, signal);
    }
  }
}
