#!/usr/bin/env node
// Lease-table cost at default settings, counted (not timed): W worker consumers in this process share N leases;
// every shard is "busy" (a synthetic fetcher hands each consumer a one-record batch every second, so the Kinesis
// emulator is not in the way and only the lease table is measured). Once the leases are balanced, every worker's
// lease-table calls and the capacity units DynamoDB reports (ReturnConsumedCapacity TOTAL) are counted for a window
// and scaled to an hour. Next to it: the KCL 2.x at its published defaults (failover 10 s: renew every 3.308 s,
// every worker scans the table every 20.05 s with an eventually consistent Scan — DynamoDBLeaseRefresher.list() sets
// no ConsistentRead), the Scan's size taken from this run's lease items without awskit's own attributes. Both lease
// modes: 'counter' (every held lease renewed every second, every worker scans the lease table every second) and
// 'worker-liveness' (each worker advances its entry of one roster item every second and gets the whole roster back
// from that write; the lease table is scanned when something changed and, as a safety net, about once per 20 s by
// the fleet). Failover of both modes: run.mjs.
// Env: BENCH_COST_WINDOW_S (default 8; worker-liveness windows are at least BENCH_COST_LIVENESS_WINDOW_S, default 60),
// BENCH_COST_SIZES (e.g. "8x2,64x4"), BENCH_COST_MODES (default both).
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
const { DynamoDBClient, ScanCommand } = require('@aws-sdk/client-dynamodb');
const { NodeHttpHandler } = require('@smithy/node-http-handler');

const WINDOW_S = Number(process.env.BENCH_COST_WINDOW_S ?? 8);
const LIVENESS_WINDOW_S = Number(process.env.BENCH_COST_LIVENESS_WINDOW_S ?? 60);
const SIZES = (process.env.BENCH_COST_SIZES ?? '8x2,8x4,8x8,64x2,64x4,64x8,256x2,256x4,256x8')
  .split(',')
  .map((s) => s.split('x').map(Number));
const MODES = (process.env.BENCH_COST_MODES ?? 'counter,worker-liveness').split(',');
// BENCH_LEASE_MS / BENCH_RENEW_MS: other lease timings than the defaults (lease 3 s, renew/heartbeat 1 s).
const TIMINGS = {
  ...(process.env.BENCH_LEASE_MS ? { leaseDurationMs: Number(process.env.BENCH_LEASE_MS) } : {}),
  ...(process.env.BENCH_RENEW_MS ? { renewIntervalMs: Number(process.env.BENCH_RENEW_MS) } : {}),
};
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

/** DynamoDB's item size as the lease table's cost counter computes it (names + values; a number ~ digits/2 + 1). */
const approxItemBytes = (item) =>
  Object.entries(item).reduce(
    (n, [k, v]) =>
      n +
      k.length +
      (v.S !== undefined
        ? Buffer.byteLength(v.S)
        : v.N !== undefined
          ? Math.ceil(v.N.length / 2) + 1
          : v.SS
            ? v.SS.reduce((a, x) => a + Buffer.byteLength(x), 0)
            : 8),
    0,
  );

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
        ...TIMINGS,
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
  // Worker-liveness: the fleet scans the lease table about once per 20 s and the shard-sync leader lists the
  // stream every 60 s: a window that covers both.
  await sleep((leaseMode === 'worker-liveness' ? Math.max(WINDOW_S, LIVENESS_WINDOW_S) : WINDOW_S) * 1000);
  const after = sum(ws.map((w) => w.leaseTableCost()));
  const seconds = (performance.now() - t0) / 1000;
  await Promise.all(ws.map((w) => w.stop()));
  const d = diff(before, after);
  const hour = 3600 / seconds;
  const writes = Object.entries(d.calls)
    .filter(([k]) => !['GetItem', 'Scan', 'Query'].includes(k))
    .reduce((a, [, v]) => a + v, 0);
  // The KCL's Scan of this table: eventually consistent, 0.5 RCU per 4 KB of lease items, the items as the KCL
  // writes them (this run's items without the awskit* attributes).
  let kclBytes = 0;
  let start;
  do {
    const r = await dynamo.send(new ScanCommand({ TableName: app, ExclusiveStartKey: start }));
    for (const item of r.Items ?? [])
      kclBytes += approxItemBytes(
        Object.fromEntries(Object.entries(item).filter(([k]) => !k.startsWith('awskit'))),
      );
    start = r.LastEvaluatedKey;
  } while (start);
  const rcuPerScan = Math.max(1, Math.ceil(kclBytes / 4096)) * 0.5;
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
    `\nLease-table cost per hour at ${Object.keys(TIMINGS).length ? `leaseDurationMs ${TIMINGS.leaseDurationMs ?? 3000}, renewIntervalMs ${TIMINGS.renewIntervalMs ?? 'a third of the lease'} and the other defaults (take cycle 1 s, checkpointIntervalMs 5 s)` : 'defaults (lease 3 s, renew/heartbeat 1 s, take cycle 1 s, checkpointIntervalMs 5 s)'}, busy shards; counted over ${WINDOW_S} s windows ('counter') and ${Math.max(WINDOW_S, LIVENESS_WINDOW_S)} s windows ('worker-liveness'). KCL 2.x: published defaults (renew 3.308 s, every worker scans every 20.05 s, eventually consistent); in brackets with the same app checkpoints as awskit here (one per shard per 5 s). Reads are RCU (eventually consistent reads count half). Last column: awskit ÷ KCL for writes (KCL with the same checkpoints) and RCU; ≤ 1.00 means at or below the KCL.\n`,
  );
  console.log(
    '| leases × workers | lease mode | awskit writes / lease-h (WCU) | awskit RCU / lease-h | awskit Scans / worker-h (RCU) | KCL writes / lease-h (+ same checkpoints) | KCL RCU / lease-h | KCL Scans / worker-h (RCU) | awskit ÷ KCL: writes, RCU | awskit calls / lease-h by op |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows)
    console.log(
      `| ${r.leases} × ${r.workers} | ${r.leaseMode} | ${f(r.writesPerLeaseHour)} (${f(r.wcuPerLeaseHour)}) | ${f(r.rcuPerLeaseHour)} | ${f(r.scansPerWorkerHour)} (${f(r.rcuPerWorkerHour)}) | ${f(r.kcl.writesPerLeaseHour)} (${f(r.kcl.writesWithCheckpointsPerLeaseHour)}) | ${f(r.kcl.rcuPerLeaseHour)} | ${f(r.kcl.scansPerWorkerHour)} (${f(r.kcl.rcuPerWorkerHour)}) | ${(r.writesPerLeaseHour / r.kcl.writesWithCheckpointsPerLeaseHour).toFixed(2)}, ${(r.rcuPerLeaseHour / r.kcl.rcuPerLeaseHour).toFixed(2)} | ${Object.entries(
        r.byOp,
      )
        .filter(([, v]) => v)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')} |`,
    );
} finally {
  await aws.stop();
}
