/**
 * Worker-liveness heartbeats at a timing with little slack (lease 4.3 s, heartbeat 3.3 s: the interval at which a
 * worker with one lease writes no more than a KCL worker renewing it): one lost heartbeat call must not cost the
 * session. Before, a heartbeat that hung was waited for up to the 10 s call deadline and one that failed was only
 * sent again at the next interval, both past the lease: the worker dropped its leases and started a new session.
 * Faults are injected over HTTP by the fault proxy, in front of the real DynamoDB API.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createClient, MetricsRegistry } from '@awskit/core';
import { type FaultRule, startFaultProxy } from '@awskit/local';
import { createTestStream, localAwsEndpoint, testClientOptions } from '@awskit/local/testing';
import { afterEach, describe, expect, it } from 'vitest';
import type { KinesisConsumer } from '../src/index.js';
import { appName, clients, newConsumer, put, text, waitFor } from './helpers.js';

const running: KinesisConsumer[] = [];
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.stop()));
  for (const f of cleanups.splice(0)) await f();
});

const LEASE_MS = 4_300;
const HEARTBEAT_MS = 3_300;

describe('worker-liveness: a lost heartbeat call does not cost the session', () => {
  it.each<[string, FaultRule]>([
    // The next UpdateItem (the heartbeat: no records, so no checkpoints) never answers.
    ['hangs', { kind: 'hang', service: 'dynamodb', operation: 'UpdateItem', maxTimes: 1 }],
    // The next three heartbeat calls fail (a client without SDK retries: each failure reaches the worker).
    ['fails', { kind: 'http500', service: 'dynamodb', operation: 'UpdateItem', maxTimes: 3 }],
  ])(
    'a heartbeat that %s is sent again within the lease; the worker keeps its session and its leases',
    async (_, rule) => {
      const c = await clients();
      const stream = await createTestStream(c.kinesis, { shardCount: 2 });
      const proxy = await startFaultProxy({ target: localAwsEndpoint(), seed: 1 });
      cleanups.push(() => proxy.close());
      const dynamo = await createClient(
        DynamoDBClient,
        testClientOptions({ endpoint: proxy.endpoint, maxAttempts: 1 }),
      );
      const metrics = new MetricsRegistry();
      const seen: string[] = [];
      const lost: string[] = [];
      const w = newConsumer(
        { kinesis: c.kinesis, dynamo },
        {
          streamName: stream,
          applicationName: appName(),
          workerId: 'a',
          leaseMode: 'worker-liveness',
          leaseDurationMs: LEASE_MS,
          renewIntervalMs: HEARTBEAT_MS,
          initialPosition: 'TRIM_HORIZON',
          metrics,
          processor: (rs) => {
            seen.push(...rs.map(text));
          },
        },
      );
      w.on('leaseLost', (s) => lost.push(s));
      running.push(w);
      await w.start();
      await waitFor('a holds both shards', () => w.heldLeases().length === 2, 15_000);
      const fault = rule.kind;
      proxy.setRules([rule]);
      await waitFor(`the ${fault} fault was injected`, () => proxy.counts()[fault] >= 1, 10_000);
      // Two lease durations: the session would have been given up (and its leases dropped) within the first.
      await new Promise((r) => setTimeout(r, 2 * LEASE_MS));
      expect(proxy.counts()[fault]).toBe(rule.maxTimes);
      expect(metrics.value('kinesis_consumer_sessions_abandoned_total', { worker: 'a' })).toBe(0);
      expect(lost).toEqual([]);
      expect(w.heldLeases()).toHaveLength(2);
      // The failed or hung attempts were counted, and the worker goes on reading.
      expect(metrics.value('kinesis_consumer_renew_failures_total', { worker: 'a' })).toBeGreaterThanOrEqual(
        1,
      );
      await put(c.kinesis, stream, [{ key: 'k', data: 'after' }]);
      await waitFor('a record put after the fault is processed', () => seen.includes('after'), 10_000);
    },
    45_000,
  );
});
