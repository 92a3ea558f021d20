import { request } from 'node:http';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startFaultProxy } from '../src/faultProxy';
import { localAwsEndpoint } from '../src/testing';

// Alone in its file (its own worker), so the process's handle counts are this test's alone.

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const settle = () => new Promise((r) => setImmediate(r));

const handles = () => {
  const info = process.getActiveResourcesInfo();
  return {
    servers: info.filter((r) => r === 'TCPServerWrap').length,
    sockets: info.filter((r) => r === 'TCPSocketWrap').length,
    timers: info.filter((r) => r === 'Timeout').length,
  };
};

const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.on('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.on('error', () => resolve(true));
  });

/** A raw Kinesis call through the proxy; resolves with how it ended. */
const rawCall = (endpoint: string, operation: string) =>
  new Promise<string>((resolve) => {
    const req = request(`${endpoint}/`, {
      method: 'POST',
      headers: {
        'x-amz-target': `Kinesis_20131202.${operation}`,
        'content-type': 'application/x-amz-json-1.1',
      },
    });
    req.on('error', (e) => resolve(e.message));
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(`HTTP ${res.statusCode}`));
    });
    req.end('{}');
  });

describe('FaultProxy.close', () => {
  it('drops hung calls and its listener, leaving no socket, server or timer behind', async () => {
    await settle();
    const before = handles();
    const p = await startFaultProxy({
      target: localAwsEndpoint(),
      // A hang with a reset timer a minute away, plus a long latency: both timers must go with close().
      rules: [
        { kind: 'hang', operation: 'ListStreams', probability: 1, latencyMs: 60_000 },
        { kind: 'latency', operation: 'DescribeLimits', probability: 1, latencyMs: 60_000 },
      ],
    });
    const hung = rawCall(p.endpoint, 'ListStreams');
    const delayed = rawCall(p.endpoint, 'DescribeLimits');
    for (let i = 0; i < 200 && (p.counts().hang === 0 || p.counts().latency === 0); i++) await sleep(10);
    expect(p.counts()).toMatchObject({ hang: 1, latency: 1 });
    expect(handles().servers).toBe(before.servers + 1);
    await p.close();
    expect(await hung).toMatch(/socket hang up|ECONNRESET/);
    expect(await delayed).toMatch(/socket hang up|ECONNRESET/);
    expect(await refused(p.port)).toBe(true);
    // Handles close asynchronously once their sockets are destroyed: give them a few turns of the event loop.
    // Nothing of the proxy's may be left: no count above what it was before (the test worker's own timers may
    // come and go meanwhile — one that was there before and ended failed an equality check in CI).
    const leftBehind = () => {
      const now = handles();
      return (Object.keys(before) as (keyof typeof before)[]).filter((k) => now[k] > before[k]);
    };
    for (let i = 0; i < 50 && leftBehind().length > 0; i++) await sleep(10);
    expect({ leftBehind: leftBehind(), handles: handles() }).toEqual({
      leftBehind: [],
      handles: expect.anything(),
    });
    // Closing twice is harmless.
    await p.close();
  });
});
