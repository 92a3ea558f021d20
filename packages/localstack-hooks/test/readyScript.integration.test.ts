import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  DescribeStreamSummaryCommand,
  KinesisClient,
  ListTagsForStreamCommand,
} from '@aws-sdk/client-kinesis';
import { createClient } from '@awskit/core';
import { getFreePort, startLocalAws } from '@awskit/local';
import { localAwsEndpoint, testClientOptions, uniqueName } from '@awskit/local/testing';
import { describe, expect, it } from 'vitest';
import { generateReadyScript, parseDeclaration, plan, waitForReady, writeInitFiles } from '../src/index';
import { readyScriptName } from '../src/readyScript';

const run = promisify(execFile);

/** Runs a generated hook with bash the way LocalStack's hook environment would (endpoint + dummy keys). */
async function runHook(file: string) {
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    AWS_ENDPOINT_URL: localAwsEndpoint(),
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  };
  return run('bash', [file], { env, timeout: 120_000 });
}

describe('the generated ready.d script', () => {
  it('creates every declared resource, succeeds again without changes, and agrees with plan', async () => {
    const n = uniqueName('sh');
    const resources = parseDeclaration({
      region: 'us-east-1',
      kinesis: {
        streams: [
          {
            name: `${n}-events`,
            shards: 2,
            retentionHours: 48,
            tags: { team: 'event platform' },
            consumers: [`${n}-efo`],
          },
        ],
      },
      dynamodb: { tables: [{ name: `${n}-leases`, partitionKey: 'leaseKey', sortKey: 'n:N' }] },
      ecr: { repositories: [{ name: `${n}/app` }] },
      iam: {
        policies: [
          {
            name: `${n}-producer`,
            description: "lets CI's jobs put records",
            document: {
              Version: '2012-10-17',
              Statement: [{ Effect: 'Allow', Action: 'kinesis:PutRecords', Resource: '*' }],
            },
          },
        ],
        users: [
          {
            name: `${n}-ci`,
            policies: [`${n}-producer`],
            inlinePolicies: {
              read: {
                Version: '2012-10-17',
                Statement: [{ Effect: 'Allow', Action: 'kinesis:Get*', Resource: '*' }],
              },
            },
          },
        ],
      },
    });
    const dir = await mkdtemp(join(tmpdir(), 'awskit-hook-'));
    const file = join(dir, readyScriptName());
    await writeFile(file, generateReadyScript(resources), { mode: 0o755 });

    const first = await runHook(file);
    expect(first.stdout).toContain(`kinesis stream ${n}-events: created (PROVISIONED, 2 shards)`);
    expect(first.stdout).toContain(`kinesis stream ${n}-events: retention 24 -> 48 hours`);
    expect(first.stdout).toContain('done: 6 created, 0 updated, 0 unchanged');

    const kinesis = await createClient(KinesisClient, testClientOptions());
    const s = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: `${n}-events` }));
    expect(s.StreamDescriptionSummary).toMatchObject({
      StreamStatus: 'ACTIVE',
      OpenShardCount: 2,
      RetentionPeriodHours: 48,
    });
    const tags = await kinesis.send(new ListTagsForStreamCommand({ StreamName: `${n}-events` }));
    expect(tags.Tags).toContainEqual({ Key: 'team', Value: 'event platform' });

    const second = await runHook(file);
    expect(second.stdout).toContain('done: 0 created, 0 updated, 6 unchanged');

    // The SDK path sees exactly what the script made: nothing left to do.
    const p = await plan({ declaration: resources, clientOptions: testClientOptions() });
    expect(p.changes.filter((c) => c.action !== 'no-op')).toEqual([]);
    expect(p.changes).toHaveLength(6);
  }, 150_000); // ~40 aws CLI invocations at 0.3-1 s each

  it('uses awslocal when AWS_ENDPOINT_URL is unset (the LocalStack container), else aws at LOCALSTACK_ENDPOINT', async () => {
    const n = uniqueName('al');
    const dir = await mkdtemp(join(tmpdir(), 'awskit-hook-'));
    const file = join(dir, readyScriptName());
    await writeFile(file, generateReadyScript(parseDeclaration({ kinesis: { streams: [{ name: n }] } })), {
      mode: 0o755,
    });
    const shimDir = join(dir, 'bin');
    await mkdir(shimDir);
    // A stand-in for LocalStack's awslocal: the aws CLI pointed at the edge port.
    await writeFile(
      join(shimDir, 'awslocal'),
      `#!/bin/sh\nexec aws --endpoint-url "${localAwsEndpoint()}" "$@"\n`,
      { mode: 0o755 },
    );
    const base = {
      HOME: process.env.HOME ?? '/tmp',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    };
    const viaAwslocal = await run('bash', [file], {
      env: { ...base, PATH: `${shimDir}:${process.env.PATH}` },
    });
    expect(viaAwslocal.stdout).toContain('applying declared resources to awslocal');
    expect(viaAwslocal.stdout).toContain(`kinesis stream ${n}: created`);
    const viaEnv = await run('bash', [file], {
      env: { ...base, PATH: process.env.PATH ?? '', LOCALSTACK_ENDPOINT: localAwsEndpoint() },
    });
    expect(viaEnv.stdout).toContain(`applying declared resources to ${localAwsEndpoint()}`);
    expect(viaEnv.stdout).toContain(`kinesis stream ${n}: exists, unchanged`);
  }, 60_000);

  it('fails with the AWS error when the endpoint is unreachable', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'awskit-hook-'));
    const file = join(dir, readyScriptName());
    await writeFile(
      file,
      generateReadyScript(parseDeclaration({ kinesis: { streams: [{ name: 'never' }] } })),
      {
        mode: 0o755,
      },
    );
    const port = await getFreePort();
    const err = await run('bash', [file], {
      env: {
        PATH: process.env.PATH ?? '',
        AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
        AWS_MAX_ATTEMPTS: '1',
        AWS_CONFIG_FILE: '/dev/null',
      },
    }).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(1);
    expect(err?.stderr).toContain('[awskit] ERROR: kinesis describe-stream-summary never failed');
  });
});

describe('as a ready hook of the local AWS', () => {
  it('runs from init/ready.d, /_localstack/init reports it SUCCESSFUL, and waitForReady names a failing hook', async () => {
    const n = uniqueName('hk');
    const out = await mkdtemp(join(tmpdir(), 'awskit-initdir-'));
    const resources = parseDeclaration({
      region: 'ap-northeast-2',
      kinesis: { streams: [{ name: `${n}-dev`, shards: 1 }] },
    });
    const { initDir } = await writeInitFiles({ resources, outDir: out, compose: false });
    await mkdir(join(initDir, 'ready.d'), { recursive: true });
    await writeFile(
      join(initDir, 'ready.d', '90-broken.sh'),
      '#!/usr/bin/env bash\necho "boom" >&2\nexit 3\n',
      {
        mode: 0o755,
      },
    );
    const port = await getFreePort();
    const endpoint = `http://127.0.0.1:${port}`;
    // Poll while it boots: first unreachable, then hooks RUNNING, then the broken hook's ERROR ends the wait.
    const waiting = waitForReady({
      endpoint,
      services: ['kinesis'],
      timeoutMs: 60_000,
      intervalMs: 100,
    }).catch((e: unknown) => e);
    const aws = await startLocalAws({
      port,
      initDir,
      services: ['kinesis'],
      region: 'ap-northeast-2',
      latencyMs: 20,
    });
    try {
      const err = await waiting;
      expect(err).toMatchObject({
        code: 'NOT_READY',
        message: expect.stringContaining('90-broken.sh (READY)'),
      });
      const init = (await (await fetch(`${endpoint}/_localstack/init`)).json()) as {
        completed: Record<string, boolean>;
        scripts: { name: string; state: string }[];
      };
      expect(init.completed.READY).toBe(true);
      expect(init.scripts).toEqual([
        { stage: 'READY', name: '50-awskit.sh', state: 'SUCCESSFUL' },
        { stage: 'READY', name: '90-broken.sh', state: 'ERROR' },
      ]);
      const kinesis = await createClient(KinesisClient, {
        endpoint,
        region: 'ap-northeast-2',
        env: {},
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      });
      const s = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: `${n}-dev` }));
      expect(s.StreamDescriptionSummary?.StreamStatus).toBe('ACTIVE');
      expect(s.StreamDescriptionSummary?.StreamARN).toContain(':ap-northeast-2:');
    } finally {
      await aws.stop();
    }
  }, 90_000);

  it('waitForReady resolves against a local AWS whose hooks all succeeded', async () => {
    const state = await waitForReady({
      endpoint: localAwsEndpoint(),
      services: ['kinesis', 'dynamodb'],
      timeoutMs: 30_000,
    });
    expect(state.init?.completed.READY).toBe(true);
    expect(state.services.kinesis).toBe('running');
  });
});
