#!/usr/bin/env node
// Lease-table cost at default settings, counted (not timed): W worker consumers in this process share N leases;
// every shard is "busy" (a synthetic fetcher hands each consumer a one-record batch every second, so the Kinesis
// emulator is not in the way and only the lease table is measured). Once the leases are balanced, every worker's
// lease-table calls and the capacity units DynamoDB reports (ReturnConsumedCapacity TOTAL) are counted for a window
// and scaled to an hour. Next to it: the KCL 2.x at its published defaults (failover 10 s: renew every 3.308 s,
// every worker scans the table every 20.05 s), with the same Scan size. Both lease modes: 'counter' (every held lease
// renewed every second, every worker scans the lease table every second) and 'worker-liveness' (one liveness item
// per worker advanced every second, the small worker table read every second, the lease table scanned on change and
// every 20 s). Failover of both modes: run.mjs.
// Env: BENCH_COST_WINDOW_S (default 8), BENCH_COST_SIZES (e.g. "8x2,64x4"), BENCH_COST_MODES (default both).
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KinesisConsumer, LeaseTable } from '../../packages/kinesis-consumer/dist/index.js';
import { startLocalAws } from '../../packages/local/dist/index.js';

process.removeAllListeners('warning');
const here = fileURLToPath(new URL('.', import.meta.url));
const require = createRequire(join(here, '../../packages/kinesis-consumer/package.json'));
const {
  KinesisClient,
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
} = require('@aws-sdk/client-kinesis');
const { DynamoDBClient } = require('@aws-sdk/client-dynamodb');
const { NodeHttpHandler } = require('@smithy/node-http-handler');

const WINDOW_S = Number(process.env.BENCH_COST_WINDOW_S ?? 8);
const SIZES = (process.env.BENCH_COST_SIZES ?? '8x2,8x4,8x8,64x2,64x4,64x8,256x2,256x4,256x8')
  .split(',')
  .map((s) => s.split('x').map(Number));
const MODES = (process.env.BENCH_COST_MODES ?? 'counter,worker-liveness').split(',');
const KCL_RENEW_S = 3.308;
const KCL_SCAN_S = 20.05;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let n = 0;
const unique = (p) => `${p}-${Date.now().toString(36)}-${n++}`;

const aws = await startLocalAws({ port: 0 });
const creds = { accessKeyId: 'test', secretAccessKey: 'test' };
const clientOptions = { endpoint: aws.endpoint, region: 'us-east-1', credentials: creds, env: {} };
const kinesis = new KinesisClient({
  endpoint: aws.endpoint,
  region: 'us-east-1',
  credentials: creds,
  requestHandler: new NodeHttpHandler(),
});
const dynamo = new DynamoDBClient({ endpoint: aws.endpoint, region: 'us-east-1', credentials: creds });

async function waitFor(cond, timeoutMs = 120_000) {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timeout');
    await sleep(100);
  }
}

/** A busy shard without Kinesis: one record per second, sequence numbers counting up from the checkpoint. */
function busyFetcher({ start }) {
  let seq = start.sequenceNumber ? BigInt(start.sequenceNumber) : 10n ** 20n;
  let closed = false;
  return {
    async next() {
      for (let waited = 0; waited < 1000 && !closed; waited += 100) await sleep(100);
      if (closed) return undefined;
      seq += 1n;
      const record = { SequenceNumber: String(seq), Data: new Uint8Array([1]), PartitionKey: 'p' };
      return { records: [record], millisBehindLatest: 0, shardEnded: false };
    },
    close() {
      closed = true;
    },
  };
}

async function stream1() {
  const name = unique('cost');
  await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: 1 }));
  await waitFor(async () => {
    const d = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }));
    return d.StreamDescriptionSummary.StreamStatus === 'ACTIVE';
  });
  return name;
}

function sum(costs) {
  const out = { calls: {}, units: {}, readUnits: 0, writeUnits: 0 };
  for (const c of costs) {
    for (const [k, v] of Object.entries(c.calls)) out.calls[k] = (out.calls[k] ?? 0) + v;
    for (const [k, v] of Object.entries(c.units)) out.units[k] = (out.units[k] ?? 0) + v;
    out.readUnits += c.readUnits;
    out.writeUnits += c.writeUnits;
  }
  return out;
}

function diff(a, b) {
  const out = {
    calls: {},
    units: {},
    readUnits: b.readUnits - a.readUnits,
    writeUnits: b.writeUnits - a.writeUnits,
  };
  for (const k of Object.keys(b.calls)) out.calls[k] = b.calls[k] - (a.calls[k] ?? 0);
  for (const k of Object.keys(b.units)) out.units[k] = b.units[k] - (a.units[k] ?? 0);
  return out;
}

async function measure(leases, workers, leaseMode) {
  const streamName = await stream1();
  const app = unique('app');
  const table = new LeaseTable({ client: dynamo, tableName: app, sleep });
  await table.ensureTable();
  for (let i = 0; i < leases; i++)
    await table.createLeaseIfNotExists({
      leaseKey: `shardId-${String(i).padStart(12, '0')}`,
      leaseCounter: 0,
      checkpoint: 'TRIM_HORIZON',
      checkpointSubSequenceNumber: 0,
      ownerSwitchesSinceCheckpoint: 0,
      parentShardIds: [],
      childShardIds: [],
    });
  const ws = Array.from(
    { length: workers },
    (_, i) =>
      new KinesisConsumer({
        streamName,
        applicationName: app,
        workerId: `w${i}`,
        leaseMode,
        initialPosition: 'TRIM_HORIZON',
        clientOptions,
        fetcherFactory: busyFetcher,
        processor: () => {},
      }),
  );
  await Promise.all(ws.map((w) => w.start()));
  const target = Math.ceil(leases / workers);
  await waitFor(() => {
    const held = ws.map((w) => w.heldLeases().length);
    return held.reduce((a, b) => a + b, 0) === leases && held.every((h) => h <= target && h >= target - 1);
  });
  await sleep(3_000);
  const before = sum(ws.map((w) => w.leaseTableCost()));
  const t0 = performance.now();
  // Worker-liveness scans the lease table every 20 s when nothing changes: a window of at least that.
  await sleep((leaseMode === 'worker-liveness' ? Math.max(WINDOW_S, 20) : WINDOW_S) * 1000);
  const after = sum(ws.map((w) => w.leaseTableCost()));
  const seconds = (performance.now() - t0) / 1000;
  await Promise.all(ws.map((w) => w.stop()));
  const d = diff(before, after);
  const hour = 3600 / seconds;
  const writes = Object.entries(d.calls)
    .filter(([k]) => !['GetItem', 'Scan', 'Query'].includes(k))
    .reduce((a, [, v]) => a + v, 0);
  // The KCL's Scan of this table: 1 RCU per 4 KB of lease items (consistent), from one scan of the table here.
  const probe = new LeaseTable({ client: dynamo, tableName: app, sleep });
  await probe.listLeases();
  const rcuPerScan = probe.cost.units.Scan;
  const kclScansPerWorkerHour = 3600 / KCL_SCAN_S;
  return {
    leases,
    workers,
    leaseMode,
    writesPerLeaseHour: (writes * hour) / leases,
    wcuPerLeaseHour: (d.writeUnits * hour) / leases,
    rcuPerLeaseHour: (d.readUnits * hour) / leases,
    scansPerWorkerHour: (d.calls.Scan * hour) / workers,
    rcuPerWorkerHour: (d.readUnits * hour) / workers,
    checkpointsPerLeaseHour: undefined,
    byOp: Object.fromEntries(Object.entries(d.calls).map(([k, v]) => [k, Math.round((v * hour) / leases)])),
    kcl: {
      writesPerLeaseHour: 3600 / KCL_RENEW_S,
      // Same app checkpoint rate as awskit here (a busy shard, one checkpoint per checkpointIntervalMs = 5 s).
      writesWithCheckpointsPerLeaseHour: 3600 / KCL_RENEW_S + 3600 / 5,
      rcuPerLeaseHour: (workers * kclScansPerWorkerHour * rcuPerScan) / leases,
      scansPerWorkerHour: kclScansPerWorkerHour,
      rcuPerWorkerHour: kclScansPerWorkerHour * rcuPerScan,
    },
  };
}

const f = (x) => Math.round(x).toLocaleString('en-US');
try {
  const rows = [];
  for (const [leases, workers] of SIZES)
    for (const mode of MODES) rows.push(await measure(leases, workers, mode));
  console.log(
    `\nLease-table cost per hour at defaults (lease 3 s, renew/heartbeat 1 s, take cycle 1 s, checkpointIntervalMs 5 s), busy shards; counted over ${WINDOW_S} s windows. KCL 2.x: published defaults (renew 3.308 s, scan 20.05 s); in brackets with the same app checkpoints as awskit here (one per shard per 5 s). Reads are RCU (eventually consistent reads count half).\n`,
  );
  console.log(
    '| leases × workers | lease mode | awskit writes / lease-h (WCU) | awskit RCU / lease-h | awskit Scans / worker-h (RCU) | KCL writes / lease-h (+ same checkpoints) | KCL RCU / lease-h | KCL Scans / worker-h (RCU) | awskit calls / lease-h by op |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows)
    console.log(
      `| ${r.leases} × ${r.workers} | ${r.leaseMode} | ${f(r.writesPerLeaseHour)} (${f(r.wcuPerLeaseHour)}) | ${f(r.rcuPerLeaseHour)} | ${f(r.scansPerWorkerHour)} (${f(r.rcuPerWorkerHour)}) | ${f(r.kcl.writesPerLeaseHour)} (${f(r.kcl.writesWithCheckpointsPerLeaseHour)}) | ${f(r.kcl.rcuPerLeaseHour)} | ${f(r.kcl.scansPerWorkerHour)} (${f(r.kcl.rcuPerWorkerHour)}) | ${Object.entries(
        r.byOp,
      )
        .filter(([, v]) => v)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')} |`,
    );
} finally {
  await aws.stop();
}
