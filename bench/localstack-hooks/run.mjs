#!/usr/bin/env node
// Applying a declaration: `apply()` through the SDK next to the generated ready.d script run with the aws CLI (what a
// hand-written LocalStack hook does), for the shipped example (1 stream) and a 5-resource declaration; first run
// (create) and second run (nothing to do). One local AWS, fresh names per run, same machine, same run.
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startLocalAws } from '../../packages/local/dist/index.js';
import { apply, generateReadyScript, parseDeclaration } from '../../packages/localstack-hooks/dist/index.js';

const run = promisify(execFile);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const example = (n) => ({
  region: 'ap-northeast-2',
  kinesis: { streams: [{ name: `${n}-my-event-dev`, shards: 1 }] },
});
const five = (n) => ({
  region: 'ap-northeast-2',
  kinesis: {
    streams: [
      { name: `${n}-a`, shards: 1 },
      { name: `${n}-b`, shards: 2, retentionHours: 48 },
    ],
  },
  dynamodb: { tables: [{ name: `${n}-leases`, partitionKey: 'leaseKey' }] },
  ecr: { repositories: [{ name: `${n}-repo` }] },
  iam: { users: [{ name: `${n}-ci` }] },
});

const aws = await startLocalAws({ port: 0, region: 'ap-northeast-2' });
await aws.allStarted; // moto finishes starting after READY: keep its start out of the timings
const clientOptions = {
  endpoint: aws.endpoint,
  env: {},
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
};
const dir = await mkdtemp(join(tmpdir(), 'awskit-bench-hooks-'));
const scriptEnv = {
  PATH: process.env.PATH,
  HOME: process.env.HOME ?? '/tmp',
  AWS_ENDPOINT_URL: aws.endpoint,
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_CONFIG_FILE: '/dev/null',
};

const time = async (f) => {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
};
const rows = [];
try {
  for (const [label, make] of [
    ['example (1 stream)', example],
    ['5 resources (2 streams, table, repo, user)', five],
  ]) {
    const r = { sdkCreate: [], sdkNoop: [], shCreate: [], shNoop: [] };
    for (let i = 0; i < RUNS; i++) {
      const sdkDecl = make(`b${Date.now().toString(36)}s${i}`);
      r.sdkCreate.push(await time(() => apply({ declaration: sdkDecl, clientOptions })));
      r.sdkNoop.push(await time(() => apply({ declaration: sdkDecl, clientOptions })));
      const file = join(dir, `${i}-${label.length}.sh`);
      await writeFile(file, generateReadyScript(parseDeclaration(make(`b${Date.now().toString(36)}c${i}`))), {
        mode: 0o755,
      });
      r.shCreate.push(await time(() => run('bash', [file], { env: scriptEnv })));
      r.shNoop.push(await time(() => run('bash', [file], { env: scriptEnv })));
    }
    rows.push([label, r]);
  }
} finally {
  await aws.stop();
}
console.log(`runs: ${RUNS} each, median shown; node ${process.version}, ${cpus().length} cores`);
console.log('| declaration | run | generated script + aws CLI (baseline) ms | apply() via SDK ms | ratio |');
console.log('|---|---|---:|---:|---:|');
for (const [label, r] of rows) {
  for (const [what, sh, sdk] of [
    ['create', r.shCreate, r.sdkCreate],
    ['second run (no-op)', r.shNoop, r.sdkNoop],
  ]) {
    const a = median(sh);
    const b = median(sdk);
    console.log(`| ${label} | ${what} | ${a.toFixed(0)} | ${b.toFixed(0)} | ${(b / a).toFixed(2)}× |`);
  }
}
