import type { KinesisProducer } from '@awskit/kinesis-producer';
import type { Ack } from './report.js';
import type { Rng } from './rng.js';

/**
 * Writes keyed, sequenced records (`{k, s, r}`: partition key, per-key counter, run id) through a producer at a
 * steady rate, and remembers where each acknowledged record landed. With an `ordered` producer, each key's records
 * reach Kinesis in `s` order, so a per-key reorder seen by a reader is the reader's doing.
 */
export class SequencedLoad {
  /** `key:seq` → where the producer was told it landed. */
  readonly acked = new Map<string, Ack>();
  /** Puts that settled with an error, by error code. */
  readonly failedByCode: Record<string, number> = {};
  sent = 0;
  private readonly nextSeq: number[];
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly producer: KinesisProducer,
    private readonly rng: Rng,
    private readonly runId: string,
    private readonly keys: number,
  ) {
    this.nextSeq = Array.from({ length: keys }, () => 0);
  }

  /** Puts one record of a random key. */
  putOne(): void {
    const k = this.rng.int(0, this.keys - 1);
    const key = `k${k}`;
    const seq = this.nextSeq[k]!++;
    const id = `${key}:${seq}`;
    this.sent++;
    const p = this.producer
      .put({
        partitionKey: key,
        data: new TextEncoder().encode(JSON.stringify({ k: key, s: seq, r: this.runId })),
      })
      .then(
        (r) => {
          this.acked.set(id, {
            shardId: r.shardId,
            sequenceNumber: r.sequenceNumber,
            subSequenceNumber: r.subSequenceNumber ?? 0,
          });
        },
        (e: { code?: string; name?: string }) => {
          const code = e.code ?? e.name ?? 'unknown';
          this.failedByCode[code] = (this.failedByCode[code] ?? 0) + 1;
        },
      )
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  /** Puts `recordsPerSecond` for `durationMs` (waiting for capacity when the producer is full). */
  async run(durationMs: number, recordsPerSecond: number): Promise<void> {
    const start = Date.now();
    for (;;) {
      const elapsed = Date.now() - start;
      if (elapsed >= durationMs) break;
      const due = Math.floor((elapsed * recordsPerSecond) / 1000);
      while (this.sent < due) {
        if (this.producer.isFull) await this.producer.waitForCapacity();
        this.putOne();
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Waits until every put has settled. */
  async settled(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  get failed(): number {
    return Object.values(this.failedByCode).reduce((a, b) => a + b, 0);
  }
}
