// An example consumer handler for `awskit serve --handler ./examples/handler.js`.
// Called with each batch of one shard, in order; the batch is checkpointed after the returned promise resolves.
// A rejection is retried with backoff (export `onError` returning 'skip' to move past a poison batch instead).

const decoder = new TextDecoder();
const counts = new Map();

/**
 * @param {import('@awskit/kinesis-consumer').ConsumerRecord[]} records
 * @param {import('@awskit/kinesis-consumer').BatchContext} ctx
 */
export default async function handle(records, ctx) {
  for (const record of records) {
    const event = JSON.parse(decoder.decode(record.data));
    const type = typeof event.type === 'string' ? event.type : 'unknown';
    counts.set(type, (counts.get(type) ?? 0) + 1);
  }
  if (process.env.HANDLER_VERBOSE)
    console.log(`${ctx.shardId}: ${records.length} records, lag ${ctx.millisBehindLatest ?? '?'} ms`);
}

/** After a failed batch: retry it (the default); return 'skip' to checkpoint past it after dead-lettering it. */
export function onError(error, info) {
  console.error(`handler failed on ${info.shardId} (attempt ${info.attempt}): ${error.message}`);
  return info.attempt >= 5 ? 'skip' : 'retry';
}

/** What the handler has counted so far (used by the tests). */
export function countsByType() {
  return Object.fromEntries(counts);
}
