#!/usr/bin/env node
// Failover at more shards (issue 17 item 5), measured from outside: two worker processes at defaults share N shards
// under a steady load (~100 records/s), one is SIGKILLed, and a marker record is put on each of its shards right
// after the kill. Failover = kill → the survivor's handler has seen the marker of every orphaned shard. Per orphaned
// shard the survivor logs when it took the lease, when its GetShardIterator and first GetRecords were sent and
// answered, and when the handler saw the marker, so the time can be split by step. Next to it, in the same run, the
// bare emulator: GetShardIterator + GetRecords on N/2 shards at once from one fresh client (what a takeover of N/2
// shards costs the emulator without any consumer logic).
// Env: BENCH_RUNS (default 3), BENCH_FAILOVER_SHARDS (default "8,32"), BENCH_LEASE_MODES (default "worker-liveness,counter").
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startLocalAws } from '../../packages/local/dist/index.js';

process.removeAllListeners('warning');
const here = fileURLToPath(new URL('.', import.meta.url));
const require = createRequire(join(here, '../../packages/kinesis-consumer/package.json'));
const {
  KinesisClient,
  CreateStreamCommand,
  ListShardsCommand,
  PutRecordsCommand,
  GetShardIteratorCommand,
  GetRecordsCommand,
  DescribeStreamSummaryCommand,
} = require('@aws-sdk/client-kinesis');
const { NodeHttpHandler } = require('@smithy/node-http-handler');

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SHARDS = (process.env.BENCH_FAILOVER_SHARDS ?? '8,32').split(',').map(Number);
const MODES = (process.env.BENCH_LEASE_MODES ?? 'worker-liveness,counter').split(',');
const RATE = 100;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// The kill's random delay spans at least one heartbeat/renewal interval (up to 3.3 s when stretched), so every
// phase of the cycle is sampled.
const PHASE_SPAN_MS = Math.max(3_400, Number(process.env.BENCH_RENEW_MS ?? 0));
const now = () => performance.timeOrigin + performance.now();
let n = 0;
const unique = (p) => `${p}-${Date.now().toString(36)}-${n++}`;

const aws = await startLocalAws({ port: 0 });
const creds = { accessKeyId: 'test', secretAccessKey: 'test' };
const newKinesis = () =>
  new KinesisClient({
    endpoint: aws.endpoint,
    region: 'us-east-1',
    credentials: creds,
    requestHandler: new NodeHttpHandler(),
  });
const kinesis = newKinesis();

async function waitFor(cond, timeoutMs = 120_000, what = 'condition') {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timeout: ${what}`);
    await sleep(50);
  }
}

async function createStream(shards) {
  const name = unique('failover');
  await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  await waitFor(async () => {
    const d = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }));
    return d.StreamDescriptionSummary.StreamStatus === 'ACTIVE';
  });
  const list = (await kinesis.send(new ListShardsCommand({ StreamName: name }))).Shards;
  return { name, shards: list };
}

function startWorker(stream, app, workerId, leaseMode) {
  const child = spawn(
    process.execPath,
    [join(here, 'failoverWorker.mjs'), aws.endpoint, stream.name, app, workerId, leaseMode],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_NO_WARNINGS: '1' } },
  );
  const w = { child, held: new Set(), events: [] };
  createInterface({ input: child.stdout }).on('line', (l) => {
    try {
      const m = JSON.parse(l);
      w.events.push(m);
      if (m.event === 'acquired') w.held.add(m.shardId);
      if (m.event === 'lost') w.held.delete(m.shardId);
    } catch {}
  });
  return w;
}

/** ~RATE records/s over random partition keys, in 10 puts a second. */
function steadyLoad(stream) {
  let on = true;
  const done = (async () => {
    let i = 0;
    while (on) {
      const t = performance.now();
      await kinesis
        .send(
          new PutRecordsCommand({
            StreamName: stream.name,
            Records: Array.from({ length: RATE / 10 }, () => ({
              PartitionKey: `k${i++}`,
              Data: new TextEncoder().encode(`load-${i}`),
            })),
          }),
        )
        .catch(() => {});
      await sleep(Math.max(0, 100 - (performance.now() - t)));
    }
  })();
  return async () => {
    on = false;
    await done;
  };
}

async function failoverOnce(shards, leaseMode) {
  const stream = await createStream(shards);
  const app = unique('app');
  const doomed = startWorker(stream, app, 'doomed', leaseMode);
  await waitFor(() => doomed.held.size === shards, 120_000, 'doomed holds all');
  const survivor = startWorker(stream, app, 'survivor', leaseMode);
  await waitFor(
    () =>
      doomed.held.size === shards / 2 &&
      survivor.held.size === shards / 2 &&
      new Set([...doomed.held, ...survivor.held]).size === shards,
    120_000,
    'balanced',
  );
  const stopLoad = steadyLoad(stream);
  // Kill at a random point of the heartbeat/renewal cycle: the time to failover depends on it (from about
  // lease − interval to lease + interval after the kill), and a fixed delay after the balanced state would sample
  // one phase only.
  await sleep(3_000 + Math.random() * PHASE_SPAN_MS);
  const orphaned = [...doomed.held];
  doomed.child.kill('SIGKILL');
  const killedAt = now();
  const marker = `marker-${Math.round(killedAt)}`;
  await kinesis.send(
    new PutRecordsCommand({
      StreamName: stream.name,
      Records: stream.shards
        .filter((s) => orphaned.includes(s.ShardId))
        .map((s) => ({
          PartitionKey: 'm',
          ExplicitHashKey: s.HashKeyRange.StartingHashKey,
          Data: new TextEncoder().encode(marker),
        })),
    }),
  );
  const seen = () =>
    new Set(survivor.events.filter((e) => e.event === 'marker' && e.marker === marker).map((e) => e.shardId));
  await waitFor(() => orphaned.every((s) => seen().has(s)), 120_000, 'every marker');
  // The emulator under the same load (the survivor polling every shard, ~RATE puts/s), no consumer logic: a fresh
  // client reads the orphaned shards' iterators and first records at once, as the survivor just did.
  const bareUnderLoad = await bareReads(stream, orphaned);
  await stopLoad();
  survivor.child.kill('SIGKILL');
  // Per orphaned shard, the first of each step after the kill (ms after the kill).
  const after = (event, shardId) =>
    survivor.events.find((e) => e.event === event && e.shardId === shardId && e.t >= killedAt);
  const steps = orphaned.map((shardId) => {
    const take = after('acquired', shardId);
    const it = after('GetShardIterator', shardId);
    const gr = after('firstGetRecords', shardId);
    const mk = survivor.events.find(
      (e) => e.event === 'marker' && e.marker === marker && e.shardId === shardId,
    );
    return {
      take: take.t - killedAt,
      iteratorSent: it ? it.sent - killedAt : Number.NaN,
      iterator: it ? it.t - killedAt : Number.NaN,
      firstGetRecordsSent: gr ? gr.sent - killedAt : Number.NaN,
      firstGetRecords: gr ? gr.t - killedAt : Number.NaN,
      marker: mk.t - killedAt,
    };
  });
  return { failover: Math.max(...steps.map((s) => s.marker)), steps, bareUnderLoad };
}

/** GetShardIterator (TRIM_HORIZON) + one GetRecords on each of `shardIds` at once from a fresh client. */
async function bareReads(stream, shardIds) {
  const client = newKinesis();
  const t0 = performance.now();
  const per = await Promise.all(
    shardIds.map(async (shardId) => {
      const it = await client.send(
        new GetShardIteratorCommand({
          StreamName: stream.name,
          ShardId: shardId,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      );
      const t1 = performance.now() - t0;
      await client.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator, Limit: 10_000 }));
      return { iterator: t1, records: performance.now() - t0 };
    }),
  );
  client.destroy();
  return {
    lastIterator: Math.max(...per.map((p) => p.iterator)),
    last: Math.max(...per.map((p) => p.records)),
  };
}

/** The idle emulator: the same reads on `count` shards of a fresh stream with no load and no consumer. */
async function bareTakeover(count) {
  const stream = await createStream(count * 2);
  return bareReads(
    stream,
    stream.shards.slice(0, count).map((x) => x.ShardId),
  );
}

const s = (ms) => `${(ms / 1000).toFixed(2)} s`;
try {
  const rows = [];
  for (const leaseMode of MODES)
    for (const shards of SHARDS) {
      const runs = [];
      for (let i = 0; i < RUNS; i++) {
        const r = await failoverOnce(shards, leaseMode);
        process.stderr.write(
          `[failover] ${shards} shards ${leaseMode} run ${i + 1}: ${s(r.failover)}; per shard (take / iterator sent-answered / first GetRecords sent-answered / marker, s after kill): ${r.steps
            .sort((a, b) => a.marker - b.marker)
            .map(
              (x) =>
                `${(x.take / 1000).toFixed(2)}/${(x.iteratorSent / 1000).toFixed(2)}-${(x.iterator / 1000).toFixed(2)}/${(x.firstGetRecordsSent / 1000).toFixed(2)}-${(x.firstGetRecords / 1000).toFixed(2)}/${(x.marker / 1000).toFixed(2)}`,
            )
            .join(' ')}\n`,
        );
        runs.push(r);
      }
      const bare = [];
      for (let i = 0; i < RUNS; i++) bare.push(await bareTakeover(shards / 2));
      const pick = (k) => runs.map((r) => median(r.steps.map((x) => x[k])));
      const last = (k) => runs.map((r) => Math.max(...r.steps.map((x) => x[k])));
      rows.push({
        shards,
        leaseMode,
        failover: runs.map((r) => r.failover),
        lastTake: median(last('take')),
        lastIterator: median(last('iterator')),
        lastFirstGetRecords: median(last('firstGetRecords')),
        medianTake: median(pick('take')),
        medianMarker: median(pick('marker')),
        bareIterator: median(bare.map((b) => b.lastIterator)),
        bare: median(bare.map((b) => b.last)),
        loadedIterator: median(runs.map((r) => r.bareUnderLoad.lastIterator)),
        loaded: median(runs.map((r) => r.bareUnderLoad.last)),
      });
    }
  console.log(
    `\nFailover under load (~${RATE} records/s, 2 worker processes at defaults, SIGKILL one, a marker on each of its shards); median of ${RUNS} runs. Step columns: the last orphaned shard to reach that step, s after the kill (median over runs). Emulator alone: GetShardIterator (TRIM_HORIZON) + one GetRecords on as many shards at once from a fresh client, no consumer logic — idle (a fresh stream, no load) and under the run's load (right after the failover, the survivor polling every shard and ~${RATE} puts/s).\n`,
  );
  console.log(
    '| shards | lease mode | failover median (runs) | last take | last GetShardIterator answered | last first GetRecords answered | median shard: take → marker | emulator alone, idle: last iterator / last GetRecords | emulator alone, under the load: last iterator / last GetRecords |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows)
    console.log(
      `| ${r.shards} | ${r.leaseMode} | ${s(median(r.failover))} (${r.failover.map((x) => (x / 1000).toFixed(2)).join(', ')}) | ${s(r.lastTake)} | ${s(r.lastIterator)} | ${s(r.lastFirstGetRecords)} | ${s(r.medianTake)} → ${s(r.medianMarker)} | ${s(r.bareIterator)} / ${s(r.bare)} | ${s(r.loadedIterator)} / ${s(r.loaded)} |`,
    );
} finally {
  await aws.stop();
}
