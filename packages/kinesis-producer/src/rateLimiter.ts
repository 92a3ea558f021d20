import type { Clock } from '@awskit/core';

/**
 * A token bucket that may go into debt: a caller that sees tokens available takes what it needs even if that is
 * more than is left, and the bucket then stays closed until refilled above zero. This lets a record of any size
 * through while holding the average rate.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly capacity: number,
    readonly perSecond: number,
    private readonly clock: Clock,
  ) {
    this.tokens = capacity;
    this.last = clock.now();
  }

  private refill(): void {
    const now = this.clock.now();
    if (now > this.last) {
      this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) * this.perSecond) / 1000);
      this.last = now;
    }
  }

  /** Tokens available now (negative while in debt). */
  available(): number {
    this.refill();
    return this.tokens;
  }

  take(n: number): void {
    this.refill();
    this.tokens -= n;
  }

  /** Empties the bucket (after the service throttled us). */
  drain(): void {
    this.refill();
    this.tokens = Math.min(this.tokens, 0);
  }

  /** Milliseconds until the bucket is above zero again (0 when it is now). */
  msUntilOpen(): number {
    const t = this.available();
    return t > 0 ? 0 : Math.ceil(((-t + 1e-9) * 1000) / this.perSecond) + 1;
  }
}

/**
 * The per-shard limiter the KPL uses: a records bucket and a bytes bucket, each refilled at `rateLimitPercent`
 * of the shard limit (1,000 records/s, 1 MiB/s). Capacity is one second of refill, so a new producer does not
 * burst far above the shard limit.
 */
export class ShardRateLimiter {
  private readonly records: TokenBucket;
  private readonly bytes: TokenBucket;

  constructor(rateLimitPercent: number, clock: Clock) {
    const recs = (1000 * rateLimitPercent) / 100;
    const bytes = (1024 * 1024 * rateLimitPercent) / 100;
    this.records = new TokenBucket(recs, recs, clock);
    this.bytes = new TokenBucket(bytes, bytes, clock);
  }

  /** True when one more Kinesis record may be sent to the shard now. */
  canSend(): boolean {
    return this.records.available() > 0 && this.bytes.available() > 0;
  }

  /** Bytes that may be sent before the bytes bucket closes (at least 0). */
  bytesAvailable(): number {
    return Math.max(0, this.bytes.available());
  }

  take(bytes: number): void {
    this.records.take(1);
    this.bytes.take(bytes);
  }

  /** Called when Kinesis throttled the shard: stop sending until a refill. */
  throttled(): void {
    this.records.drain();
    this.bytes.drain();
  }

  /** Milliseconds until {@link canSend} is true again. */
  msUntilOpen(): number {
    return Math.max(this.records.msUntilOpen(), this.bytes.msUntilOpen());
  }
}
