import { DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import { createTestStream } from '@awskit/local/testing';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConsumerRecord, InitialPosition, KinesisConsumer } from '../src/index.js';
import { LeaseTable } from '../src/leaseTable.js';
import {
  appName,
  Collector,
  checkpointingAt,
  clients,
  newConsumer,
  put,
  putAggregateBetweenPlain,
  records,
  text,
  waitFor,
} from './helpers.js';

const running: KinesisConsumer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.stop()));
});

describe('KinesisConsumer checkpoints', () => {
  it('restarts from the checkpoint, inside a KPL aggregate', async () => {
    const c = await clients();
    const stream = await createTestStream(c.kinesis, { shardCount: 1 });
    const app = appName();
    await putAggregateBetweenPlain(c.kinesis, stream, ['agg-0', 'agg-1', 'agg-2', 'agg-3', 'agg-4']);

    // First run: checkpoint exactly at agg-2 (sub-sequence 2), then stop.
    const firstRun = checkpointingAt('agg-2');
    const w1 = newConsumer(c, {
      streamName: stream,
      applicationName: app,
      initialPosition: 'TRIM_HORIZON',
      processor: firstRun.processor,
    });
    running.push(w1);
    await w1.start();
    await waitFor('checkpoint inside the aggregate', () => firstRun.checkpointed);
    await w1.stop();
    expect(firstRun.seen).toContain('agg-2');
    const lease = (
      await new LeaseTable({ client: c.dynamo, tableName: app, sleep: async () => {} }).listLeases()
    )[0]!;
    expect(lease.checkpointSubSequenceNumber).toBe(2);
    expect(lease.leaseOwner).toBeUndefined();

    // Second run resumes with agg-3.
    const second: ConsumerRecord[] = [];
    const w2 = newConsumer(c, {
      streamName: stream,
      applicationName: app,
      initialPosition: 'TRIM_HORIZON',
      processor: (rs) => {
        second.push(...rs);
      },
    });
    running.push(w2);
    await w2.start();
    await waitFor('rest delivered', () => second.some((r) => text(r) === 'plain-1'));
    expect(second.map(text)).toEqual(['agg-3', 'agg-4', 'plain-1']);
    expect(second.map((r) => r.subSequenceNumber)).toEqual([3, 4, 0]);
  });

  it('a batch handler checkpoints (coalesced, and finally on stop); a restart does not redeliver processed records', async () => {
    const c = await clients();
    const stream = await createTestStream(c.kinesis, { shardCount: 2 });
    const app = appName();
    await put(c.kinesis, stream, records(30, 6, 'one'));
    const col1 = new Collector();
    const w1 = newConsumer(c, {
      streamName: stream,
      applicationName: app,
      initialPosition: 'TRIM_HORIZON',
      processor: (rs) => col1.add(rs),
    });
    running.push(w1);
    await w1.start();
    await waitFor('first 30', () => col1.distinct().size === 30);
    await w1.stop();

    await put(c.kinesis, stream, records(30, 6, 'two'));
    const col2 = new Collector();
    const w2 = newConsumer(c, {
      streamName: stream,
      applicationName: app,
      initialPosition: 'TRIM_HORIZON',
      processor: (rs) => col2.add(rs),
    });
    running.push(w2);
    await w2.start();
    await waitFor('next 30', () => col2.distinct().size === 30);
    expect([...col2.distinct()].every((t) => t.startsWith('two'))).toBe(true);
  });

  it('rejects a checkpoint before the last checkpoint or after the last delivered record', async () => {
    const c = await clients();
    const stream = await createTestStream(c.kinesis, { shardCount: 1 });
    await put(c.kinesis, stream, records(3, 1));
    const errors: string[] = [];
    let done = false;
    const w = newConsumer(c, {
      streamName: stream,
      applicationName: appName(),
      initialPosition: 'TRIM_HORIZON',
      processor: {
        processRecords: async ({ records: rs, checkpointer }) => {
          await checkpointer.checkpoint(rs[1]!);
          await checkpointer.checkpoint(rs[0]!).catch((e) => errors.push(e.code));
          const beyond = { sequenceNumber: `${BigInt(rs[2]!.sequenceNumber) + 1n}`, subSequenceNumber: 0 };
          await checkpointer.checkpoint(beyond).catch((e) => errors.push(e.code));
          done = true;
        },
      },
    });
    running.push(w);
    await w.start();
    await waitFor('processed', () => done);
    expect(errors).toEqual(['KINESIS_CONSUMER_INVALID_CHECKPOINT', 'KINESIS_CONSUMER_INVALID_CHECKPOINT']);
  });

  it('prepareCheckpoint() is handed to the next owner’s initialize as pendingCheckpoint; checkpoint() clears it', async () => {
    const c = await clients();
    const stream = await createTestStream(c.kinesis, { shardCount: 1 });
    const app = appName();
    await put(c.kinesis, stream, records(3, 1));
    let prepared: ConsumerRecord | undefined;
    const w1 = newConsumer(c, {
      streamName: stream,
      applicationName: app,
      initialPosition: 'TRIM_HORIZON',
      processor: {
        processRecords: async ({ records: rs, checkpointer }) => {
          await checkpointer.checkpoint(rs[0]!);
          await checkpointer.prepareCheckpoint(rs[1]!);
          prepared = rs[1];
        },
      },
    });
    running.push(w1);
    await w1.start();
    await waitFor('prepared', () => prepared !== undefined);
    await w1.stop();

    const seen: { checkpoint: string; pending?: string }[] = [];
    const w2 = newConsumer(c, {
      streamName: stream,
      applicationName: app,
      initialPosition: 'TRIM_HORIZON',
      processor: {
        initialize: ({ checkpoint, pendingCheckpoint }) => {
          seen.push({ checkpoint: checkpoint.sequenceNumber, pending: pendingCheckpoint?.sequenceNumber });
        },
        processRecords: async ({ checkpointer }) => {
          await checkpointer.checkpoint();
        },
      },
    });
    running.push(w2);
    await w2.start();
    await waitFor('initialized', () => seen.length === 1);
    expect(seen[0]!.pending).toBe(prepared!.sequenceNumber);
    const table = new LeaseTable({ client: c.dynamo, tableName: app, sleep: async () => {} });
    await waitFor('pending cleared by the next checkpoint', async () => {
      const l = (await table.listLeases())[0]!;
      return l.pendingCheckpoint === undefined && l.checkpoint !== seen[0]!.checkpoint;
    });
  });

  it('reads a stream given by ARN', async () => {
    const c = await clients();
    const stream = await createTestStream(c.kinesis, { shardCount: 2 });
    const arn = (await c.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream })))
      .StreamDescriptionSummary!.StreamARN!;
    await put(c.kinesis, stream, records(10, 5));
    const col = new Collector();
    const w = newConsumer(c, {
      streamARN: arn,
      applicationName: appName(),
      initialPosition: 'TRIM_HORIZON',
      processor: (rs) => col.add(rs),
    });
    running.push(w);
    await w.start();
    await waitFor('all 10', () => col.distinct().size === 10);
  });

  const positions: [string, (before: number, after: number) => InitialPosition, string[]][] = [
    ['TRIM_HORIZON', () => 'TRIM_HORIZON', ['new', 'old']],
    ['LATEST', () => 'LATEST', ['new']],
    ['AT_TIMESTAMP', (_b, a) => ({ timestamp: new Date(a) }), ['new']],
  ];
  for (const [name, position, expected] of positions)
    it(`initial position ${name}`, async () => {
      const c = await clients();
      const stream = await createTestStream(c.kinesis, { shardCount: 2 });
      await put(c.kinesis, stream, records(10, 5, 'old'));
      const before = Date.now();
      await new Promise((r) => setTimeout(r, 400));
      const between = Date.now();
      await new Promise((r) => setTimeout(r, 400));
      const col = new Collector();
      const w = newConsumer(c, {
        streamName: stream,
        applicationName: appName(),
        initialPosition: position(before, between),
        processor: (rs) => col.add(rs),
      });
      running.push(w);
      await w.start();
      // LATEST means "after the iterator was taken": wait until both shards have fetched once.
      await waitFor('both shards reading', () => {
        const h = w.heldLeases();
        return h.length === 2 && h.every((l) => l.millisBehindLatest !== undefined);
      });
      await put(c.kinesis, stream, records(10, 5, 'new'));
      await waitFor(
        'new records',
        () => [...col.distinct()].filter((t) => t.startsWith('new')).length === 10,
      );
      const prefixes = [...new Set([...col.distinct()].map((t) => t.replace(/\d.*$/, '')))].sort();
      expect(prefixes).toEqual(expected);
    });
});
