import { KinesisProducer } from './producer.js';
import type { KinesisProducerOptions, ProducerStats, PutResult, UserRecord } from './types.js';

/** What {@link putRecords} resolves to. */
export interface PutRecordsSummary {
  /** One settled result per input record, in input order. */
  results: PromiseSettledResult<PutResult>[];
  succeeded: number;
  failed: number;
  stats: ProducerStats;
}

/**
 * One-shot: puts `records` through a short-lived {@link KinesisProducer} (aggregation, batching, retries) and
 * resolves when every record has settled. Never rejects for record failures: look at `results`.
 *
 * @example
 * const { failed } = await putRecords(records, { streamName: 'orders' });
 */
export async function putRecords(
  records: Iterable<UserRecord>,
  options: KinesisProducerOptions,
): Promise<PutRecordsSummary> {
  const producer = new KinesisProducer(options);
  const promises: Promise<PutResult>[] = [];
  try {
    for (const r of records) {
      if (producer.isFull) await producer.waitForCapacity();
      const p = producer.put(r);
      p.catch(() => {}); // settled below with allSettled; do not report it as unhandled meanwhile
      promises.push(p);
    }
  } finally {
    await producer.close();
  }
  const results = await Promise.allSettled(promises);
  const failed = results.filter((r) => r.status === 'rejected').length;
  return { results, succeeded: results.length - failed, failed, stats: producer.stats };
}
