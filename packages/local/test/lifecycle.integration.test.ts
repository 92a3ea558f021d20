import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KinesisClient, ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { createClient, isAwskitError, LOCAL_CREDENTIALS } from '@awskit/core';
import { describe, expect, it } from 'vitest';
import { LocalAwsErrorCode, startLocalAws } from '../src/index';

async function initDirWith(scripts: Record<string, { body: string; mode?: number }>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'awskit-init-'));
  await mkdir(join(dir, 'ready.d'));
  for (const [name, { body, mode = 0o755 }] of Object.entries(scripts))
    await writeFile(join(dir, 'ready.d', name), body, { mode });
  return dir;
}

describe('startLocalAws init hooks', () => {
  it('runs ready.d scripts in order with the endpoint and dummy credentials; a failing one is ERROR and the next still runs', async () => {
    const dir = await initDirWith({
      '02-fails.sh': { body: '#!/usr/bin/env bash\necho "about to fail" >&2\nexit 3\n' },
      '01-env.sh': {
        body: '#!/usr/bin/env bash\nset -eu\necho "endpoint=$AWS_ENDPOINT_URL region=$AWS_DEFAULT_REGION key=$AWS_ACCESS_KEY_ID"\ncommand -v awslocal\n',
      },
      '03-after.sh': { body: 'echo ran-without-exec-bit\n', mode: 0o644 },
      'notes.txt': { body: 'not a script' },
    });
    const lines: string[] = [];
    const log = (m: string) => lines.push(m);
    const aws = await startLocalAws({
      port: 0,
      initDir: dir,
      services: ['kinesis'],
      region: 'ap-northeast-2',
      logger: { debug() {}, info: log, warn: log, error: log },
    });
    try {
      const init = (await (await fetch(`${aws.endpoint}/_localstack/init`)).json()) as {
        completed: Record<string, boolean>;
        scripts: Array<{ name: string; state: string; stage: string }>;
      };
      expect(init.completed).toMatchObject({ BOOT: true, START: true, READY: true, SHUTDOWN: false });
      expect(init.scripts).toEqual([
        { stage: 'READY', name: '01-env.sh', state: 'SUCCESSFUL' },
        { stage: 'READY', name: '02-fails.sh', state: 'ERROR' },
        { stage: 'READY', name: '03-after.sh', state: 'SUCCESSFUL' },
      ]);
      const ready = (await (await fetch(`${aws.endpoint}/_localstack/init/ready`)).json()) as {
        completed: boolean;
        scripts: unknown[];
      };
      expect(ready.completed).toBe(true);
      expect(ready.scripts).toHaveLength(3);
      const env = aws.initScripts().find((s) => s.name === '01-env.sh')!;
      expect(env.output).toContain(`endpoint=${aws.endpoint} region=ap-northeast-2 key=test`);
      expect(env.output).toMatch(/awslocal/);
      // The failing script's output is shown, not hidden, and the exec-bit problem is named.
      expect(lines.join('\n')).toContain('about to fail');
      expect(lines.join('\n')).toMatch(/02-fails\.sh failed with exit code 3/);
      expect(lines.join('\n')).toMatch(/03-after\.sh is not executable/);
      // Services that were not enabled answer with a clear error instead of hanging.
      const sts = await createClient(STSClient, {
        endpoint: aws.endpoint,
        region: 'us-east-1',
        credentials: LOCAL_CREDENTIALS,
        env: {},
        maxAttempts: 1,
      });
      await expect(sts.send(new GetCallerIdentityCommand({}))).rejects.toThrow(/sts is unavailable/);
      const health = (await (await fetch(`${aws.endpoint}/_localstack/health`)).json()) as {
        services: Record<string, string>;
      };
      expect(health.services).toMatchObject({
        kinesis: 'running',
        sts: 'unavailable',
        dynamodb: 'unavailable',
      });
    } finally {
      await aws.stop();
    }
    const kinesis = await createClient(KinesisClient, {
      endpoint: aws.endpoint,
      region: 'us-east-1',
      credentials: LOCAL_CREDENTIALS,
      env: {},
      maxAttempts: 1,
    });
    await expect(kinesis.send(new ListStreamsCommand({}))).rejects.toThrow();
  });

  it('reports a port already in use as LOCAL_PORT_IN_USE and starts nothing', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const err = await startLocalAws({ port, services: ['dynamodb'] }).catch((e: unknown) => e);
      expect(isAwskitError(err, LocalAwsErrorCode.PortInUse)).toBe(true);
      expect((err as Error).message).toContain(String(port));
    } finally {
      blocker.close();
    }
  });
});
