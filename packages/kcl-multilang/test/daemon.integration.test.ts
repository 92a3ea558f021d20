import { DescribeTableCommand, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
  SplitShardCommand,
} from '@aws-sdk/client-kinesis';
import { createClient, MetricsRegistry } from '@awskit/core';
import { createTestStream, testClientOptions, uniqueName } from '@awskit/local/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MultiLangDaemon } from '../src/daemon.js';
import { parseKclProperties } from '../src/properties.js';
import { eventFile, FIXTURES, type ProcessorEvent, readEvents, waitFor } from './helpers.js';

/** Short leases and polls so the tests run in seconds. */
const FAST = {
  leaseDurationMs: 2_000,
  renewIntervalMs: 400,
  takeIntervalMs: 300,
  polling: { idleTimeBetweenReadsMs: 100, minTimeBetweenReadsMs: 50 },
  handlerBackoff: { baseMs: 20, capMs: 200 },
} as const;

let kinesis: KinesisClient;
let dynamo: DynamoDBClient;
const running: MultiLangDaemon[] = [];

beforeAll(async () => {
  kinesis = await createClient(KinesisClient, testClientOptions());
  dynamo = await createClient(DynamoDBClient, testClientOptions());
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((d) => d.stop()));
});
afterAll(() => {
  kinesis.destroy();
  dynamo.destroy();
});

/** A properties file of the shape aws-kcl's README shows, running the recorder fixture. */
function properties(stream: string, app: string, extra = ''): string {
  return `# aws-kcl sample shape
executableName = node recorder.cjs
streamName = ${stream}
applicationName = ${app}
AwsCredentialsProvider = DefaultCredentialsProvider
processingLanguage = nodejs/20
initialPositionInStream = TRIM_HORIZON
regionName = us-east-1
retrievalMode = POLLING
${extra}`;
}

function startDaemon(
  text: string,
  env: Record<string, string>,
  workerId: string,
  overrides: Record<string, unknown> = {},
): { daemon: MultiLangDaemon; metrics: MetricsRegistry; started: Promise<void> } {
  const metrics = new MetricsRegistry();
  const daemon = new MultiLangDaemon({
    properties: parseKclProperties(text),
    cwd: FIXTURES,
    env: { ...process.env, ...env },
    clientOptions: testClientOptions(),
    consumerOverrides: { ...FAST, workerId, ...overrides },
    metrics,
  });
  running.push(daemon);
  return { daemon, metrics, started: daemon.start() };
}

async function put(stream: string, items: { key: string; data: string }[]): Promise<void> {
  const r = await kinesis.send(
    new PutRecordsCommand({
      StreamName: stream,
      Records: items.map((i) => ({ PartitionKey: i.key, Data: new TextEncoder().encode(i.data) })),
    }),
  );
  expect(r.FailedRecordCount ?? 0).toBe(0);
}

async function leaseTable(table: string): Promise<Map<string, { checkpoint?: string; owner?: string }>> {
  const r = await dynamo.send(new ScanCommand({ TableName: table, ConsistentRead: true }));
  return new Map(
    (r.Items ?? []).map((i) => [i.leaseKey!.S!, { checkpoint: i.checkpoint?.S, owner: i.leaseOwner?.S }]),
  );
}

const processed = (events: ProcessorEvent[]) =>
  events
    .filter((e) => e.action === 'processRecords')
    .flatMap((e) => e.records!.map((r) => ({ ...r, shardId: e.shardId, pid: e.pid })));

describe('MultiLangDaemon with aws-kcl processors on the local AWS', () => {
  it('processes a 2-shard stream in order per shard, checkpoints in the lease table, stops with shutdownRequested then releases', async () => {
    const stream = await createTestStream(kinesis, { shardCount: 2 });
    const app = uniqueName('kclml');
    const items = Array.from({ length: 40 }, (_, i) => ({ key: `k${i % 8}`, data: `r${i}` }));
    await put(stream, items.slice(0, 20));
    const out = eventFile();
    const { daemon, started } = startDaemon(properties(stream, app), { KCL_TEST_OUT: out }, 'w1');
    await started;
    await put(stream, items.slice(20));
    await waitFor('all 40 records processed', () => processed(readEvents(out)).length >= 40);
    const recs = processed(readEvents(out));
    expect(recs.map((r) => r.data).sort()).toEqual(items.map((i) => i.data).sort());
    // In order per shard (sequence numbers only grow) and so per key (put order).
    for (const shard of new Set(recs.map((r) => r.shardId))) {
      const seqs = recs.filter((r) => r.shardId === shard).map((r) => BigInt(r.sequenceNumber));
      expect(seqs).toEqual([...seqs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    for (let k = 0; k < 8; k++)
      expect(recs.filter((r) => r.partitionKey === `k${k}`).map((r) => r.data)).toEqual(
        items.filter((i) => i.key === `k${k}`).map((i) => i.data),
      );
    expect(new Set(recs.map((r) => r.shardId)).size).toBe(2);
    // The checkpoints the children asked for are in the lease table: the last record of each shard.
    const lastPerShard = new Map(recs.map((r) => [r.shardId, r.sequenceNumber]));
    await waitFor('checkpoints in the lease table', async () => {
      const t = await leaseTable(app);
      return [...lastPerShard].every(([s, seq]) => t.get(s)?.checkpoint === seq);
    });
    expect(daemon.stats()).toMatchObject({ childrenStarted: 2, childrenRunning: 2, checkpointErrors: 0 });
    // KCL-style leases (a Java KCL worker may share this table): counters renewed, no awskit worker table.
    const counters = async () =>
      (await dynamo.send(new ScanCommand({ TableName: app, ConsistentRead: true }))).Items!.map((i) =>
        Number(i.leaseCounter!.N),
      );
    const before = await counters();
    await waitFor('lease counters renewed', async () => (await counters()).every((c, i) => c > before[i]!));
    await expect(
      dynamo.send(new DescribeTableCommand({ TableName: `${app}-awskit-workers` })),
    ).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });

    await daemon.stop();
    const ev = readEvents(out);
    for (const shard of lastPerShard.keys()) {
      const actions = ev.filter((e) => e.shardId === shard).map((e) => e.action);
      expect(actions.slice(-3)).toEqual(['shutdownRequested', 'checkpointed', 'leaseLost']);
    }
    expect(daemon.stats().childrenRunning).toBe(0);
    const t = await leaseTable(app);
    expect([...t.values()].map((l) => l.owner)).toEqual([undefined, undefined]); // released
  });

  it('after a split: shardEnded with the child’s SHARD_END checkpoint, then the child shards from TRIM_HORIZON', async () => {
    const stream = await createTestStream(kinesis, { shardCount: 1 });
    const app = uniqueName('kclml');
    const out = eventFile();
    const { started } = startDaemon(properties(stream, app), { KCL_TEST_OUT: out }, 'w1');
    await started;
    const before = Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, data: `a${i}` }));
    await put(stream, before);
    await waitFor('first records', () => processed(readEvents(out)).length >= 10);
    const parent = (await kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards![0]!;
    const mid =
      (BigInt(parent.HashKeyRange!.StartingHashKey!) + BigInt(parent.HashKeyRange!.EndingHashKey!)) / 2n;
    await kinesis.send(
      new SplitShardCommand({
        StreamName: stream,
        ShardToSplit: parent.ShardId!,
        NewStartingHashKey: String(mid),
      }),
    );
    await waitFor('two open children', async () => {
      const s = (await kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? [];
      return s.filter((x) => !x.SequenceNumberRange?.EndingSequenceNumber).length === 2;
    });
    const after = Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, data: `b${i}` }));
    await put(stream, after);
    await waitFor('records on the children', () => processed(readEvents(out)).length >= 20, 40_000);
    const ev = readEvents(out);
    const parentEvents = ev.filter((e) => e.shardId === parent.ShardId);
    expect(parentEvents.map((e) => e.action).slice(-2)).toEqual(['shardEnded', 'checkpointed']);
    expect(parentEvents.at(-1)).toMatchObject({ sequenceNumber: 'SHARD_END', error: null });
    const endedAt = ev.indexOf(parentEvents.at(-2)!);
    const childInits = ev.filter((e) => e.action === 'initialize' && e.shardId !== parent.ShardId);
    expect(childInits.length).toBe(2);
    for (const c of childInits) {
      expect(ev.indexOf(c)).toBeGreaterThan(endedAt); // children only after the parent ended
      expect(c.sequenceNumber).toBe('TRIM_HORIZON');
    }
    expect(
      processed(ev)
        .map((r) => r.data)
        .sort(),
    ).toEqual([...before, ...after].map((i) => i.data).sort());
    await waitFor(
      'SHARD_END in the lease table',
      async () => (await leaseTable(app)).get(parent.ShardId!)?.checkpoint === 'SHARD_END',
    );
  });

  it.each(['counter', 'worker-liveness'] as const)(
    '%s: a second daemon on the same table takes a shard: the first one’s child gets leaseLost, the new child starts at the checkpoint',
    async (leaseMode) => {
      const stream = await createTestStream(kinesis, { shardCount: 2 });
      const app = uniqueName('kclml');
      await put(
        stream,
        Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, data: `x${i}` })),
      );
      const outA = eventFile();
      const outB = eventFile();
      // KCL 2.x behaviour: the lease is stolen at once, so the first owner learns it only by losing it.
      const a = startDaemon(properties(stream, app), { KCL_TEST_OUT: outA }, 'worker-a', {
        gracefulHandoffTimeoutMs: 0,
        leaseMode,
      });
      await a.started;
      await waitFor('A holds both shards and processed', () => processed(readEvents(outA)).length >= 10);
      const b = startDaemon(properties(stream, app), { KCL_TEST_OUT: outB }, 'worker-b', {
        gracefulHandoffTimeoutMs: 0,
        leaseMode,
      });
      await b.started;
      const moved = await waitFor('B initialized a shard', () =>
        readEvents(outB).find((e) => e.action === 'initialize'),
      );
      await waitFor('A’s child of that shard got leaseLost', () =>
        readEvents(outA).some((e) => e.shardId === moved.shardId && e.action === 'leaseLost'),
      );
      const aEvents = readEvents(outA).filter((e) => e.shardId === moved.shardId);
      expect(aEvents.map((e) => e.action)).not.toContain('shutdownRequested');
      const lastCheckpoint = aEvents
        .filter((e) => e.action === 'checkpointed' && !e.error)
        .at(-1)!.sequenceNumber;
      expect(moved.sequenceNumber).toBe(lastCheckpoint);
      // The shards are shared: new records go to each shard's current owner, each record once.
      await put(
        stream,
        Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, data: `y${i}` })),
      );
      await waitFor(
        'new records processed',
        () =>
          [...processed(readEvents(outA)), ...processed(readEvents(outB))].filter((r) =>
            r.data.startsWith('y'),
          ).length >= 10,
      );
      const ys = [...processed(readEvents(outA)), ...processed(readEvents(outB))].filter((r) =>
        r.data.startsWith('y'),
      );
      expect(ys.length).toBe(10);
      expect(processed(readEvents(outB)).every((r) => r.shardId === moved.shardId)).toBe(true);
      const t = await leaseTable(app);
      expect(new Set([...t.values()].map((l) => l.owner))).toEqual(new Set(['worker-a', 'worker-b']));
    },
  );

  it.each([
    ['crashes', { KCL_TEST_CRASH_ON: 'r7' }, 'exit'],
    ['hangs past processingTimeoutMs', { KCL_TEST_HANG_ON: 'r7' }, 'timeout'],
  ] as const)(
    'a processor that %s loses its shard cleanly and a new one resumes from the checkpoint, nothing lost',
    async (_what, env, reason) => {
      const stream = await createTestStream(kinesis, { shardCount: 1 });
      const app = uniqueName('kclml');
      const out = eventFile();
      const { daemon, metrics, started } = startDaemon(
        properties(stream, app, 'timeoutInSeconds = 2\n'),
        { KCL_TEST_OUT: out, ...env },
        'w1',
      );
      await started;
      const first = Array.from({ length: 5 }, (_, i) => ({ key: 'k', data: `r${i}` }));
      await put(stream, first);
      await waitFor('first batch checkpointed', () =>
        readEvents(out).some((e) => e.action === 'checkpointed'),
      );
      const checkpoint = readEvents(out).find((e) => e.action === 'checkpointed')!.sequenceNumber;
      const second = Array.from({ length: 5 }, (_, i) => ({ key: 'k', data: `r${i + 5}` }));
      await put(stream, second);
      await waitFor(
        'all records processed',
        () => processed(readEvents(out)).some((r) => r.data === 'r9'),
        40_000,
      );
      const ev = readEvents(out);
      const inits = ev.filter((e) => e.action === 'initialize');
      expect(inits.length).toBe(2);
      expect(inits[1]!.pid).not.toBe(inits[0]!.pid);
      // Restarted from the checkpoint the first child made: no checkpoint advanced past the failed batch.
      expect(inits[1]!.sequenceNumber).toBe(checkpoint);
      const data = processed(ev).map((r) => r.data);
      expect(data).toEqual([...first, ...second].map((i) => i.data));
      expect(daemon.stats().childFailures[reason]).toBe(1);
      expect(metrics.value('kcl_multilang_child_failures_total', { shard: inits[0]!.shardId, reason })).toBe(
        1,
      );
      await waitFor('final checkpoint', async () => {
        const t = await leaseTable(app);
        return [...t.values()][0]?.checkpoint === processed(readEvents(out)).at(-1)!.sequenceNumber;
      });
    },
  );
});

describe('MultiLangDaemon restart semantics', () => {
  it('a restarted processor gets every record after the checkpoint again, not only the batch that failed', async () => {
    const stream = await createTestStream(kinesis, { shardCount: 1 });
    const app = uniqueName('kclml');
    const out = eventFile();
    // Never checkpoints in processRecords: the lease checkpoint stays TRIM_HORIZON.
    const { daemon, started } = startDaemon(
      properties(stream, app),
      {
        KCL_TEST_OUT: out,
        KCL_TEST_CHECKPOINT: 'none',
        KCL_TEST_CRASH_ON: 'r7',
      },
      'w1',
    );
    await started;
    const first = Array.from({ length: 5 }, (_, i) => ({ key: 'k', data: `r${i}` }));
    await put(stream, first);
    await waitFor('first batch processed', () => processed(readEvents(out)).length >= 5);
    const second = Array.from({ length: 5 }, (_, i) => ({ key: 'k', data: `r${i + 5}` }));
    await put(stream, second);
    await waitFor('r9 processed', () => processed(readEvents(out)).some((r) => r.data === 'r9'), 40_000);
    const ev = readEvents(out);
    const inits = ev.filter((e) => e.action === 'initialize');
    expect(inits.map((e) => e.sequenceNumber)).toEqual(['TRIM_HORIZON', 'TRIM_HORIZON']);
    const secondChild = processed(ev)
      .filter((r) => r.pid === inits[1]!.pid)
      .map((r) => r.data);
    expect(secondChild).toEqual([...first, ...second].map((i) => i.data));
    expect(daemon.stats().childFailures.exit).toBe(1);
  });
});
