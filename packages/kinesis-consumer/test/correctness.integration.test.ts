/**
 * Regression tests for the consumer-correctness review (issue 12): each scenario broke "nothing lost, one worker per
 * shard" before its fix. Faults are injected into real SDK calls against the local AWS by client middleware.
 */
import { KinesisClient, ListShardsCommand, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { noopLogger, noopMetrics } from '@awskit/core';
import { startFaultProxy } from '@awskit/local';
import { createTestStream, localAwsEndpoint, uniqueName } from '@awskit/local/testing';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConsumerRecord, KinesisConsumer, RecordProcessor } from '../src/index.js';
import { type HeldLease, LeaseCoordinator } from '../src/leaseCoordinator.js';
import { LeaseTable } from '../src/leaseTable.js';
import { newLease } from '../src/shardSync.js';
import { awsError, delay, faultyClients } from './faults.js';
import { appName, clients, newConsumer, put, splitShardInHalf, text, waitFor } from './helpers.js';

const running: KinesisConsumer[] = [];
const cleanups: (() => void)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0)) f();
  await Promise.all(running.splice(0).map((c) => c.stop()));
});

const leases = async (dynamo: Awaited<ReturnType<typeof clients>>['dynamo'], app: string) =>
  new LeaseTable({ client: dynamo, tableName: app, sleep: async () => {} }).listLeases();

/** A worker that adds the text of every record it gets to `seen`. */
const reader = (
  c: { kinesis: KinesisClient; dynamo: Parameters<typeof leases>[0] },
  stream: string,
  app: string,
  initialPosition: 'TRIM_HORIZON' | 'LATEST',
  seen: string[],
) =>
  newConsumer(c, {
    streamName: stream,
    applicationName: app,
    initialPosition,
    processor: (rs) => {
      seen.push(...rs.map(text));
    },
  });

/** The lowest and highest hash key of a 2-shard stream's halves, to aim records at one shard. */
const LOW = '1';
const HIGH = String(2n ** 128n - 2n);

describe('a failing batch is never checkpointed (defect 2)', () => {
  /** A KCL-style processor that always fails and checkpoints in shutdownRequested, as the KCL samples do. */
  function failingKclProcessor(state: { calls: number }): RecordProcessor {
    return {
      processRecords: async () => {
        state.calls++;
        throw new Error('downstream is down');
      },
      shutdownRequested: async ({ checkpointer }) => {
        await checkpointer.checkpoint();
      },
    };
  }

  it('stop(): shutdownRequested cannot checkpoint past the last successfully processed record', async () => {
    const c = await clients();
    const stream = await createTestStream(c.kinesis, { shardCount: 1 });
    const app = appName();
    await put(
      c.kinesis,
      stream,
      Array.from({ length: 5 }, (_, i) => ({ key: 'k', data: `k:${i}` })),
    );
    const state = { calls: 0 };
    const w1 = newConsumer(c, {
      streamName: stream,
      applicationName: app,
      initialPosition: 'TRIM_HORIZON',
      processor: failingKclProcessor(state),
    });
    running.push(w1);
    await w1.start();
    await waitFor('the batch failed twice', () => state.calls >= 2);
    await w1.stop();
    const [lease] = await leases(c.dynamo, app);
    expect(lease!.checkpoint).toBe('TRIM_HORIZON');

    // The next worker gets every record again.
    const seen: string[] = [];
    const w2 = reader(c, stream, app, 'TRIM_HORIZON', seen);
    running.push(w2);
    await w2.start();
    await waitFor('all five redelivered', () => seen.length >= 5);
    expect(seen).toEqual(['k:0', 'k:1', 'k:2', 'k:3', 'k:4']);
  });

  it('hand-off to a joining worker: the failed batch is not checkpointed, the new owner reads it', async () => {
    const c = await clients();
    const stream = await createTestStream(c.kinesis, { shardCount: 2 });
    const app = appName();
    await put(c.kinesis, stream, [
      ...Array.from({ length: 4 }, (_, i) => ({ key: 'lo', data: `lo:${i}`, explicitHashKey: LOW })),
      ...Array.from({ length: 4 }, (_, i) => ({ key: 'hi', data: `hi:${i}`, explicitHashKey: HIGH })),
    ]);
    const state = { calls: 0 };
    const a = newConsumer(c, {
      streamName: stream,
      applicationName: app,
      initialPosition: 'TRIM_HORIZON',
      workerId: 'a',
      gracefulHandoffTimeoutMs: 20_000,
      processor: failingKclProcessor(state),
    });
    running.push(a);
    await a.start();
    await waitFor('a holds both shards and fails', () => a.heldLeases().length === 2 && state.calls >= 2);
    const bSeen: ConsumerRecord[] = [];
    const b = newConsumer(c, {
      streamName: stream,
      applicationName: app,
      initialPosition: 'TRIM_HORIZON',
      workerId: 'b',
      gracefulHandoffTimeoutMs: 20_000,
      processor: (rs) => {
        bSeen.push(...rs);
      },
    });
    running.push(b);
    const released: string[] = [];
    a.on('leaseReleased', (s) => released.push(s));
    await b.start();
    await waitFor('a handed one shard over', () => released.length === 1, 15_000);
    const handed = released[0]!;
    await waitFor('b read the handed-over shard', () => bSeen.length >= 4);
    expect(bSeen.every((r) => r.shardId === handed)).toBe(true);
    expect(bSeen.map(text).map((t) => t.slice(3))).toEqual(['0', '1', '2', '3']);
  });
});

/**
 * Worker A holds both shards of a 2-shard stream; then A's DynamoDB writes that `hang` selects never answer. Worker
 * B (no stealing) starts, records arrive on both shards: A must never deliver a batch for a shard after B acquired
 * it. @returns what happened, for the mode-specific checks.
 */
async function hungWriteScenario(
  leaseMode: 'counter' | 'worker-liveness',
  hang: (input: Record<string, unknown>, heldShards: string[]) => boolean,
  bAcquires: number,
) {
  const f = await faultyClients();
  const c = await clients();
  const stream = await createTestStream(c.kinesis, { shardCount: 2 });
  const app = appName();
  const deliveries: { shard: string; at: number }[] = [];
  const a = newConsumer(f, {
    streamName: stream,
    applicationName: app,
    workerId: 'a',
    leaseMode,
    initialPosition: 'TRIM_HORIZON',
    processor: (rs) => {
      deliveries.push({ shard: rs[0]!.shardId, at: performance.now() });
    },
  });
  running.push(a);
  await a.start();
  await waitFor('a holds both shards', () => a.heldLeases().length === 2);
  const heldShards = a.heldLeases().map((l) => l.shardId);
  let release!: () => void;
  const hold = new Promise<void>((r) => {
    release = r;
  });
  cleanups.push(release);
  let held = 0;
  f.dynamoFaults.push({
    commands: ['UpdateItemCommand'],
    before: async (input) => {
      if (hang(input, heldShards)) {
        held++;
        await hold;
      }
    },
  });
  await waitFor('a write is held', () => held > 0);
  // B takes only expired leases (no stealing), and records when it got each.
  const acquiredByB = new Map<string, number>();
  const b = newConsumer(c, {
    streamName: stream,
    applicationName: app,
    workerId: 'b',
    leaseMode,
    initialPosition: 'TRIM_HORIZON',
    balance: false,
    processor: () => {},
  });
  b.on('leaseAcquired', (s) => acquiredByB.set(s, performance.now()));
  running.push(b);
  await b.start();
  await waitFor(`b acquired ${bAcquires} shard(s)`, () => acquiredByB.size >= bAcquires, 20_000);
  for (let i = 0; i < 10; i++) {
    await put(c.kinesis, stream, [
      { key: 'lo', data: `lo:${i}`, explicitHashKey: LOW },
      { key: 'hi', data: `hi:${i}`, explicitHashKey: HIGH },
    ]);
    await delay(150);
  }
  await delay(1_000);
  const late = deliveries.filter((d) => {
    const t = acquiredByB.get(d.shard);
    return t !== undefined && d.at > t;
  });
  expect(late).toEqual([]);
  return { a, heldShards, acquiredByB, deliveries };
}

describe('a hung DynamoDB call does not keep a worker delivering a shard it lost (defect 4)', () => {
  it('counter: holds one UpdateItem; the worker never delivers a batch for a shard after another acquired it', async () => {
    // The next write to one lease (its renewal) never answers, so A cannot renew or retake it.
    const r = await hungWriteScenario(
      'counter',
      (input, [hungShard]) => (input.Key as { leaseKey?: { S: string } }).leaseKey?.S === hungShard,
      1,
    );
    // The shard whose lease was not hung stays with A (its renewals go on) and A keeps processing it.
    const otherShard = r.heldShards[1]!;
    expect(r.acquiredByB.has(otherShard)).toBe(false);
    expect(r.deliveries.some((d) => d.shard === otherShard)).toBe(true);
  });

  it('worker-liveness: every heartbeat write of A hangs; B fences A’s session and takes its shards, A never delivers a batch for a shard after B acquired it', async () => {
    const r = await hungWriteScenario(
      'worker-liveness',
      (input) => String(input.TableName).endsWith('-awskit-workers'),
      2,
    );
    // A stopped acting on both shards: it holds nothing while its heartbeats hang.
    expect(r.a.heldLeases()).toEqual([]);
  });
});

describe('a hung Kinesis call on a client without timeouts does not stall a shard forever (defect 4)', () => {
  for (const mode of ['polling', 'efo'] as const)
    it(`${mode}: the consumer's own call deadline aborts it and reading goes on`, async () => {
      const c = await clients();
      const stream = await createTestStream(c.kinesis, { shardCount: 1 });
      // The first read call (GetRecords / DescribeStreamConsumer) through this proxy never answers.
      const proxy = await startFaultProxy({
        target: localAwsEndpoint(),
        rules: [
          {
            kind: 'hang',
            service: 'kinesis',
            operation: mode === 'polling' ? 'GetRecords' : 'DescribeStreamConsumer',
            maxTimes: 1,
          },
        ],
        seed: 1,
      });
      cleanups.push(() => void proxy.close());
      // A user's client with no timeouts at all.
      const bare = new KinesisClient({
        endpoint: proxy.endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        requestHandler: new NodeHttpHandler(),
      });
      const seen: string[] = [];
      const w = newConsumer(
        { kinesis: bare, dynamo: c.dynamo },
        {
          streamName: stream,
          applicationName: appName(),
          initialPosition: 'TRIM_HORIZON',
          mode,
          efo: { minTimeBetweenSubscribesMs: 100 },
          processor: (rs) => {
            seen.push(...rs.map(text));
          },
        },
      );
      running.push(w);
      await put(c.kinesis, stream, [{ key: 'k', data: 'through' }]);
      await w.start();
      await waitFor('the record is read after the hung call', () => seen.includes('through'), 25_000);
      expect(proxy.counts().hang).toBe(1);
    }, 45_000);
});

describe('never two consumers of one shard in one worker (defect 5)', () => {
  it('in-flight handler calls per shard stay ≤ 1 across a DynamoDB outage longer than the lease', async () => {
    const f = await faultyClients();
    const stream = await createTestStream(f.kinesis, { shardCount: 1 });
    const app = appName();
    let inFlight = 0;
    let maxInFlight = 0;
    let acquired = 0;
    const seen = new Set<string>();
    const w = newConsumer(f, {
      streamName: stream,
      applicationName: app,
      initialPosition: 'TRIM_HORIZON',
      processor: async (rs) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        try {
          for (const r of rs) seen.add(text(r));
          // A slow handler that ignores the abort signal (as many do).
          await delay(rs.some((r) => text(r) === 'slow') ? 6_000 : 10);
        } finally {
          inFlight--;
        }
      },
    });
    w.on('leaseAcquired', () => acquired++);
    running.push(w);
    await w.start();
    await put(f.kinesis, stream, [{ key: 'k', data: 'slow' }]);
    await waitFor('the slow batch started', () => inFlight === 1);
    // DynamoDB is unreachable for 3.5 s (lease 2 s).
    let down = true;
    f.dynamoFaults.push({
      before: () => {
        if (down) throw awsError('InternalServerError', 'injected outage');
      },
    });
    await delay(3_500);
    down = false;
    await put(f.kinesis, stream, [{ key: 'k', data: 'after' }]);
    await waitFor('the record put after the outage was processed', () => seen.has('after'), 20_000);
    expect(acquired).toBeGreaterThanOrEqual(2);
    expect(maxInFlight).toBe(1);
  }, 60_000);
});

describe('smaller defects (defect 6)', () => {
  async function coordinatorOn(table: LeaseTable, clock: { t: number }) {
    const lost: string[] = [];
    const co = new LeaseCoordinator({
      table,
      workerId: 'w',
      clock: { now: () => clock.t },
      sleep: async () => {},
      leaseDurationMs: 10_000,
      renewIntervalMs: 1_000,
      takeIntervalMs: 1_000,
      maxLeasesForWorker: Number.POSITIVE_INFINITY,
      balance: true,
      logger: noopLogger,
      metrics: noopMetrics,
      random: () => 0.5,
      onAcquired: () => {},
      onLost: (h: HeldLease) => lost.push(h.shardId),
      handoffTimeoutMs: 0,
      onHandoffRequested: () => {},
    });
    return { co, lost };
  }
  const SHARD = 'shardId-000000000000';

  async function tableWithLease(dynamo: Awaited<ReturnType<typeof clients>>['dynamo']) {
    const table = new LeaseTable({ client: dynamo, tableName: uniqueName('leases'), sleep: delay });
    await table.ensureTable();
    await table.createLeaseIfNotExists(newLease(SHARD, 'TRIM_HORIZON', []));
    return table;
  }

  it('no spurious leaseLost for a renewal queued behind release()', async () => {
    const c = await clients();
    const table = await tableWithLease(c.dynamo);
    const clock = { t: 0 };
    const { co, lost } = await coordinatorOn(table, clock);
    await co.takeOnce();
    const held = co.held.get(SHARD)!;
    clock.t = 5_000;
    const releasing = co.release(held);
    await co.renewAll();
    await releasing;
    expect(lost).toEqual([]);
    expect((await table.getLease(SHARD))!.leaseOwner).toBeUndefined();
  });

  it('no spurious leaseLost for a renewal queued behind the SHARD_END checkpoint', async () => {
    const c = await clients();
    const table = await tableWithLease(c.dynamo);
    const clock = { t: 0 };
    const { co, lost } = await coordinatorOn(table, clock);
    await co.takeOnce();
    const held = co.held.get(SHARD)!;
    clock.t = 5_000;
    const ending = co.checkpoint(
      held,
      { sequenceNumber: 'SHARD_END', subSequenceNumber: 0 },
      { childShardIds: ['shardId-000000000001'], releaseOwner: true },
    );
    const renewing = co.renewAll();
    await ending;
    co.forget(held);
    await renewing;
    expect(lost).toEqual([]);
  });

  it('taking an unowned lease does not count as an owner switch (only a real switch does)', async () => {
    const c = await clients();
    const table = await tableWithLease(c.dynamo);
    const [seen] = await table.listLeases();
    const a = await table.takeLease(seen!, 'a');
    expect(a!.ownerSwitchesSinceCheckpoint).toBe(0);
    const b = await table.takeLease(a!, 'b');
    expect(b!.ownerSwitchesSinceCheckpoint).toBe(1);
  });

  it('a renewal that adopts an earlier write (re-read) does not claim a fresher renewal than that write', async () => {
    const f = await faultyClients();
    const table = new LeaseTable({ client: f.dynamo, tableName: uniqueName('leases'), sleep: delay });
    await table.ensureTable();
    await table.createLeaseIfNotExists(newLease(SHARD, 'TRIM_HORIZON', []));
    const clock = { t: 0 };
    const { co } = await coordinatorOn(table, clock);
    await co.takeOnce();
    const held = co.held.get(SHARD)!;
    // Clock times at which an UpdateItem was sent and really changed the item.
    const landed: number[] = [0];
    let loseNextResponse = false;
    f.dynamoFaults.push({
      commands: ['UpdateItemCommand'],
      after: () => {
        landed.push(clock.t);
        if (loseNextResponse) {
          loseNextResponse = false;
          throw awsError('TimeoutError', 'injected: response lost after the write');
        }
      },
    });
    clock.t = 4_500;
    loseNextResponse = true;
    await co.renewAll(); // written, but the worker never heard back
    clock.t = 8_000;
    await co.renewAll(); // condition fails, re-read shows our earlier write
    expect(co.held.has(SHARD)).toBe(true);
    expect(held.lastRenewedAt).toBeLessThanOrEqual(Math.max(...landed));
  });

  it('SHARD_END is not written without child leases when ListShards fails and stop() comes', async () => {
    const f = await faultyClients();
    const stream = await createTestStream(f.kinesis, { shardCount: 1 });
    const app = appName();
    const w = newConsumer(f, {
      streamName: stream,
      applicationName: app,
      initialPosition: 'TRIM_HORIZON',
      processor: () => {},
    });
    running.push(w);
    await w.start();
    await waitFor('lease held', () => w.heldLeases().length === 1);
    // From now on: GetRecords never names the children, and ListShards fails.
    let listShardsFailures = 0;
    f.kinesisFaults.push(
      {
        commands: ['GetRecordsCommand'],
        after: (_in, out) => {
          (out as { ChildShards?: unknown }).ChildShards = undefined;
        },
      },
      {
        commands: ['ListShardsCommand'],
        before: () => {
          listShardsFailures++;
          throw awsError('InternalFailure', 'injected ListShards failure');
        },
      },
    );
    const c = await clients();
    const shards = (await c.kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards!;
    await splitShardInHalf(c.kinesis, stream, shards[0]!);
    await waitFor('the shard end needs ListShards', () => listShardsFailures >= 2, 20_000);
    await w.stop();
    const parent = (await leases(c.dynamo, app)).find((l) => l.leaseKey === shards[0]!.ShardId)!;
    if (parent.checkpoint === 'SHARD_END') expect(parent.childShardIds.length).toBe(2);
    else expect(parent.checkpoint).not.toBe('SHARD_END');
  });

  it('a retried iterator at LATEST does not skip records that arrived in between', async () => {
    const f = await faultyClients();
    const stream = await createTestStream(f.kinesis, { shardCount: 1 });
    const app = appName();
    const seen: string[] = [];
    const w = reader(f, stream, app, 'LATEST', seen);
    running.push(w);
    let getRecords = 0;
    let putDone!: () => void;
    const put1 = new Promise<void>((r) => {
      putDone = r;
    });
    cleanups.push(putDone);
    f.kinesisFaults.push({
      commands: ['GetRecordsCommand'],
      before: async () => {
        getRecords++;
        // The third read (the iterator came from LATEST, nothing read yet) waits for a record, then its iterator
        // "expired": the fetcher must not ask for LATEST again.
        if (getRecords === 3) {
          await put1;
          throw awsError('ExpiredIteratorException', 'injected: iterator expired');
        }
      },
    });
    await w.start();
    await waitFor('two empty reads at LATEST', () => getRecords >= 3);
    await f.kinesis.send(
      new PutRecordCommand({
        StreamName: stream,
        PartitionKey: 'k',
        Data: new TextEncoder().encode('between'),
      }),
    );
    putDone();
    await delay(300);
    await f.kinesis.send(
      new PutRecordCommand({
        StreamName: stream,
        PartitionKey: 'k',
        Data: new TextEncoder().encode('later'),
      }),
    );
    await waitFor('the later record', () => seen.includes('later'));
    expect(seen).toContain('between');
  });

  it('stop() gives up on a handler that never settles after shutdownTimeoutMs; the lease then expires', async () => {
    const c = await clients();
    const stream = await createTestStream(c.kinesis, { shardCount: 1 });
    const app = appName();
    await put(c.kinesis, stream, [{ key: 'k', data: 'stuck' }]);
    let entered = false;
    const w1 = newConsumer(c, {
      streamName: stream,
      applicationName: app,
      initialPosition: 'TRIM_HORIZON',
      shutdownTimeoutMs: 500,
      processor: () => {
        entered = true;
        return new Promise<void>(() => {});
      },
    });
    running.push(w1);
    await w1.start();
    await waitFor('handler entered', () => entered);
    await w1.stop();
    const seen: string[] = [];
    const w2 = reader(c, stream, app, 'TRIM_HORIZON', seen);
    running.push(w2);
    await w2.start();
    await waitFor('the record is processed by the next worker', () => seen.includes('stuck'));
  });
});
