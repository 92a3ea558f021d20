import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateUserCommand, GetUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { createClient, LOCAL_CREDENTIALS } from '@awskit/core';
import { describe, expect, it } from 'vitest';
import { startLocalAws } from '../src/index';

/** Pids of this process's children running moto's server (the wrapper imports moto.server). */
function motoChildren(): number[] {
  const out: number[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('moto.server'))
        out.push(Number(pid));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

const clientOptions = (endpoint: string) => ({
  endpoint,
  region: 'us-east-1',
  credentials: LOCAL_CREDENTIALS,
  env: {},
  maxAttempts: 1,
});

// Issue 15 item 5: READY once Kinesis and DynamoDB run; moto (IAM/STS/ECR) finishes starting in the background.
describe('startLocalAws: READY before moto, IAM/STS/ECR requests wait for it', () => {
  it('resolves while moto is still starting, and an IAM call made right after READY succeeds (it waits)', async () => {
    const aws = await startLocalAws({ port: 0 });
    try {
      const atReady = aws.services();
      expect(atReady).toMatchObject({ kinesis: 'running', dynamodb: 'running' });
      // moto (a Python process) is spawned only once Kinesis and DynamoDB run: it cannot be up yet.
      expect(atReady).toMatchObject({ iam: 'starting', sts: 'starting', ecr: 'starting' });
      const health = (await (await fetch(`${aws.endpoint}/_localstack/health`)).json()) as {
        services: Record<string, string>;
      };
      expect(health.services.iam).toBe('starting');

      const iam = await createClient(IAMClient, clientOptions(aws.endpoint));
      const sts = await createClient(STSClient, clientOptions(aws.endpoint));
      // maxAttempts 1: no SDK retry hides a failure; the edge holds the requests until moto answers.
      const [created, me] = await Promise.all([
        iam.send(new CreateUserCommand({ UserName: 'right-after-ready' })),
        sts.send(new GetCallerIdentityCommand({})),
      ]);
      expect(created.User?.UserName).toBe('right-after-ready');
      expect(me.Account).toBe('123456789012');
      expect((await iam.send(new GetUserCommand({ UserName: 'right-after-ready' }))).User?.UserName).toBe(
        'right-after-ready',
      );
      expect(aws.services()).toMatchObject({ iam: 'running', sts: 'running', ecr: 'running' });
      expect(await aws.allStarted).toMatchObject({ iam: 'running', sts: 'running', ecr: 'running' });
    } finally {
      await aws.stop();
    }
  });

  it('a ready.d hook that calls STS through the edge succeeds although moto was not up when READY began', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'awskit-init-'));
    await mkdir(join(dir, 'ready.d'));
    // Query protocol by hand (node's fetch): the hook sees a working STS, not "sts is starting".
    await writeFile(
      join(dir, 'ready.d', '01-sts.sh'),
      `#!/usr/bin/env bash
set -euo pipefail
node -e '
fetch(process.env.AWS_ENDPOINT_URL, {
  method: "POST",
  headers: {
    "content-type": "application/x-www-form-urlencoded",
    authorization: "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=0",
  },
  body: "Action=GetCallerIdentity&Version=2011-06-15",
}).then(async (r) => { const t = await r.text(); console.log(r.status, t); if (r.status !== 200) process.exit(1); });
'
`,
      { mode: 0o755 },
    );
    const aws = await startLocalAws({ port: 0, initDir: dir, services: ['kinesis', 'sts'] });
    try {
      const [script] = aws.initScripts();
      expect(script?.state, script?.output).toBe('SUCCESSFUL');
      expect(script?.output).toMatch(/^200 .*GetCallerIdentityResponse/);
    } finally {
      await aws.stop();
    }
  });

  it('without a python3 that has moto: READY still comes, and IAM calls fail at once with why and what to do', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'awskit-py-'));
    await writeFile(
      join(dir, 'python3'),
      `#!/bin/sh\necho "ModuleNotFoundError: No module named 'moto'" >&2\nexit 1\n`,
      { mode: 0o755 },
    );
    const saved = process.env.AWSKIT_PYTHON;
    process.env.AWSKIT_PYTHON = join(dir, 'python3');
    const warnings: string[] = [];
    const aws = await startLocalAws({
      port: 0,
      services: ['kinesis', 'iam'],
      logger: { debug() {}, info() {}, warn: (m) => warnings.push(m), error() {} },
    }).finally(() => {
      if (saved === undefined) delete process.env.AWSKIT_PYTHON;
      else process.env.AWSKIT_PYTHON = saved;
    });
    try {
      const iam = await createClient(IAMClient, clientOptions(aws.endpoint));
      const err = await iam.send(new GetUserCommand({ UserName: 'x' })).catch((e: Error) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(/iam is unavailable: .*no python3 with moto found/);
      expect((err as Error).message).toMatch(/AWSKIT_PYTHON/);
      expect(aws.services().iam).toBe('unavailable');
      expect(warnings.join('\n')).toMatch(/IAM, STS and ECR are unavailable/);
      const reset = await fetch(`${aws.endpoint}/moto-api/reset`, { method: 'POST' });
      expect(reset.status).toBe(501);
    } finally {
      await aws.stop();
    }
  });

  it('stop() while moto is still starting leaves no moto behind', async () => {
    const before = motoChildren();
    const aws = await startLocalAws({ port: 0, services: ['kinesis', 'iam'] });
    expect(aws.services().iam).toBe('starting');
    // Let the background start spawn python before stopping.
    const end = Date.now() + 5_000;
    while (motoChildren().length === before.length && Date.now() < end)
      await new Promise((r) => setTimeout(r, 10));
    await aws.stop();
    expect(await aws.allStarted).toMatchObject({ iam: 'stopped' });
    expect(motoChildren().filter((p) => !before.includes(p))).toEqual([]);
  });
});
