#!/usr/bin/env node
// Local AWS time-to-ready (edge up, every emulator running, the example ready hook done) next to the raw time of
// starting kinesis-local alone (process spawn → its port accepts connections). Same machine, same run.
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

async function localAwsReady() {
  const t0 = performance.now();
  const aws = await startLocalAws({
    port: 0,
    initDir: join(root, 'examples/localstack'),
    region: 'ap-northeast-2',
  });
  const ms = performance.now() - t0;
  const ok = aws.init().scripts.every((s) => s.state === 'SUCCESSFUL');
  await aws.stop();
  if (!ok) throw new Error('example hook failed');
  return ms;
}

const raw = [];
const full = [];
for (let i = 0; i < RUNS; i++) {
  raw.push(await rawKinesisLocal());
  full.push(await localAwsReady());
}
const r = median(raw);
const f = median(full);
console.log(
  `runs: ${RUNS} each, median shown; node ${process.version}, ${(await import('node:os')).cpus().length} cores`,
);
console.log('| what | median ms | ratio to raw kinesis-local |');
console.log('|---|---:|---:|');
console.log(`| kinesis-local alone (spawn → port open) | ${r.toFixed(0)} | 1.00× |`);
console.log(
  `| awskit local AWS ready (5 services + example hook done) | ${f.toFixed(0)} | ${(f / r).toFixed(2)}× |`,
);
console.log(`target: ready ≤ 2000 ms → ${f <= 2000 ? 'met' : 'NOT met'}`);
