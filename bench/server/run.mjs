#!/usr/bin/env node
// Server ingest throughput and latency (autocannon on loopback) against the awskit server backed by the local AWS,
// next to a bare fastify route measured in the same run; then CLI cold start (`awskit --help`) next to
// `aws --version`. Needs `pnpm build` first.
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createClient } from '../../packages/core/dist/index.js';

const root = join(fileURLToPath(import.meta.url), '../../..');
const require = createRequire(join(root, 'packages/server/package.json'));
const autocannon = require('autocannon');
const { KinesisClient, CreateStreamCommand, waitUntilStreamExists } = require('@aws-sdk/client-kinesis');

const DURATION = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const BATCH = Number(process.env.BENCH_BATCH ?? 100);
const SHARDS = Number(process.env.BENCH_SHARDS ?? 4);
const CLI_RUNS = Number(process.env.BENCH_RUNS ?? 7);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function startChild(env) {
  const child = spawn(process.execPath, [join(root, 'bench/server/child.mjs')], {
    env: { ...process.env, ...env, NODE_NO_WARNINGS: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout });
    rl.on('line', (line) => {
      if (line.startsWith('READY ')) resolve({ child, url: line.slice(6) });
    });
    child.once('exit', (code) => reject(new Error(`server child exited with ${code}`)));
  });
}

async function stopChild(child) {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(t);
}

function body() {
  const events = Array.from({ length: BATCH }, (_, i) => ({
    userId: `user-${i}`,
    type: i % 3 ? 'page_view' : 'click',
    path: `/products/${i}`,
    at: '2026-01-01T00:00:00.000Z',
  }));
  return JSON.stringify(events);
}

async function load(url, stream, seconds) {
  const r = await autocannon({
    url: `${url}/v1/streams/${stream}/records`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body(),
    connections: CONNECTIONS,
    duration: seconds,
  });
  return {
    ok: r['2xx'],
    rejected: r.non2xx,
    errors: r.errors + r.timeouts,
    reqPerSec: r['2xx'] / seconds,
    eventsPerSec: (r['2xx'] * BATCH) / seconds,
    p50: r.latency.p50,
    p99: r.latency.p99,
  };
}

async function metric(url, name) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return line ? Number(line.split(' ').pop()) : 0;
}

const aws = await startChild({ MODE: 'aws' });
aws.endpoint = aws.url;
try {
  const kinesis = await createClient(KinesisClient, {
    endpoint: aws.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    env: {},
  });
  const stream = `bench-server-${Date.now().toString(36)}`;
  await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: SHARDS }));
  await waitUntilStreamExists({ client: kinesis, maxWaitTime: 30, minDelay: 0.1 }, { StreamName: stream });
  kinesis.destroy();

  const bare = await startChild({ MODE: 'bare' });
  await load(bare.url, stream, 2); // warm-up
  const base = await load(bare.url, stream, DURATION);
  await stopChild(bare.child);

  const srv = await startChild({ MODE: 'awskit', ENDPOINT: aws.endpoint, STREAM: stream });
  await load(srv.url, stream, 2); // warm-up (also loads the producer's shard map)
  const warmAccepted = await metric(srv.url, 'awskit_server_ingest_records_total');
  const ours = await load(srv.url, stream, DURATION);
  const accepted = (await metric(srv.url, 'awskit_server_ingest_records_total')) - warmAccepted;
  const t0 = performance.now();
  let put = 0;
  for (;;) {
    put = await metric(srv.url, 'kinesis_producer_user_records_put_total');
    if (put >= accepted + warmAccepted || performance.now() - t0 > 60_000) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const drainMs = performance.now() - t0;
  await stopChild(srv.child);

  console.log(
    `node ${process.version}, ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)} at the end (other work on the machine skews every number); ${DURATION} s per run, ${CONNECTIONS} connections, ${BATCH} events (~${Math.round(body().length / BATCH)} B) per request, ${SHARDS}-shard stream on the local AWS (kinesis-local)`,
  );
  console.log('| ingest | events/s (2xx) | requests/s | p50 ms | p99 ms | non-2xx | ratio to bare fastify |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  const row = (name, r) =>
    `| ${name} | ${Math.round(r.eventsPerSec).toLocaleString('en-US')} | ${Math.round(r.reqPerSec)} | ${r.p50} | ${r.p99} | ${r.rejected} | ${(r.eventsPerSec / base.eventsPerSec).toFixed(2)}× |`;
  console.log(row('bare fastify route (baseline, parses the body, does nothing)', base));
  console.log(row('awskit server → KinesisProducer → local Kinesis', ours));
  const drained = put >= accepted + warmAccepted;
  console.log(
    `events accepted: ${accepted.toLocaleString('en-US')}; ${drained ? 'all' : `only ${(put - warmAccepted).toLocaleString('en-US')}`} in Kinesis ${(drainMs / 1000).toFixed(1)} s after the load ended → sustained write rate into local Kinesis ≈ ${Math.round((put - warmAccepted) / (DURATION + drainMs / 1000)).toLocaleString('en-US')} events/s (the accept rate above outruns it until the ${32} MiB buffer fills, then the server answers 429)`,
  );
  console.log(
    `target: ≥ 20,000 events/s → ${ours.eventsPerSec >= 20_000 ? 'met' : 'NOT met'}; p99 < 50 ms → ${ours.p99 < 50 ? 'met' : 'NOT met'}`,
  );
} finally {
  await stopChild(aws.child);
}

// CLI cold start: a fresh node process printing help, against the aws CLI printing its version.
const time = (cmd, args) => {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status}`);
  return performance.now() - t0;
};
const cliArgs = [join(root, 'apps/cli/dist/awskit.js'), '--help'];
time(process.execPath, cliArgs);
const ours = [];
const theirs = [];
const bare = [];
let haveAws = spawnSync('aws', ['--version'], { stdio: 'ignore' }).status === 0;
for (let i = 0; i < CLI_RUNS; i++) {
  ours.push(time(process.execPath, cliArgs));
  bare.push(time(process.execPath, ['-e', '0']));
  if (haveAws) theirs.push(time('aws', ['--version']));
}
const o = median(ours);
console.log(`\nCLI cold start, median of ${CLI_RUNS} runs (load average ${loadavg()[0].toFixed(1)})`);
console.log('| command | median ms | ratio |');
console.log('|---|---:|---:|');
if (haveAws) {
  const a = median(theirs);
  console.log(`| aws --version (baseline) | ${a.toFixed(0)} | 1.00× |`);
  console.log(`| awskit --help | ${o.toFixed(0)} | ${(o / a).toFixed(2)}× (${(a / o).toFixed(1)}× faster) |`);
  console.log(
    `| node -e 0 (Node's own start, for reference) | ${median(bare).toFixed(0)} | ${(median(bare) / a).toFixed(2)}× |`,
  );
  console.log(
    `target: ≤ 150 ms → ${o <= 150 ? 'met' : 'NOT met'}; ≥ 3× faster than aws → ${a / o >= 3 ? 'met' : 'NOT met'}`,
  );
} else {
  haveAws = false;
  console.log(`| awskit --help | ${o.toFixed(0)} | (aws CLI not found, no baseline) |`);
}
