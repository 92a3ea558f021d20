/**
 * The per-call deadline must fire even after a garbage collection. Found by the chaos suite (fixed seed 1, polling):
 * a GetRecords hung by the fault proxy never timed out, and the shard stalled for 32 s with its lease held, because on
 * Node 20 a timeout signal inside `AbortSignal.any` can be collected before it fires (nodejs/node#57736).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { callDeadline } from '../src/deadline.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('callDeadline', () => {
  it('aborts every call at its deadline, also after a garbage collection, with or without a parent signal', async () => {
    const parent = new AbortController();
    const signals: AbortSignal[] = [];
    for (let i = 0; i < 100; i++) {
      // As an SDK call holds it: the returned signal only (with a listener), not the timer's.
      signals.push(
        (callDeadline(i % 2 ? parent.signal : undefined, 200) as { abortSignal: AbortSignal }).abortSignal,
      );
      signals[i]!.addEventListener('abort', () => {});
    }
    await new Promise((r) => setTimeout(r, 20));
    gc();
    await new Promise((r) => setTimeout(r, 500));
    expect(signals.filter((s) => s.aborted).length).toBe(100);
    expect(signals.every((s) => (s.reason as Error).name === 'TimeoutError')).toBe(true);
  });

  it('the parent signal aborts the call at once', () => {
    const parent = new AbortController();
    const { abortSignal } = callDeadline(parent.signal, 60_000) as { abortSignal: AbortSignal };
    expect(abortSignal.aborted).toBe(false);
    parent.abort(new Error('stopping'));
    expect(abortSignal.aborted).toBe(true);
    expect((abortSignal.reason as Error).message).toBe('stopping');
  });
});
