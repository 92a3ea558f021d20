import { afterEach, describe, expect, it, vi } from 'vitest';
import { backoffDelay, CoreErrorCode, isAwskitError, retry, sleep } from '../src/index';

const half = () => 0.5;

describe('backoffDelay', () => {
  it('draws from [0, min(cap, base * 2^attempt)) (full jitter)', () => {
    const opts = { baseMs: 100, capMs: 1_000, random: half };
    expect([0, 1, 2, 3, 4, 5, 50].map((a) => backoffDelay(a, opts))).toEqual([
      50, 100, 200, 400, 500, 500, 500,
    ]);
  });

  it('spans the whole window: 0 at random()=0, just under the ceiling near 1', () => {
    expect(backoffDelay(3, { baseMs: 100, random: () => 0 })).toBe(0);
    expect(backoffDelay(3, { baseMs: 100, random: () => 0.999999 })).toBe(799);
  });

  it('defaults to base 100 ms and cap 10 s', () => {
    expect(backoffDelay(0, { random: () => 0.999999 })).toBe(99);
    expect(backoffDelay(20, { random: () => 0.999999 })).toBe(9_999);
  });

  it('treats a negative attempt as the first and survives huge ones', () => {
    expect(backoffDelay(-3, { random: half })).toBe(50);
    expect(backoffDelay(10_000, { random: half })).toBe(5_000);
  });

  it('returns whole milliseconds', () => {
    expect(Number.isInteger(backoffDelay(2, { baseMs: 33, random: () => 0.123 }))).toBe(true);
  });
});

describe('retry', () => {
  it('retries failures with the jittered delays, then returns the value', async () => {
    const delays: number[] = [];
    const seen: Array<[string, number, number]> = [];
    const attempts: number[] = [];
    const result = await retry(
      async (attempt) => {
        attempts.push(attempt);
        if (attempt < 2) throw new Error(`fail ${attempt}`);
        return 'ok';
      },
      {
        retries: 3,
        baseMs: 100,
        random: half,
        sleepFn: async (ms) => {
          delays.push(ms);
        },
        onRetry: (e, attempt, delay) => seen.push([(e as Error).message, attempt, delay]),
      },
    );
    expect(result).toBe('ok');
    expect(attempts).toEqual([0, 1, 2]);
    expect(delays).toEqual([50, 100]);
    expect(seen).toEqual([
      ['fail 0', 0, 50],
      ['fail 1', 1, 100],
    ]);
  });

  it('rethrows the last error after `retries` retries', async () => {
    let calls = 0;
    const err = await retry(
      async () => {
        calls++;
        throw new Error(`fail ${calls}`);
      },
      { retries: 2, random: half, sleepFn: async () => {} },
    ).catch((e) => e);
    expect(calls).toBe(3);
    expect(err.message).toBe('fail 3');
  });

  it('defaults to 3 retries', async () => {
    let calls = 0;
    await retry(
      async () => {
        calls++;
        throw new Error('x');
      },
      { sleepFn: async () => {} },
    ).catch(() => {});
    expect(calls).toBe(4);
  });

  it('stops at once when shouldRetry says no', async () => {
    let calls = 0;
    const sleeps: number[] = [];
    const fatal = new Error('fatal');
    await expect(
      retry(
        async () => {
          calls++;
          throw fatal;
        },
        { shouldRetry: (e) => e !== fatal, sleepFn: async (ms) => void sleeps.push(ms) },
      ),
    ).rejects.toBe(fatal);
    expect(calls).toBe(1);
    expect(sleeps).toEqual([]);
  });

  it('passes the signal to sleepFn and stops when it is aborted', async () => {
    const controller = new AbortController();
    let calls = 0;
    const signals: Array<AbortSignal | undefined> = [];
    const last = await retry(
      async () => {
        calls++;
        throw new Error(`fail ${calls}`);
      },
      {
        retries: 10,
        signal: controller.signal,
        sleepFn: async (_ms, signal) => {
          signals.push(signal);
          controller.abort();
        },
      },
    ).catch((e) => e);
    expect(signals).toEqual([controller.signal]);
    expect(calls).toBe(2);
    expect(last.message).toBe('fail 2');
  });

  it('an abort during the real sleep rejects with ABORTED', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 5);
    const err = await retry(
      async () => {
        throw new Error('fail');
      },
      { retries: 5, baseMs: 60_000, random: () => 0.9, signal: controller.signal },
    ).catch((e) => e);
    expect(isAwskitError(err, CoreErrorCode.Aborted)).toBe(true);
  });
});

describe('sleep', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('resolves after the given time', async () => {
    vi.useFakeTimers();
    let done = false;
    const p = sleep(1_000).then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(999);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await p;
    expect(done).toBe(true);
  });

  it('rejects with ABORTED at once for an already aborted signal', async () => {
    await expect(sleep(10_000, AbortSignal.abort())).rejects.toMatchObject({ code: CoreErrorCode.Aborted });
  });

  it('rejects with ABORTED when aborted while waiting, and clears its timer', async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    const p = sleep(10_000, controller.signal);
    expect(vi.getTimerCount()).toBe(1);
    controller.abort();
    await expect(p).rejects.toMatchObject({ code: CoreErrorCode.Aborted });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('removes its abort listener once it resolves', async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    const remove = vi.spyOn(controller.signal, 'removeEventListener');
    const p = sleep(10, controller.signal);
    await vi.advanceTimersByTimeAsync(10);
    await p;
    expect(remove).toHaveBeenCalledWith('abort', expect.any(Function));
  });
});
