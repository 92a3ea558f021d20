#!/usr/bin/env node
// Time to hand Docker an ECR password, against the local AWS (moto behind the awskit edge), same machine/run:
//  - baseline: `aws ecr get-login-password` (the aws CLI on PATH), one process per call;
//  - `docker-credential-awskit get` as Docker runs it (one node process per call). moto's tokens carry a 2015
//    expiry, so every call goes to ECR; after the first, the caller's identity comes from the cache (no STS call);
//  - in-process `getAuthorization` on a warm file cache (token source with a 12 h expiry): the cost of a cache hit.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileTokenCache, getAuthorization } from '../../packages/ecr-auth/dist/index.js';
import { startLocalAws } from '../../packages/local/dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
// The bundled bin of the awskit CLI when built (what users run), else the package's unbundled test entry.
const bundled = join(here, '../../apps/cli/dist/docker-credential-awskit.js');
const helperBin = existsSync(bundled)
  ? bundled
  : join(here, '../../packages/ecr-auth/test/fixtures/docker-credential-awskit.mjs');
const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const host = '123456789012.dkr.ecr.us-east-1.amazonaws.com';

const aws = await startLocalAws({ port: 0, services: ['sts', 'ecr'] });
await aws.allStarted; // moto finishes starting after READY: keep its start out of the timings
const cacheDir = mkdtempSync(join(tmpdir(), 'bench-ecr-'));
const env = {
  ...process.env,
  AWS_ENDPOINT_URL: aws.endpoint,
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_REGION: 'us-east-1',
  AWS_DEFAULT_REGION: 'us-east-1',
  AWSKIT_CACHE_DIR: cacheDir,
  NODE_NO_WARNINGS: '1',
};

// Async spawn: the local AWS's edge runs in this process, so a blocking spawnSync would deadlock it.
function timeProcess(cmd, args, input = '') {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - t0;
      if (code !== 0) reject(new Error(`${cmd} ${args.join(' ')} failed (${code}): ${out}`));
      else resolve(ms);
    });
    child.stdin.end(input);
  });
}

const results = [];
try {
  const hasAws = spawnSync('aws', ['--version'], { encoding: 'utf8' }).status === 0;
  if (hasAws) {
    const xs = [];
    for (let i = 0; i < RUNS; i++)
      xs.push(
        await timeProcess('aws', [
          'ecr',
          'get-login-password',
          '--endpoint-url',
          aws.endpoint,
          '--region',
          'us-east-1',
        ]),
      );
    results.push(['aws ecr get-login-password (process)', median(xs)]);
  }
  const helper = [];
  for (let i = 0; i < RUNS; i++) helper.push(await timeProcess(process.execPath, [helperBin, 'get'], host));
  results.push([
    `docker-credential-awskit get (process, ECR call each time; ${existsSync(bundled) ? 'bundled CLI bin' : 'unbundled'})`,
    median(helper),
  ]);

  const clock = { now: () => Date.now() };
  const source = {
    getCallerIdentity: async () => ({ arn: 'arn:aws:iam::123456789012:user/bench', account: '123456789012' }),
    getAuthorizationTokens: async () => [
      {
        authorizationToken: Buffer.from('AWS:bench-password').toString('base64'),
        expiresAt: new Date(Date.now() + 12 * 3600_000),
        proxyEndpoint: `https://${host}`,
      },
    ],
  };
  const cache = new FileTokenCache({ dir: join(cacheDir, 'inproc') });
  await getAuthorization({ region: 'us-east-1', tokenSource: source, cache, clock });
  const warm = [];
  for (let i = 0; i < RUNS * 10; i++) {
    const t0 = performance.now();
    const [a] = await getAuthorization({ region: 'us-east-1', tokenSource: source, cache, clock });
    warm.push(performance.now() - t0);
    if (!a.fromCache) throw new Error('expected a cache hit');
  }
  results.push(['getAuthorization, warm file cache (in-process)', median(warm)]);
} finally {
  await aws.stop();
}

const base = results[0][1];
console.log(
  `runs: ${RUNS} per process row, ${RUNS * 10} in-process; median shown; node ${process.version}, ${cpus().length} cores`,
);
console.log(`| what | median ms | ratio to ${results[0][0].split(' (')[0]} |`);
console.log('|---|---:|---:|');
for (const [name, ms] of results) console.log(`| ${name} | ${ms.toFixed(1)} | ${(ms / base).toFixed(2)} |`);
