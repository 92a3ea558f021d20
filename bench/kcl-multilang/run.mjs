#!/usr/bin/env node
import { createRequire } from 'node:module';
// KCL MultiLang benchmark on the local AWS, default settings on both sides:
//  - records/s through the MultiLang path (MultiLangDaemon + one aws-kcl child per shard, JSON over stdio) vs the
//    in-process consumer with a KCL-style processor doing the same work (decode, checkpoint every batch), on the
//    same pre-filled stream; both measured by the consumer's own records-processed metric;
//  - daemon start → first record processed (includes spawning node + loading aws-kcl per shard).
// Rounds are interleaved so both readers see the same machine state. BENCH_RUNS (default 3), BENCH_RECORDS.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MultiLangDaemon, parseKclProperties } from '../../packages/kcl-multilang/dist/index.js';
import { KinesisConsumer } from '../../packages/kinesis-consumer/dist/index.js';
import { startLocalAws } from '../../packages/local/dist/index.js';

process.removeAllListeners('warning');
const here = fileURLToPath(new URL('.', import.meta.url));
const require = createRequire(join(here, '../../packages/kinesis-consumer/package.json'));
const { KinesisClient, CreateStreamCommand, DescribeStreamSummaryCommand, PutRecordsCommand } =
  require('@aws-sdk/client-kinesis');
const { NodeHttpHandler } = require('@smithy/node-http-handler');

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const RECORDS = Number(process.env.BENCH_RECORDS ?? 6_000);
const SHARDS = 2;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let n = 0;
const unique = (p) => `${p}-${Date.now().toString(36)}-${n++}`;

const aws = await startLocalAws({ port: 0 });
const creds = { accessKeyId: 'test', secretAccessKey: 'test' };
const clientOptions = { endpoint: aws.endpoint, region: 'us-east-1', credentials: creds, env: {} };
const kinesis = new KinesisClient({ ...clientOptions, requestHandler: new NodeHttpHandler() });

async function waitFor(cond, timeoutMs = 120_000) {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timeout');
    await sleep(10);
  }
}

/** Counts records processed (after the processor finished the batch) through the consumer's metric. */
function counter() {
  const c = { total: 0, first: 0, last: 0 };
  c.metrics = {
    increment(name, value = 1) {
      if (name !== 'kinesis_consumer_records_processed_total') return;
      const now = performance.now();
      if (!c.total) c.first = now;
      c.total += value;
      c.last = now;
    },
    gauge() {},
    observe() {},
  };
  return c;
}

async function runInProcess(stream) {
  const c = counter();
  const started = performance.now();
  const consumer = new KinesisConsumer({
    streamName: stream,
    applicationName: unique('inproc'),
    initialPosition: 'TRIM_HORIZON',
    clientOptions,
    metrics: c.metrics,
    processor: {
      processRecords: async ({ records, checkpointer }) => {
        let bytes = 0;
        for (const r of records) bytes += Buffer.from(r.data).length;
        if (bytes < 0) throw new Error('impossible');
        await checkpointer.checkpoint(records[records.length - 1]);
      },
    },
  });
  await consumer.start();
  await waitFor(() => c.total >= RECORDS);
  await consumer.stop();
  return result(c, started);
}

async function runMultiLang(stream) {
  const c = counter();
  const properties = parseKclProperties(
    [
      `executableName = ${process.execPath} processor.cjs`,
      `streamName = ${stream}`,
      `applicationName = ${unique('multilang')}`,
      'initialPositionInStream = TRIM_HORIZON',
      'retrievalMode = POLLING',
    ].join('\n'),
  );
  const started = performance.now();
  const daemon = new MultiLangDaemon({
    properties,
    cwd: here,
    env: { ...process.env, NODE_PATH: join(here, '../../packages/kcl-multilang/node_modules') },
    clientOptions,
    metrics: c.metrics,
  });
  await daemon.start();
  await waitFor(() => c.total >= RECORDS);
  await daemon.stop();
  const failures = Object.values(daemon.stats().childFailures).reduce((a, b) => a + b, 0);
  if (failures) throw new Error(`${failures} record processor failures`);
  return result(c, started);
}

function result(c, started) {
  if (c.total !== RECORDS) throw new Error(`processed ${c.total} records, expected ${RECORDS}`);
  return {
    startToLast: RECORDS / ((c.last - started) / 1000),
    firstToLast: RECORDS / ((c.last - c.first) / 1000),
    startToFirstMs: c.first - started,
  };
}

const stream = unique('bench-kcl');
await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: SHARDS }));
await waitFor(async () => {
  const d = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
  return d.StreamDescriptionSummary.StreamStatus === 'ACTIVE';
});
const payload = 'x'.repeat(80);
for (let i = 0; i < RECORDS; i += 500) {
  const batch = Array.from({ length: Math.min(500, RECORDS - i) }, (_, j) => ({
    PartitionKey: `k${i + j}`,
    Data: new TextEncoder().encode(`${i + j}:${payload}`),
  }));
  const r = await kinesis.send(new PutRecordsCommand({ StreamName: stream, Records: batch }));
  if (r.FailedRecordCount) throw new Error('put failed');
}

const results = { inproc: [], multilang: [] };
for (let round = 0; round < RUNS; round++) {
  // Interleaved, alternating which goes first.
  const order = round % 2 ? ['multilang', 'inproc'] : ['inproc', 'multilang'];
  for (const which of order)
    results[which].push(which === 'inproc' ? await runInProcess(stream) : await runMultiLang(stream));
}

const m = (which, k) => median(results[which].map((r) => r[k]));
const fmt = (x) => Math.round(x).toLocaleString('en-US').replace(/,/g, ' ');
console.log(
  `KCL MultiLang vs in-process consumer: ${RECORDS} pre-filled records (~90 B) on ${SHARDS} shards, local AWS, defaults,`,
);
console.log(
  `processor decodes every record and checkpoints every batch; median of ${RUNS} interleaved rounds\n`,
);
console.log('| path | records/s, start → last | records/s, first → last | start → first record |');
console.log('|---|---:|---:|---:|');
for (const [which, label] of [
  ['inproc', 'in-process consumer (KCL-style processor)'],
  ['multilang', 'MultiLang daemon + aws-kcl child per shard'],
])
  console.log(
    `| ${label} | ${fmt(m(which, 'startToLast'))} | ${fmt(m(which, 'firstToLast'))} | ${fmt(m(which, 'startToFirstMs'))} ms |`,
  );
console.log(
  `| MultiLang ÷ in-process | ${(m('multilang', 'startToLast') / m('inproc', 'startToLast')).toFixed(2)}× | ${(m('multilang', 'firstToLast') / m('inproc', 'firstToLast')).toFixed(2)}× | +${fmt(m('multilang', 'startToFirstMs') - m('inproc', 'startToFirstMs'))} ms |`,
);
kinesis.destroy();
await aws.stop();
