import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAwskitError } from '@awskit/core';
import { describe, expect, it } from 'vitest';
import { bearerToken, tokenMatches } from '../src/auth.js';
import { ServerOptionsError } from '../src/errors.js';
import { loadHandler } from '../src/handler.js';
import { serverEnv, validateServerOptions } from '../src/options.js';
import { RateMeter } from '../src/rate.js';
import { serveFromFlags } from '../src/serve.js';

describe('RateMeter', () => {
  it('reports the rate over the last seconds, the current partial one included, and forgets older ones', () => {
    let now = 10_000;
    const m = new RateMeter(5, { now: () => now });
    m.add(50);
    now += 1_000;
    m.add(25);
    now += 1_500;
    expect(m.perSecond()).toBeCloseTo(75 / 4.5, 6);
    m.add(9);
    expect(m.perSecond()).toBeCloseTo(84 / 4.5, 6);
    expect(m.total).toBe(84);
    now += 10_000;
    expect(m.perSecond()).toBe(0);
    expect(m.total).toBe(84);
  });
});

describe('bearer token', () => {
  it('parses the Authorization header and compares in constant time', () => {
    expect(bearerToken('Bearer abc.def')).toBe('abc.def');
    expect(bearerToken('bearer   xyz ')).toBe('xyz');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(tokenMatches('secret-token', 'secret-token')).toBe(true);
    expect(tokenMatches('secret-token', 'secret-tokeN')).toBe(false);
    expect(tokenMatches('secret-token', undefined)).toBe(false);
  });
});

describe('validateServerOptions', () => {
  it('reports every bad option at once, with its path', () => {
    try {
      validateServerOptions({
        streams: ['ok', 'bad name!'],
        port: 70_000,
        token: 'short',
        consume: { stream: '', handler: 'nope' as never, workers: 0 },
      });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ServerOptionsError);
      expect((e as ServerOptionsError).problems.map((p) => p.path)).toEqual([
        'streams[1]',
        'port',
        'token',
        'consume.stream',
        'consume.handler',
        'consume.workers',
      ]);
    }
  });

  it('reads AWSKIT_SERVER_* variables', () => {
    expect(
      serverEnv({ AWSKIT_SERVER_PORT: '9000', AWSKIT_SERVER_STREAMS: 'a, b,', AWSKIT_SERVER_TOKEN: 't' }),
    ).toEqual({ port: 9000, streams: ['a', 'b'], token: 't' });
  });
});

describe('serveFromFlags', () => {
  it('rejects flags that cannot work together before touching AWS', async () => {
    const err = await serveFromFlags({ port: 'x', consume: 'orders' }, { env: {} }).catch((e) => e);
    expect(isAwskitError(err, 'SERVER_INVALID_OPTIONS')).toBe(true);
    expect((err as ServerOptionsError).problems.map((p) => p.path)).toEqual(['--port', '--handler']);
  });

  it('needs a stream', async () => {
    const err = await serveFromFlags({}, { env: {} }).catch((e) => e);
    expect((err as ServerOptionsError).problems.map((p) => p.path)).toEqual(['--stream']);
  });
});

describe('loadHandler', () => {
  it('loads a default export, a named handler and an onError hook', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'awskit-handler-'));
    await writeFile(
      join(dir, 'a.mjs'),
      'export default async function (records) { return records.length; }\n',
    );
    await writeFile(
      join(dir, 'b.cjs'),
      "exports.handler = async () => {}; exports.onError = () => 'skip';\n",
    );
    const a = await loadHandler('a.mjs', dir);
    expect(typeof a.handler).toBe('function');
    expect(a.onError).toBeUndefined();
    const b = await loadHandler(join(dir, 'b.cjs'));
    expect(b.onError).toBeTypeOf('function');
  });

  it('explains a missing module or one without a handler function', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'awskit-handler-'));
    await writeFile(join(dir, 'none.mjs'), 'export const x = 1;\n');
    await expect(loadHandler('missing.mjs', dir)).rejects.toMatchObject({ code: 'INVALID_HANDLER' });
    await expect(loadHandler('none.mjs', dir)).rejects.toMatchObject({
      code: 'INVALID_HANDLER',
      message: expect.stringContaining('exports no handler function'),
    });
  });
});

describe('renderDashboardPage', () => {
  it('embeds the state so no text in it (an error message) can close the element, and inlines app.js', async () => {
    const { renderDashboardPage } = await import('../src/server.js');
    const evil = '</script><img src=x onerror=alert(1)>';
    const state = {
      time: new Date(0).toISOString(),
      uptimeMs: 1,
      version: '0.0.0',
      target: { region: 'us-east-1', endpoint: 'AWS', local: false },
      streams: [],
      workers: [],
      errors: {
        total: 1,
        recent: [{ time: new Date(0).toISOString(), source: 'handler' as const, message: evil }],
      },
      throughput: [{ time: 0, in: 1, out: 2 }],
    };
    const html = renderDashboardPage(
      '<body>\n<script src="/app.js"></script>\n</body>',
      'const a = "</script>"; render();',
      state,
    );
    expect(html).not.toContain('<img');
    expect(html).not.toContain('src="/app.js"');
    expect(html.match(/<\/script>/g)).toHaveLength(2);
    const json = /<script id="initial-state" type="application\/json">(.*?)<\/script>/s.exec(html)![1]!;
    expect(JSON.parse(json)).toEqual(state);
    expect(html).toContain('<script>const a = "<\\/script>"; render();</script>');
  });
});
