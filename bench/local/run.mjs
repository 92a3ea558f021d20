#!/usr/bin/env node
// Local AWS time-to-READY (edge up, Kinesis and DynamoDB running; with and without the example ready hook) and
// time until every service runs, next to the raw time of starting kinesis-local alone (process spawn → its port
// accepts connections). Same machine, same run.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getFreePort, startLocalAws, waitForPort } from '../../packages/local/dist/index.js';

const require = createRequire(join(fileURLToPath(import.meta.url), '../../../packages/local/package.json'));
const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function rawKinesisLocal() {
  const main = require.resolve('kinesis-local/main.js');
  const port = await getFreePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, [main], {
    env: {
      ...process.env,
      KINESIS_MOCK_CERT_PATH: join(dirname(main), 'server.json'),
      KINESIS_MOCK_PLAIN_PORT: String(port),
      KINESIS_MOCK_TLS_PORT: String(await getFreePort()),
    },
    stdio: 'ignore',
  });
  await waitForPort(port, { intervalMs: 10 });
  const ms = performance.now() - t0;
  child.kill('SIGKILL');
  return ms;
}

/**
 * One local AWS start: READY (startLocalAws resolved: edge up, Kinesis and DynamoDB running, hooks done) and, where
 * the version has it, the moment every service is running (moto's IAM/STS/ECR finish starting in the background).
 */
async function localAwsStart(withHook, waitForAllServices = false) {
  const t0 = performance.now();
  const aws = await startLocalAws({
    port: 0,
    region: 'ap-northeast-2',
    waitForAllServices,
    ...(withHook ? { initDir: join(root, 'examples/localstack') } : {}),
  });
  const ready = performance.now() - t0;
  // Versions without background starts have everything running at READY.
  if (aws.allStarted) await aws.allStarted;
  const all = performance.now() - t0;
  const ok = aws.init().scripts.every((s) => s.state === 'SUCCESSFUL');
  const running = Object.values(aws.services()).every((s) => s === 'running');
  await aws.stop();
  if (!ok) throw new Error('example hook failed');
  if (!running) throw new Error(`not every service started: ${JSON.stringify(aws.services())}`);
  return { ready, all };
}

const raw = [];
const bare = [];
const hooked = [];
const all = [];
const waitAll = [];
for (let i = 0; i < RUNS; i++) {
  raw.push(await rawKinesisLocal());
  const b = await localAwsStart(false);
  bare.push(b.ready);
  all.push(b.all);
  hooked.push((await localAwsStart(true)).ready);
  waitAll.push((await localAwsStart(false, true)).ready);
}
const r = median(raw);
const row = (what, ms) => `| ${what} | ${ms.toFixed(0)} | ${(ms / r).toFixed(2)}× | ${(ms - r).toFixed(0)} |`;
const { cpus, loadavg } = await import('node:os');
console.log(
  `runs: ${RUNS} each, median shown; node ${process.version}, ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)}`,
);
console.log('| what | median ms | ratio to raw kinesis-local | ms over it |');
console.log('|---|---:|---:|---:|');
console.log(row('kinesis-local alone (spawn → port open)', r));
console.log(row('awskit local AWS READY (no hooks)', median(bare)));
console.log(row('awskit local AWS READY + example ready.d hook done', median(hooked)));
console.log(row('all 5 services running (IAM/STS/ECR = moto up, in the background)', median(all)));
console.log(row('READY with waitForAllServices (moto before READY, as before issue 15)', median(waitAll)));
const over = median(bare) - r;
console.log(
  `target: READY ≤ kinesis-local + 300 ms → ${over <= 300 ? 'met' : 'NOT met'} (+${over.toFixed(0)} ms)`,
);
