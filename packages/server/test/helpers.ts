import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { deaggregate, listShards } from '@awskit/kinesis-aggregation';

/** One user record read back from a stream (deaggregated). */
export interface ReadRecord {
  shardId: string;
  partitionKey: string;
  text: string;
}

/** Reads every user record of every shard from TRIM_HORIZON up to the tip (test helper, small streams only). */
export async function readAll(kinesis: KinesisClient, stream: string): Promise<ReadRecord[]> {
  const out: ReadRecord[] = [];
  const shards = await listShards(kinesis, { streamName: stream });
  for (const shard of shards) {
    let it = (
      await kinesis.send(
        new GetShardIteratorCommand({
          StreamName: stream,
          ShardId: shard.ShardId!,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      )
    ).ShardIterator;
    while (it) {
      const r = await kinesis.send(new GetRecordsCommand({ ShardIterator: it }));
      for (const rec of r.Records ?? []) {
        const { records } = deaggregate({
          data: rec.Data!,
          partitionKey: rec.PartitionKey!,
          sequenceNumber: rec.SequenceNumber!,
        });
        for (const u of records)
          out.push({
            shardId: shard.ShardId!,
            partitionKey: u.partitionKey,
            text: Buffer.from(u.data).toString('utf8'),
          });
      }
      if ((r.Records ?? []).length === 0 && (r.MillisBehindLatest ?? 0) === 0) break;
      it = r.NextShardIterator;
    }
  }
  return out;
}

/** Polls `fn` until it returns a truthy value (or throws after `timeoutMs`). */
export async function eventually<T>(
  fn: () => Promise<T> | T,
  timeoutMs = 30_000,
  everyMs = 100,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** POSTs events to the server's ingest route. */
export async function ingest(
  url: string,
  stream: string,
  body: unknown,
  opts: { query?: string; token?: string; contentType?: string } = {},
): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> {
  const headers: Record<string, string> = { 'content-type': opts.contentType ?? 'application/json' };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const r = await fetch(`${url}/v1/streams/${stream}/records${opts.query ? `?${opts.query}` : ''}`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await r.text();
  return {
    status: r.status,
    headers: r.headers,
    json: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}
