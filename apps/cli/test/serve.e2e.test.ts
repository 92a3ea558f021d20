import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { createClient } from '@awskit/core';
import { createTestStream, localAwsEndpoint, testClientOptions } from '@awskit/local/testing';
import { describe, expect, it } from 'vitest';
import { runCli, startCli } from './helpers';

describe('awskit serve (bundled CLI against the local AWS)', () => {
  it('ingests over HTTP, runs the handler module on every event, and stops cleanly on SIGTERM', async () => {
    const kinesis = await createClient(KinesisClient, testClientOptions());
    const stream = await createTestStream(kinesis, { shardCount: 1 });
    const dir = mkdtempSync(join(tmpdir(), 'awskit-serve-'));
    const seenFile = join(dir, 'seen.ndjson');
    const handler = join(dir, 'handler.mjs');
    writeFileSync(
      handler,
      `import { appendFileSync } from 'node:fs';\nexport default async function (records) {\n  for (const r of records) appendFileSync(${JSON.stringify(seenFile)}, Buffer.from(r.data).toString() + '\\n');\n}\n`,
    );
    writeFileSync(seenFile, '');
    const run = startCli(
      [
        '--endpoint-url',
        localAwsEndpoint(),
        '--region',
        'us-east-1',
        '--json',
        'serve',
        '--stream',
        stream,
        '--handler',
        handler,
        '--port',
        '0',
        '--initial-position',
        'TRIM_HORIZON',
      ],
      /"url"/,
      { HOME: dir, NODE_NO_WARNINGS: '1' },
    );
    const { url } = JSON.parse(await run.ready) as { url: string };
    const events = Array.from({ length: 20 }, (_, i) => ({ id: `e${i}` }));
    const r = await fetch(new URL(`/v1/streams/${stream}/records?wait=1`, url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(events),
    });
    expect(r.status).toBe(200);
    const deadline = Date.now() + 30_000;
    let seen: string[] = [];
    while (Date.now() < deadline) {
      seen = readFileSync(seenFile, 'utf8').split('\n').filter(Boolean);
      if (seen.length >= events.length) break;
      await new Promise((res) => setTimeout(res, 200));
    }
    expect(new Set(seen)).toEqual(new Set(events.map((e) => JSON.stringify(e))));
    expect((await fetch(new URL('/healthz', url))).status).toBe(200);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });
});

describe('awskit serve --host (issue 14 item 11)', () => {
  it('refuses a non-loopback --host without --token as a usage error, naming --insecure', () => {
    const r = runCli([
      'serve',
      '--host',
      '0.0.0.0',
      '--port',
      '0',
      '--stream',
      'orders',
      '--region',
      'us-east-1',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/host: "0\.0\.0\.0" exposes ingest/);
    expect(r.stderr).toContain('--insecure');
  });

  it('with --insecure it starts on 0.0.0.0 and warns loudly', async () => {
    const kinesis = await createClient(KinesisClient, testClientOptions());
    const stream = await createTestStream(kinesis);
    kinesis.destroy();
    const run = startCli(
      [
        'serve',
        '--host',
        '0.0.0.0',
        '--port',
        '0',
        '--insecure',
        '--stream',
        stream,
        '--endpoint-url',
        localAwsEndpoint(),
        '--region',
        'us-east-1',
      ],
      /Ctrl-C/,
      { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' },
    );
    await run.ready;
    run.child.kill('SIGTERM');
    const code = await run.exited;
    expect(run.output().stderr).toMatch(/WITHOUT A TOKEN/);
    expect(code, JSON.stringify(run.output())).toBe(0);
  });
});
