import type { FetchedBatch } from './types.js';

/**
 * The bounded hand-over between a fetcher's read loop (producer) and the shard consumer (`next()`): at most
 * `capacity` batches wait, so a slow handler holds the reads back. Shared by the polling and EFO fetchers; not part of the public API.
 */
export class BatchQueue {
  private readonly batches: FetchedBatch[] = [];
  private wakeConsumer?: () => void;
  private wakeProducer?: () => void;
  private failure?: unknown;
  private done = false;

  constructor(
    private readonly capacity: number,
    private readonly signal: AbortSignal,
  ) {}

  /** The next batch; waits for one; undefined once the producer finished or the fetcher was closed. */
  async next(): Promise<FetchedBatch | undefined> {
    for (;;) {
      const b = this.batches.shift();
      if (b) {
        this.wakeProducer?.();
        return b;
      }
      if (this.failure) throw this.failure;
      if (this.done || this.signal.aborted) return undefined;
      await new Promise<void>((r) => {
        this.wakeConsumer = r;
      });
      this.wakeConsumer = undefined;
    }
  }

  /** Hands a batch to the consumer. */
  push(batch: FetchedBatch): void {
    this.batches.push(batch);
    this.wakeConsumer?.();
  }

  /** Waits while `capacity` batches are queued (back-pressure), or until the fetcher is aborted. */
  async waitForRoom(): Promise<void> {
    while (this.batches.length >= this.capacity && !this.signal.aborted) {
      await new Promise<void>((r) => {
        this.wakeProducer = r;
      });
      this.wakeProducer = undefined;
    }
  }

  /** Whether the producer has to wait before pushing again. */
  get full(): boolean {
    return this.batches.length >= this.capacity;
  }

  /** Ends the stream: `next()` rethrows `failure` if given, else returns undefined once drained. */
  finish(failure?: unknown): void {
    this.failure = failure;
    this.done = true;
    this.wakeConsumer?.();
  }

  /** Drops queued batches and wakes both sides (call after aborting the signal). */
  close(): void {
    this.batches.length = 0;
    this.wakeConsumer?.();
    this.wakeProducer?.();
  }
}
