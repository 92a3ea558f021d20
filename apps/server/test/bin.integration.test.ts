import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { createClient } from '@awskit/core';
import { createTestStream, localAwsEndpoint, testClientOptions } from '@awskit/local/testing';
import { describe, expect, it } from 'vitest';

// The built bin (turbo builds before testing); run as users run it.
const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

function run(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: {
      PATH: process.env.PATH,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      NODE_NO_WARNINGS: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

describe('awskit-server bin', () => {
  it('serves until SIGTERM, then stops gracefully with exit code 0', async () => {
    const kinesis = await createClient(KinesisClient, testClientOptions());
    const stream = await createTestStream(kinesis);
    kinesis.destroy();
    const p = run([
      '--stream',
      stream,
      '--port',
      '0',
      '--endpoint-url',
      localAwsEndpoint(),
      '--region',
      'us-east-1',
    ]);
    const url = await new Promise<string>((resolve, reject) => {
      const t = setInterval(() => {
        const m = /dashboard: (http:\/\/127\.0\.0\.1:\d+)\//.exec(p.out());
        if (m) {
          clearInterval(t);
          resolve(m[1]!);
        }
      }, 50);
      void p.exited.then((code) => {
        clearInterval(t);
        reject(new Error(`exited ${code}: ${p.err()}`));
      });
    });
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const r = await fetch(`${url}/v1/streams/${stream}/records`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '[{"a":1}]',
    });
    expect(r.status).toBe(202);
    p.child.kill('SIGTERM');
    expect(await p.exited, p.err()).toBe(0);
    expect(p.err()).toContain('stopping');
  });

  it('reports bad flags with a hint and exit code 2', async () => {
    const p = run(['--stream', 'x', '--port', 'abc', '--workers=-1']);
    expect(await p.exited, p.err()).toBe(2);
    expect(p.err()).toMatch(/^error: Invalid server options: --port: .*; --workers: /m);
    expect(p.err()).toMatch(/^hint: /m);
    const unknown = run(['--strem', 'x']);
    expect(await unknown.exited, unknown.err()).toBe(2);
    expect(unknown.err()).toMatch(/^error: .*--strem/m);
  });
});
