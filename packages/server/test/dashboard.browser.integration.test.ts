import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { createClient } from '@awskit/core';
import { createTestStream, testClientOptions, uniqueName } from '@awskit/local/testing';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwskitServer, startServer } from '../src/index.js';
import { eventually, ingest } from './helpers.js';

// Debian's chromium (apt-get install -y chromium); playwright-core drives it without downloading a browser.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// CI installs chromium (.ci/run) and must run this test; a newcomer's bare Node machine may not have a browser,
// and then only this browser check is left out (the server's HTTP tests still run).
const RUN_BROWSER = existsSync(CHROMIUM) || Boolean(process.env.CI);
if (!RUN_BROWSER)
  console.warn(`dashboard browser test not run: no chromium at ${CHROMIUM} (apt-get install -y chromium)`);
const ARTIFACTS = new URL('../test-artifacts/', import.meta.url);

let kinesis: KinesisClient;
let server: AwskitServer | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  if (!RUN_BROWSER) return;
  kinesis = await createClient(KinesisClient, testClientOptions());
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
  kinesis?.destroy();
});

describe.runIf(RUN_BROWSER)('dashboard in headless Chromium', () => {
  it('shows two workers owning the shards and the lag falling to zero after events are ingested', async () => {
    const stream = await createTestStream(kinesis, { shardCount: 2 });
    let handled = 0;
    server = await startServer({
      port: 0,
      clientOptions: testClientOptions(),
      streams: [stream],
      partitionKeyField: 'userId',
      dashboardIntervalMs: 300,
      consume: {
        stream,
        workers: 2,
        applicationName: uniqueName('dash'),
        initialPosition: 'TRIM_HORIZON',
        takeIntervalMs: 500,
        handler: async (records) => {
          handled += records.length;
        },
      },
    });
    const page = await browser!.newPage({ viewport: { width: 1360, height: 1000 } });
    const consoleErrors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    await page.goto(`${server.url}/`);
    await page.waitForSelector('#conn[data-state="live"]');

    for (let b = 0; b < 5; b++) {
      const events = Array.from({ length: 100 }, (_, i) => ({
        userId: `user-${b * 100 + i}`,
        type: i % 3 ? 'page_view' : 'click',
      }));
      expect((await ingest(server.url, stream, events)).status).toBe(202);
    }
    await eventually(() => handled >= 500);

    // Both open shards owned by two different workers, checkpointed past TRIM_HORIZON, lag 0, and all 500 events
    // counted as processed (at least once: a batch read before a rebalance can be handled again by the new owner).
    await page.waitForFunction(
      () => {
        const rows = [...document.querySelectorAll('tr[data-open="true"]')];
        const owners = new Set(rows.map((r) => r.querySelector('[data-owner]')?.getAttribute('data-owner')));
        const lags = rows.map((r) => r.querySelector('[data-lag]')?.getAttribute('data-lag'));
        const checkpoints = rows.map((r) =>
          r.querySelector('[data-checkpoint]')?.getAttribute('data-checkpoint'),
        );
        const processed = [...document.querySelectorAll('tr[data-worker] td:last-child')].reduce(
          (a, td) => a + Number((td.textContent ?? '0').replace(/[^0-9]/g, '')),
          0,
        );
        return (
          processed >= 500 &&
          checkpoints.every((c) => /^\d+$/.test(c ?? '')) &&
          rows.length === 2 &&
          owners.size === 2 &&
          !owners.has('') &&
          lags.every((l) => l === '0') &&
          document.querySelector('[data-testid="worker-count"]')?.textContent === '2'
        );
      },
      undefined,
      { timeout: 45_000, polling: 200 },
    );
    expect(await page.textContent('[data-testid="max-lag"]')).toBe('0 ms');
    expect(await page.textContent(`[data-stream="${stream}"] h2`)).toContain('ACTIVE');
    expect(await page.textContent('#target')).toMatch(/^us-east-1 · local AWS 127\.0\.0\.1:\d+$/);

    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: new URL('dashboard.png', ARTIFACTS).pathname, fullPage: true });
    expect(consoleErrors).toEqual([]);
  });

  // Issue 15 item 5: no blank dashboard until the first event; the chart draws from its first samples.
  it('shows the state on first paint, with the event stream blocked, and draws the chart from the first samples', async () => {
    const stream = await createTestStream(kinesis, { shardCount: 3 });
    const first = await startServer({
      port: 0,
      clientOptions: testClientOptions(),
      streams: [stream],
      partitionKeyField: 'userId',
      dashboardIntervalMs: 200,
    });
    try {
      const events = Array.from({ length: 50 }, (_, i) => ({ userId: `u-${i}`, type: 'click' }));
      expect((await ingest(first.url, stream, events)).status).toBe(202);
      await new Promise((r) => setTimeout(r, 500)); // a few samples with the ingest in them
      const page = await browser!.newPage({ viewport: { width: 1360, height: 1000 } });
      const consoleErrors: string[] = [];
      page.on('pageerror', (e) => consoleErrors.push(e.message));
      // No event can arrive: whatever the page shows came with the page itself.
      await page.route('**/api/events**', (route) => route.abort());
      await page.goto(`${first.url}/`, { waitUntil: 'domcontentloaded' });
      // Read at DOMContentLoaded, without waiting for anything: this is what the first paint shows.
      const shown = await page.evaluate(() => ({
        streams: [...document.querySelectorAll('[data-stream]')].map((e) => e.getAttribute('data-stream')),
        status: document.querySelector('[data-stream] h2')?.textContent ?? '',
        shardRows: document.querySelectorAll('tr[data-shard]').length,
        target: document.getElementById('target')?.textContent ?? '',
        ingest: document.getElementById('sum-ingest')?.textContent ?? '',
        version: document.getElementById('version')?.textContent ?? '',
        samples: Number(document.getElementById('chart')?.getAttribute('data-samples') ?? 0),
        inPoints: (document.querySelector('#chart polyline.in')?.getAttribute('points') ?? '')
          .trim()
          .split(/\s+/)
          .filter(Boolean)
          .map((p) => p.split(',').map(Number)),
      }));
      expect(shown.streams).toEqual([stream]);
      expect(shown.status).toContain('ACTIVE');
      expect(shown.shardRows).toBe(3);
      expect(shown.target).toMatch(/^us-east-1 · local AWS 127\.0\.0\.1:\d+$/);
      expect(shown.version).toMatch(/^awskit /);
      expect(Number(shown.ingest.replace(/[^0-9.]/g, ''))).toBeGreaterThan(0);
      // The server's samples since its start, spread over the whole width, the ingest visible above the baseline.
      expect(shown.samples).toBeGreaterThanOrEqual(2);
      expect(shown.inPoints.length).toBe(shown.samples);
      expect(shown.inPoints[0]![0]).toBe(0);
      expect(shown.inPoints.at(-1)![0]).toBe(600);
      expect(Math.min(...shown.inPoints.map((p) => p[1]!))).toBeLessThan(106);
      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({
        path: new URL('dashboard-first-paint.png', ARTIFACTS).pathname,
        fullPage: true,
      });
      await page.close();

      // The shell stays data-free for a reader without the token, when one is configured.
      const guarded = await startServer({
        port: 0,
        clientOptions: testClientOptions(),
        streams: [stream],
        token: 'first-paint-token',
      });
      try {
        const shell = await (await fetch(`${guarded.url}/`)).text();
        expect(shell).not.toContain('initial-state');
        expect(shell).not.toContain(stream);
        const withToken = await (await fetch(`${guarded.url}/?token=first-paint-token`)).text();
        expect(withToken).toContain('<script id="initial-state" type="application/json">');
        expect(withToken).toContain(stream);
      } finally {
        await guarded.close();
      }
      expect(consoleErrors).toEqual([]);
    } finally {
      await first.close();
    }
  });
});
