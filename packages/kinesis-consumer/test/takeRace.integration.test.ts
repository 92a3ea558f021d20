/**
 * A lease take whose write happened but whose answer was lost (the SDK retries it and the retry fails its
 * condition). Found by the chaos suite (polling, seed 1, CI of 2026-12-05): a forced steal's answer hung for ~4 s;
 * meanwhile the lease sat with the taker (who did not know it), expired, and its old owner took it back; when the
 * retry failed, the taker re-read the item, saw the same owner as in its 4 s old scan and stole the lease again from
 * a live owner — both workers delivered the same records. Faults are injected over HTTP by the fault proxy.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createClient } from '@awskit/core';
import { startFaultProxy } from '@awskit/local';
import { createTestStream, localAwsEndpoint, testClientOptions } from '@awskit/local/testing';
import { afterEach, describe, expect, it } from 'vitest';
import type { KinesisConsumer } from '../src/index.js';
import { LeaseTable } from '../src/leaseTable.js';
import { appName, clients, newConsumer, put, text, waitFor } from './helpers.js';

const running: KinesisConsumer[] = [];
const cleanups: (() => Promise<void> | void)[] = [];
/** Handlers blocked by a test return when it ends. */
let unblock = () => {};
afterEach(async () => {
  unblock();
  await Promise.all(running.splice(0).map((c) => c.stop()));
  for (const f of cleanups.splice(0)) await f();
});

/** A DynamoDB client whose calls go through a fault proxy whose only rule hangs one UpdateItem after forwarding it. */
async function hungUpdateItem(options: { afterCalls: number; hangMs: number }) {
  const proxy = await startFaultProxy({
    target: localAwsEndpoint(),
    rules: [
      {
        kind: 'hang',
        service: 'dynamodb',
        operation: 'UpdateItem',
        forward: true,
        latencyMs: options.hangMs,
        afterCalls: options.afterCalls,
        maxTimes: 1,
      },
    ],
    seed: 1,
  });
  cleanups.push(() => proxy.close());
  const dynamo = await createClient(DynamoDBClient, testClientOptions({ endpoint: proxy.endpoint }));
  return { proxy, dynamo };
}

describe('a take whose answer is lost (the write happened; the SDK retry fails its condition)', () => {
  it('the taker recognizes the lease as its own at once instead of leaving it unowned for a lease duration', async () => {
    const c = await clients();
    const stream = await createTestStream(c.kinesis, { shardCount: 1 });
    const app = appName();
    // The first UpdateItem of this worker is its take of the (new, unowned) lease.
    const { proxy, dynamo } = await hungUpdateItem({ afterCalls: 0, hangMs: 300 });
    const seen: string[] = [];
    const w = newConsumer(
      { kinesis: c.kinesis, dynamo },
      {
        streamName: stream,
        applicationName: app,
        workerId: 'w',
        initialPosition: 'TRIM_HORIZON',
        // A minute: a lease left behind by a lost answer would only come back after it.
        leaseDurationMs: 60_000,
        renewIntervalMs: 1_000,
        processor: (rs) => {
          seen.push(...rs.map(text));
        },
      },
    );
    running.push(w);
    await put(c.kinesis, stream, [{ key: 'k', data: 'first' }]);
    await w.start();
    await waitFor('the take was answered by a reset after it was written', () => proxy.counts().hang === 1);
    await waitFor('the record is read', () => seen.includes('first'), 15_000);
    expect(w.heldLeases().map((l) => l.shardId)).toHaveLength(1);
    const [lease] = await new LeaseTable({
      client: c.dynamo,
      tableName: app,
      sleep: async () => {},
    }).listLeases();
    expect(lease?.leaseOwner).toBe('w');
  }, 30_000);

  it('a forced steal answered after the lease changed hands twice is not retried against the live owner', async () => {
    const c = await clients();
    const stream = await createTestStream(c.kinesis, { shardCount: 2 });
    const app = appName();
    // A: its first batch on each shard blocks until that lease is lost (it cannot hand a shard over gracefully),
    // later batches are quick.
    const firstCall = new Set<string>();
    const testOver = new Promise<void>((r) => {
      unblock = r;
    });
    const deliveredToA: { shard: string; data: string; at: number }[] = [];
    const a = newConsumer(c, {
      streamName: stream,
      applicationName: app,
      workerId: 'a',
      // Counter-mode mechanics: a lost lease is noticed by its renewal and retaken when its counter stands still.
      leaseMode: 'counter',
      initialPosition: 'TRIM_HORIZON',
      processor: async (rs, ctx) => {
        const shard = rs[0]!.shardId;
        for (const r of rs) deliveredToA.push({ shard, data: text(r), at: performance.now() });
        if (!firstCall.has(shard)) {
          firstCall.add(shard);
          await new Promise<void>((resolve) => {
            if (ctx.signal.aborted) resolve();
            ctx.signal.addEventListener('abort', () => resolve(), { once: true });
            void testOver.then(resolve);
          });
        }
      },
    });
    const events: { worker: string; event: string; shard: string; at: number }[] = [];
    for (const [name, event] of [
      ['a', 'leaseAcquired'],
      ['a', 'leaseLost'],
      ['a', 'leaseReleased'],
    ] as const)
      a.on(event, (shard: string) => events.push({ worker: name, event, shard, at: performance.now() }));
    running.push(a);
    await a.start();
    await waitFor('a holds both shards', () => a.heldLeases().length === 2);
    for (const hashKey of ['1', String(2n ** 128n - 2n)])
      await put(c.kinesis, stream, [{ key: 'k', data: `block-${hashKey}`, explicitHashKey: hashKey }]);
    await waitFor('a is stuck in a batch on both shards', () => firstCall.size === 2);

    // B asks for a lease (UpdateItem 1: the hand-off request), A ignores it, B forces the steal (UpdateItem 2): that
    // write happens but its answer hangs for 5 s, far longer than a lease (2 s), then the connection is reset.
    const { proxy, dynamo } = await hungUpdateItem({ afterCalls: 1, hangMs: 5_000 });
    const b = newConsumer(
      { kinesis: c.kinesis, dynamo },
      {
        streamName: stream,
        applicationName: app,
        workerId: 'b',
        leaseMode: 'counter',
        initialPosition: 'TRIM_HORIZON',
        gracefulHandoffTimeoutMs: 1_000,
        processor: () => {},
      },
    );
    for (const event of ['leaseAcquired', 'leaseLost', 'leaseReleased'] as const)
      b.on(event, (shard: string) => events.push({ worker: 'b', event, shard, at: performance.now() }));
    running.push(b);
    await b.start();
    await waitFor('the forced steal hangs', () => proxy.counts().hang === 1, 15_000);
    const hungAt = performance.now();
    // A loses that shard to the unanswered steal, the lease expires with nobody renewing it, and A takes it back.
    await waitFor(
      'a took a lost shard back',
      () => {
        const lost = events.find((e) => e.worker === 'a' && e.event === 'leaseLost');
        return (
          !!lost &&
          events.some(
            (e) =>
              e.worker === 'a' && e.event === 'leaseAcquired' && e.shard === lost.shard && e.at > lost.at,
          )
        );
      },
      15_000,
    );
    const lost = events.find((e) => e.worker === 'a' && e.event === 'leaseLost')!;
    const retakenAt = events.find(
      (e) => e.worker === 'a' && e.event === 'leaseAcquired' && e.shard === lost.shard && e.at > lost.at,
    )!.at;
    // Records keep arriving on that shard until well after the hung answer (5 s) came back.
    const hashKey = deliveredToA.find((d) => d.shard === lost.shard)!.data.slice('block-'.length);
    while (performance.now() - hungAt < 8_000) {
      await put(c.kinesis, stream, [
        { key: 'k', data: `after-${performance.now()}`, explicitHashKey: hashKey },
      ]);
      await new Promise((r) => setTimeout(r, 100));
    }
    // A keeps the shard it took back (B may only ask for it, and A hands it over gracefully): it is never lost again.
    const lostAgain = events.filter(
      (e) => e.worker === 'a' && e.event === 'leaseLost' && e.shard === lost.shard && e.at > retakenAt,
    );
    expect(lostAgain).toEqual([]);
    // And nothing A was handed on that shard after it took it back was also given to B while A held it.
    const bGot = events.find(
      (e) => e.worker === 'b' && e.event === 'leaseAcquired' && e.shard === lost.shard && e.at > retakenAt,
    );
    const aReleased = events.find(
      (e) => e.worker === 'a' && e.event === 'leaseReleased' && e.shard === lost.shard && e.at > retakenAt,
    );
    if (bGot) expect(aReleased && aReleased.at <= bGot.at).toBe(true);
  }, 60_000);
});
