import { type Clock, systemClock } from '@awskit/core';

/** Counts events in one-second buckets and reports the rate over the last few complete seconds. */
export class RateMeter {
  private readonly buckets: number[];
  private bucketSecond = 0;
  total = 0;

  constructor(
    private readonly windowSeconds = 5,
    private readonly clock: Clock = systemClock,
  ) {
    this.buckets = new Array(windowSeconds + 1).fill(0);
    this.bucketSecond = Math.floor(clock.now() / 1000);
  }

  private roll(): number {
    const now = Math.floor(this.clock.now() / 1000);
    const gap = now - this.bucketSecond;
    if (gap > 0) {
      for (let i = 1; i <= Math.min(gap, this.buckets.length); i++)
        this.buckets[(this.bucketSecond + i) % this.buckets.length] = 0;
      this.bucketSecond = now;
    }
    return now;
  }

  add(n = 1): void {
    const now = this.roll();
    const i = now % this.buckets.length;
    this.buckets[i] = this.buckets[i]! + n;
    this.total += n;
  }

  /**
   * Events per second over the last `windowSeconds` seconds: the complete seconds before this one plus the part of
   * the current second that has passed (so a burst shows up at once, not a second later).
   */
  perSecond(): number {
    const now = this.roll();
    let sum = 0;
    for (let s = 0; s < this.windowSeconds; s++) sum += this.buckets[(now - s) % this.buckets.length]!;
    const partial = (this.clock.now() % 1000) / 1000;
    return sum / (this.windowSeconds - 1 + Math.max(partial, 0.001));
  }
}
