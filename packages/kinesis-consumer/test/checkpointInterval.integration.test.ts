import type { ChildProcess } from 'node:child_process';
import { createTestStream } from '@awskit/local/testing';
import { afterEach, describe, expect, it } from 'vitest';
import type { KinesisConsumer } from '../src/index.js';
import { LeaseTable } from '../src/leaseTable.js';
import { faultyClients } from './faults.js';
import {
  appName,
  Collector,
  clients,
  newConsumer,
  put,
  records,
  spawnWorkerProcess,
  text,
  waitFor,
} from './helpers.js';

const running: KinesisConsumer[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const ch of children.splice(0)) if (ch.exitCode === null) ch.kill('SIGKILL');
  await Promise.all(running.splice(0).map((c) => c.stop()));
});

/** Counts the checkpoint writes (UpdateItem setting `checkpoint`) sent to `table`. */
function countCheckpointWrites(
  faults: Awaited<ReturnType<typeof faultyClients>>['dynamoFaults'],
  table: string,
) {
  const count = { writes: 0 };
  faults.push({
    commands: ['UpdateItemCommand'],
    after: (input) => {
      if (input.TableName === table && String(input.UpdateExpression).includes('checkpoint = :cp'))
        count.writes++;
    },
  });
  return count;
}

async function leaseOf(dynamo: Awaited<ReturnType<typeof clients>>['dynamo'], app: string) {
  return (await new LeaseTable({ client: dynamo, tableName: app, sleep: async () => {} }).listLeases())[0]!;
}

describe('checkpointIntervalMs', () => {
  it('a busy shard gets at most one checkpoint write per interval; stop() writes the last one; a restart redelivers nothing', async () => {
    const c = await faultyClients();
    const stream = await createTestStream(c.kinesis, { shardCount: 1 });
    const app = appName();
    const cp = countCheckpointWrites(c.dynamoFaults, app);
    const intervalMs = 1_000;
    const col = new Collector();
    let batches = 0;
    const w1 = newConsumer(c, {
      streamName: stream,
      applicationName: app,
      initialPosition: 'TRIM_HORIZON',
      checkpointIntervalMs: intervalMs,
      processor: (rs) => {
        batches++;
        col.add(rs);
      },
    });
    running.push(w1);
    const started = performance.now();
    await w1.start();
    // A steady trickle for ~3 s: many small batches.
    const all = records(60, 3, 'busy');
    let lastSeq = '';
    for (const r of all) {
      lastSeq = (await put(c.kinesis, stream, [r]))[0]!;
      await new Promise((res) => setTimeout(res, 40));
    }
    await waitFor('all processed', () => col.distinct().size === all.length);
    await w1.stop();
    const elapsedMs = performance.now() - started;
    expect(batches).toBeGreaterThanOrEqual(15); // busy enough for per-batch checkpoints to be many more writes
    // One write per interval at most, plus the final one of stop().
    expect(cp.writes).toBeLessThanOrEqual(Math.floor(elapsedMs / intervalMs) + 2);
    expect(cp.writes).toBeLessThan(batches);
    // stop() checkpointed the last record processed, and released the lease.
    const lease = await leaseOf(c.dynamo, app);
    expect(lease.checkpoint).toBe(lastSeq);
    expect(lease.leaseOwner).toBeUndefined();

    await put(c.kinesis, stream, [{ key: 'busy0', data: 'after-restart' }]);
    const col2 = new Collector();
    const w2 = newConsumer(c, {
      streamName: stream,
      applicationName: app,
      initialPosition: 'TRIM_HORIZON',
      processor: (rs) => col2.add(rs),
    });
    running.push(w2);
    await w2.start();
    await waitFor('the new record', () => col2.distinct().has('after-restart'));
    expect(col2.all.map(text)).toEqual(['after-restart']);
  });

  it('0 checkpoints after every batch', async () => {
    const c = await faultyClients();
    const stream = await createTestStream(c.kinesis, { shardCount: 1 });
    const app = appName();
    const cp = countCheckpointWrites(c.dynamoFaults, app);
    const col = new Collector();
    let batches = 0;
    const w = newConsumer(c, {
      streamName: stream,
      applicationName: app,
      initialPosition: 'TRIM_HORIZON',
      checkpointIntervalMs: 0,
      processor: (rs) => {
        batches++;
        col.add(rs);
      },
    });
    running.push(w);
    await w.start();
    for (let i = 0; i < 4; i++) {
      const [seq] = await put(c.kinesis, stream, [{ key: 'k', data: `k:${i}` }]);
      await waitFor('processed', () => col.distinct().size === i + 1);
      // Written right after the batch, not on a timer.
      await waitFor('checkpointed', async () => (await leaseOf(c.dynamo, app)).checkpoint === seq, 2_000);
    }
    // The table can show the last write before its answer reached the worker (and the counting middleware).
    await waitFor('the last write answered', () => cp.writes >= batches, 2_000);
    expect(cp.writes).toBe(batches);
  });

  it('after a crash the next owner re-reads only what was processed since the last (timed) checkpoint', async () => {
    const c = await clients();
    const stream = await createTestStream(c.kinesis, { shardCount: 1 });
    const app = appName();
    const {
      child,
      shards: childShards,
      values: childValues,
    } = spawnWorkerProcess(stream, app, {
      checkpointIntervalMs: 1_000,
    });
    children.push(child);
    await waitFor('child holds the shard', () => childShards.size > 0);
    const first = records(20, 4, 'first');
    const firstSeqs = await put(c.kinesis, stream, first);
    await waitFor('first wave processed', () => first.every((r) => childValues.has(r.data)));
    // The shard is idle now: the timer writes the pending checkpoint within the interval.
    await waitFor(
      'first wave checkpointed',
      async () => (await leaseOf(c.dynamo, app)).checkpoint === firstSeqs.at(-1),
    );
    const second = records(20, 4, 'second');
    await put(c.kinesis, stream, second);
    await waitFor('second wave processed', () => second.every((r) => childValues.has(r.data)));
    child.kill('SIGKILL');

    const col = new Collector();
    const survivor = newConsumer(c, {
      streamName: stream,
      applicationName: app,
      initialPosition: 'TRIM_HORIZON',
      processor: (rs) => col.add(rs),
    });
    running.push(survivor);
    await survivor.start();
    const after = records(5, 1, 'after');
    await put(c.kinesis, stream, after);
    await waitFor(
      'records put after the crash',
      () => after.every((r) => col.distinct().has(r.data)),
      15_000,
    );
    // Redelivered: at most the second wave (processed within one interval of the last write), never the first.
    const redelivered = col.all.map(text).filter((t) => !t.startsWith('after'));
    const secondSet = new Set(second.map((r) => r.data));
    expect(redelivered.every((t) => secondSet.has(t))).toBe(true);
    expect(redelivered.length).toBeLessThanOrEqual(second.length);
  });
});
