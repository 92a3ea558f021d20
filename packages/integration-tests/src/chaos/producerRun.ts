/**
 * Producer chaos: keyed, sequenced records go through the fault proxy (throttling, partial PutRecords failures,
 * connections reset after the request was forwarded, and the endpoint gone for longer than a retry but shorter than
 * the records' TTL) with an `ordered` KinesisProducer. Then the stream is read back directly (no proxy) and every
 * acknowledged record is looked for at the position its PutResult named.
 */
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  waitUntilStreamExists,
} from '@aws-sdk/client-kinesis';
import { createClient } from '@awskit/core';
import { deaggregate, listShards } from '@awskit/kinesis-aggregation';
import { KinesisProducer } from '@awskit/kinesis-producer';
import { type ChaosProxy, producerFaultRules, type StartProxy, startChaosProxy } from './faults.js';
import { SequencedLoad } from './load.js';
import { createRng } from './rng.js';

/** Options of {@link runProducerChaos}. */
export interface ProducerRunOptions {
  endpoint: string;
  seed: number;
  durationMs: number;
  /** @default 4 */
  shards?: number;
  /** @default 24 */
  keys?: number;
  /** @default 300 */
  recordsPerSecond?: number;
  /** @default 0.05 */
  faultProbability?: number;
  /** Endpoint outage: longer than `retryMaxDelayMs` (5 s by default), shorter than the TTL (30 s). @default 6_000 */
  outageMs?: number;
  startProxy?: StartProxy;
  log?: (line: string) => void;
}

/** The figures of one producer run. */
export interface ProducerRunResult {
  seed: number;
  durationMs: number;
  sent: number;
  produced: number;
  /** Distinct acknowledged records found in the stream. */
  inStream: number;
  lost: number;
  /** Acknowledged records not at the position their PutResult named. */
  wrongAcks: number;
  /** Extra copies of a record in the stream (retries after a response was lost). */
  duplicated: number;
  reorders: number;
  /** Puts that failed (goal 0: the outage is shorter than the TTL). */
  failed: number;
  failedByCode: Record<string, number>;
  unacknowledgedInStream: number;
  retries: number;
  faults: Record<string, number>;
  outageMs: number;
  evidence: string[];
  passed: boolean;
}

const CREDS = { accessKeyId: 'test', secretAccessKey: 'test' };

/** Runs the producer chaos scenario. */
export async function runProducerChaos(options: ProducerRunOptions): Promise<ProducerRunResult> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const rng = createRng(options.seed).fork('producer');
  const region = 'us-east-1';
  const runId = `producer-${options.seed}-${Date.now().toString(36)}`;
  const streamName = `chaos-${runId}`;
  const kinesis = await createClient(KinesisClient, {
    endpoint: options.endpoint,
    region,
    credentials: CREDS,
    env: {},
  });
  await kinesis.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: options.shards ?? 4 }));
  await waitUntilStreamExists(
    { client: kinesis, maxWaitTime: 60, minDelay: 0.2, maxDelay: 1 },
    { StreamName: streamName },
  );
  const outageMs = options.outageMs ?? 6_000;
  // The outage starts a little after production does (the proxy's clock starts when it does).
  const outageAtMs = rng.int(Math.round(options.durationMs * 0.2), Math.round(options.durationMs * 0.4));
  const proxy: ChaosProxy = await (options.startProxy ?? startChaosProxy)({
    target: options.endpoint,
    rules: producerFaultRules(options.faultProbability ?? 0.05, outageAtMs, outageMs),
    seed: rng.fork('proxy').int(0, 0xffff_fff0),
  });
  log(`producer seed ${options.seed}: stream ${streamName}, outage ${outageMs} ms at ${outageAtMs} ms`);
  const producer = new KinesisProducer({
    streamName,
    clientOptions: { endpoint: proxy.endpoint, region, credentials: CREDS, env: {} },
    ordered: true,
  });
  const load = new SequencedLoad(producer, rng.fork('load'), runId, options.keys ?? 24);
  await load.run(options.durationMs, options.recordsPerSecond ?? 300);
  await producer.close();
  await load.settled();
  const faults = proxy.counts();
  await proxy.close();

  // Read everything back directly.
  const shards = await listShards(kinesis, { streamName });
  interface Found {
    key: string;
    seq: number;
    runId: string;
    shard: string;
    sn: string;
    sub: number;
  }
  const found: Found[] = [];
  for (const shard of shards) {
    let it = (
      await kinesis.send(
        new GetShardIteratorCommand({
          StreamName: streamName,
          ShardId: shard.ShardId!,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      )
    ).ShardIterator;
    while (it) {
      const r = await kinesis.send(new GetRecordsCommand({ ShardIterator: it, Limit: 10_000 }));
      for (const rec of r.Records ?? [])
        for (const u of deaggregate({
          data: rec.Data!,
          partitionKey: rec.PartitionKey!,
          sequenceNumber: rec.SequenceNumber!,
        }).records) {
          const body = JSON.parse(new TextDecoder().decode(u.data)) as { k: string; s: number; r: string };
          found.push({
            key: body.k,
            seq: body.s,
            runId: body.r,
            shard: shard.ShardId!,
            sn: u.sequenceNumber,
            sub: u.subSequenceNumber,
          });
        }
      if (!r.Records?.length && r.MillisBehindLatest === 0) break;
      it = r.NextShardIterator;
    }
  }
  await kinesis.send(new DeleteStreamCommand({ StreamName: streamName })).catch(() => {});

  const evidence: string[] = [];
  const note = (s: string) => {
    if (evidence.length < 20) evidence.push(s);
  };
  const ours = found.filter((f) => f.runId === runId);
  const at = new Map(ours.map((f) => [`${f.shard}/${f.sn}/${f.sub}`, `${f.key}:${f.seq}`]));
  const seen = new Set(ours.map((f) => `${f.key}:${f.seq}`));
  let lost = 0;
  let wrongAcks = 0;
  for (const [id, ack] of load.acked) {
    if (!seen.has(id)) {
      lost++;
      note(`lost ${id} (acknowledged at ${ack.shardId} ${ack.sequenceNumber}/${ack.subSequenceNumber})`);
    } else if (at.get(`${ack.shardId}/${ack.sequenceNumber}/${ack.subSequenceNumber}`) !== id) {
      wrongAcks++;
      note(
        `PutResult of ${id} names ${ack.shardId} ${ack.sequenceNumber}/${ack.subSequenceNumber}, which holds ${at.get(`${ack.shardId}/${ack.sequenceNumber}/${ack.subSequenceNumber}`) ?? 'nothing'}`,
      );
    }
  }
  // Per key, stream order (no reshard here: one shard per key): first copies must come in seq order.
  const byKey = new Map<string, Found[]>();
  for (const f of ours) byKey.set(f.key, [...(byKey.get(f.key) ?? []), f]);
  let reorders = 0;
  for (const [key, list] of byKey) {
    list.sort((a, b) => {
      const x = BigInt(a.sn);
      const y = BigInt(b.sn);
      return a.shard.localeCompare(b.shard) || (x < y ? -1 : x > y ? 1 : a.sub - b.sub);
    });
    const first = new Set<number>();
    let max = -1;
    for (const f of list) {
      if (first.has(f.seq)) continue;
      first.add(f.seq);
      if (f.seq < max) {
        reorders++;
        note(`reorder on key ${key}: seq ${f.seq} at ${f.shard} ${f.sn}/${f.sub} after seq ${max}`);
      } else max = f.seq;
    }
  }
  let unacknowledgedInStream = 0;
  for (const id of seen) if (!load.acked.has(id)) unacknowledgedInStream++;
  const result: ProducerRunResult = {
    seed: options.seed,
    durationMs: Date.now() - started,
    sent: load.sent,
    produced: load.acked.size,
    inStream: [...load.acked.keys()].filter((id) => seen.has(id)).length,
    lost,
    wrongAcks,
    duplicated: ours.length - seen.size,
    reorders,
    failed: load.failed,
    failedByCode: load.failedByCode,
    unacknowledgedInStream,
    retries: producer.stats.retries,
    faults,
    outageMs,
    evidence,
    passed: false,
  };
  result.passed = lost === 0 && wrongAcks === 0 && reorders === 0 && load.failed === 0;
  return result;
}
