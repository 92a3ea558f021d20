#!/usr/bin/env node
// Rotating one IAM user key against a private moto (same machine, same run):
//  - baseline: the by-hand flow with the aws CLI (one process per step): create-access-key, `aws configure set`
//    for the id and the secret, update-access-key --status Inactive. No verification, no rollback;
//  - `awskit iam rotate-key --yes` as a process (bundled CLI), with backup, journal, verify and retire;
//  - in-process `rotateAccessKey` (the library cost without node start-up);
//  - the credentials-file editor alone on a 500-profile file (edits/s).
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { replaceProfileKeys, rotateAccessKey } from '../../packages/iam-rotation/dist/index.js';
import { startMotoServer } from '../../packages/local/dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
// The SDK client from the package's own dependencies (the repo root does not install it).
const { CreateAccessKeyCommand, CreateUserCommand, IAMClient } = createRequire(
  join(here, '../../packages/iam-rotation/package.json'),
)('@aws-sdk/client-iam');
const cli = join(here, '../../apps/cli/dist/awskit.js');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const moto = await startMotoServer();
const admin = new IAMClient({
  endpoint: moto.endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'x' },
});
let n = 0;
async function freshProfile() {
  const UserName = `bench-${n++}`;
  await admin.send(new CreateUserCommand({ UserName }));
  const k = (await admin.send(new CreateAccessKeyCommand({ UserName }))).AccessKey;
  const dir = mkdtempSync(join(tmpdir(), 'bench-iam-'));
  const credentialsFile = join(dir, 'credentials');
  writeFileSync(
    credentialsFile,
    `# bench\n[work]\naws_access_key_id = ${k.AccessKeyId}\naws_secret_access_key = ${k.SecretAccessKey}\n`,
  );
  chmodSync(credentialsFile, 0o600);
  writeFileSync(join(dir, 'config'), '[profile work]\nregion = us-east-1\n');
  const env = {
    PATH: process.env.PATH,
    HOME: dir,
    AWS_SHARED_CREDENTIALS_FILE: credentialsFile,
    AWS_CONFIG_FILE: join(dir, 'config'),
    AWS_PROFILE: 'work',
    NODE_NO_WARNINGS: '1',
  };
  return { UserName, oldId: k.AccessKeyId, credentialsFile, env };
}

function run(cmd, args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')}: ${out}`)),
    );
  });
}

const E = ['--endpoint-url', moto.endpoint];
const results = [];
try {
  const byHand = [];
  for (let i = 0; i < RUNS; i++) {
    const p = await freshProfile();
    const t0 = performance.now();
    const created = JSON.parse(
      await run('aws', ['iam', 'create-access-key', '--output', 'json', ...E], p.env),
    ).AccessKey;
    await run('aws', ['configure', 'set', 'aws_access_key_id', created.AccessKeyId], p.env);
    await run('aws', ['configure', 'set', 'aws_secret_access_key', created.SecretAccessKey], p.env);
    await run(
      'aws',
      ['iam', 'update-access-key', '--access-key-id', p.oldId, '--status', 'Inactive', ...E],
      p.env,
    );
    byHand.push(performance.now() - t0);
  }
  results.push(['by hand: aws CLI, 4 processes (no verify, no rollback)', median(byHand)]);

  if (existsSync(cli)) {
    const viaCli = [];
    for (let i = 0; i < RUNS; i++) {
      const p = await freshProfile();
      const t0 = performance.now();
      await run(process.execPath, [cli, 'iam', 'rotate-key', '--yes', '--profile', 'work', ...E], p.env);
      viaCli.push(performance.now() - t0);
    }
    results.push(['awskit iam rotate-key --yes (1 process, verified)', median(viaCli)]);
  }

  const lib = [];
  for (let i = 0; i < RUNS; i++) {
    const p = await freshProfile();
    const t0 = performance.now();
    await rotateAccessKey({
      profile: 'work',
      credentialsFile: p.credentialsFile,
      env: p.env,
      clientOptions: { endpoint: moto.endpoint, region: 'us-east-1' },
    });
    lib.push(performance.now() - t0);
  }
  results.push(['rotateAccessKey() in-process (verified)', median(lib)]);

  const big = Array.from(
    { length: 500 },
    (_, i) =>
      `# profile ${i}\n[p${i}]\naws_access_key_id = AKIA${String(i).padStart(16, '0')}\naws_secret_access_key = ${'s'.repeat(40)}\nregion = us-east-1\n`,
  ).join('\n');
  const EDITS = 2000;
  const t0 = performance.now();
  for (let i = 0; i < EDITS; i++) {
    replaceProfileKeys(big, `p${i % 500}`, {
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      secretAccessKey: 'x'.repeat(40),
    });
  }
  const perEdit = (performance.now() - t0) / EDITS;

  const base = results[0][1];
  console.log(`runs: ${RUNS} (median), moto ${moto.endpoint}`);
  console.log('| flow | ms / rotation | vs by hand |');
  console.log('|---|---:|---:|');
  for (const [name, ms] of results)
    console.log(`| ${name} | ${ms.toFixed(0)} | ${(ms / base).toFixed(2)}x |`);
  console.log(
    `\ncredentials editor, 500-profile file (${(big.length / 1024).toFixed(0)} KiB): ${perEdit.toFixed(2)} ms/edit (${(1000 / perEdit).toFixed(0)} edits/s, parse + edit + self-check)`,
  );
} finally {
  await moto.stop();
}
