import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { createClient } from '@awskit/core';
import { createTestStream, localAwsEndpoint, testClientOptions } from '@awskit/local/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_STREAM, type Demo, type Serving, serveFromFlags, startDemo } from '../src/index.js';
import { eventually, ingest } from './helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

describe('startDemo', () => {
  it('applies the example declaration, runs two workers on my-event-dev and processes the demo load', async () => {
    const demo: Demo = await startDemo({ endpoint: localAwsEndpoint(), port: 0, loadPerSecond: 100 });
    cleanups.push(() => demo.stop());
    expect(demo.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    await eventually(() => demo.stats.records >= 100);
    const state = await eventually(async () => {
      const s = await demo.server.state();
      const owners = new Set(s.streams[0]!.shards.filter((x) => x.open).map((x) => x.owner));
      return owners.size === 2 && !owners.has(undefined) ? s : undefined;
    });
    expect(state.streams[0]).toMatchObject({ name: DEMO_STREAM, status: 'ACTIVE' });
    expect(state.streams[0]!.shards.filter((x) => x.open)).toHaveLength(2);
    expect(demo.loadSent()).toBeGreaterThan(0);
    expect(Object.keys(demo.stats.byType).sort()).toEqual(expect.arrayContaining(['click', 'page_view']));
    const page = await fetch(demo.url);
    expect(page.headers.get('content-type')).toContain('text/html');
    await demo.stop();
    expect(await fetch(demo.url).catch((e: Error) => e)).toBeInstanceOf(Error);
  });
});

describe('serveFromFlags', () => {
  it('runs against the account of a --profile (here a profile whose endpoint_url is the local AWS)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'awskit-profile-'));
    await writeFile(
      join(dir, 'config'),
      `[profile staging]\nregion = us-east-1\nendpoint_url = ${localAwsEndpoint()}\n`,
    );
    await writeFile(
      join(dir, 'credentials'),
      '[staging]\naws_access_key_id = test\naws_secret_access_key = test\n',
    );
    const kinesis = await createClient(KinesisClient, testClientOptions());
    cleanups.push(async () => kinesis.destroy());
    const stream = await createTestStream(kinesis);
    const serving = await serveFromFlags(
      { stream: [stream], profile: 'staging', port: '0' },
      {
        env: { AWS_CONFIG_FILE: join(dir, 'config'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials') },
      },
    );
    cleanups.push(() => serving.stop());
    const base = serving.url.replace(/\/$/, '');
    const r = await ingest(base, stream, [{ id: 1 }], { query: 'wait=1' });
    expect(r.status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });

  it('runs the example --handler module against a stream given with --stream', async () => {
    const kinesis = await createClient(KinesisClient, testClientOptions());
    cleanups.push(async () => kinesis.destroy());
    const stream = await createTestStream(kinesis);
    const handlerPath = fileURLToPath(new URL('../examples/handler.js', import.meta.url));
    const serving: Serving = await serveFromFlags(
      {
        stream: [stream],
        handler: handlerPath,
        port: '0',
        initialPosition: 'TRIM_HORIZON',
        endpointUrl: localAwsEndpoint(),
        region: 'us-east-1',
      },
      { env: {} },
    );
    cleanups.push(() => serving.stop());
    const base = serving.url.replace(/\/$/, '');
    expect(serving.details.join('\n')).toContain(`consuming ${stream} with 1 worker(s)`);
    const r = await ingest(base, stream, [
      { type: 'signup', id: 1 },
      { type: 'signup', id: 2 },
      { type: 'purchase', id: 3 },
    ]);
    expect(r.status).toBe(202);
    const mod = (await import(handlerPath)) as { countsByType(): Record<string, number> };
    await eventually(() => mod.countsByType().signup === 2 && mod.countsByType().purchase === 1);
  });
});
