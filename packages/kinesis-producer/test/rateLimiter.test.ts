import { describe, expect, it } from 'vitest';
import { Deque } from '../src/queue.js';
import { ShardRateLimiter, TokenBucket } from '../src/rateLimiter.js';

const fakeClock = (start = 1_000) => {
  let t = start;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
};

describe('TokenBucket', () => {
  it('refills at its rate up to capacity, may go into debt, and says when it opens', () => {
    const clock = fakeClock();
    const b = new TokenBucket(100, 100, clock);
    expect(b.available()).toBe(100);
    b.take(150);
    expect(b.available()).toBe(-50);
    expect(b.msUntilOpen()).toBeGreaterThanOrEqual(500);
    clock.advance(600);
    expect(b.available()).toBeCloseTo(10);
    clock.advance(10_000);
    expect(b.available()).toBe(100);
  });

  it('drain() closes it until the next refill', () => {
    const clock = fakeClock();
    const b = new TokenBucket(10, 10, clock);
    b.drain();
    expect(b.available()).toBe(0);
    expect(b.msUntilOpen()).toBeGreaterThan(0);
  });
});

describe('ShardRateLimiter', () => {
  it('applies rateLimitPercent to 1,000 records/s and 1 MiB/s per shard', () => {
    const clock = fakeClock();
    const l = new ShardRateLimiter(150, clock);
    let sent = 0;
    while (l.canSend()) {
      l.take(10);
      sent++;
    }
    expect(sent).toBe(1_500);
    clock.advance(100);
    expect(l.canSend()).toBe(true);

    const bytes = new ShardRateLimiter(100, clock);
    bytes.take(1024 * 1024);
    expect(bytes.canSend()).toBe(false);
    expect(bytes.msUntilOpen()).toBeGreaterThan(0);
    clock.advance(bytes.msUntilOpen());
    expect(bytes.canSend()).toBe(true);
  });

  it('throttled() stops sends to the shard until tokens refill', () => {
    const clock = fakeClock();
    const l = new ShardRateLimiter(150, clock);
    expect(l.canSend()).toBe(true);
    l.throttled();
    expect(l.canSend()).toBe(false);
    clock.advance(l.msUntilOpen());
    expect(l.canSend()).toBe(true);
  });
});

describe('Deque', () => {
  it('is FIFO, prepends retries in order, and drains', () => {
    const q = new Deque<number>();
    for (let i = 0; i < 3000; i++) q.push(i);
    for (let i = 0; i < 2000; i++) expect(q.shift()).toBe(i);
    q.unshiftAll([-2, -1]);
    expect(q.length).toBe(1002);
    expect(q.shift()).toBe(-2);
    expect(q.peek()).toBe(-1);
    const rest = q.drain();
    expect(rest[0]).toBe(-1);
    expect(rest.at(-1)).toBe(2999);
    expect(q.length).toBe(0);
    expect(q.shift()).toBeUndefined();
  });
});
