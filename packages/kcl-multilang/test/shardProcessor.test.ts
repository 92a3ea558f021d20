import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Checkpointer,
  type ExtendedSequenceNumber,
  InvalidCheckpointError,
  LeaseLostError,
} from '@awskit/kinesis-consumer';
import { describe, expect, it } from 'vitest';
import { MultiLangShardProcessor } from '../src/shardProcessor.js';
import { eventFile, FIXTURES, processorContext, readEvents, record } from './helpers.js';

const SHARD = 'shardId-000000000000';
const RECORDER = join(FIXTURES, 'recorder.cjs');

/** A checkpointer that records positions and can be told to refuse. */
function fakeCheckpointer(refuse?: () => Error | undefined) {
  const calls: (ExtendedSequenceNumber | undefined)[] = [];
  const cp: Checkpointer = {
    checkpoint: async (p) => {
      calls.push(
        p ? { sequenceNumber: p.sequenceNumber, subSequenceNumber: p.subSequenceNumber } : undefined,
      );
      const e = refuse?.();
      if (e) throw e;
    },
    prepareCheckpoint: async () => {},
  };
  return { cp, calls };
}

describe('MultiLangShardProcessor with a real aws-kcl child', () => {
  it('drives initialize → processRecords (with a checkpoint) → shutdownRequested → leaseLost, in order', async () => {
    const out = eventFile();
    const { context, failures, children } = processorContext(RECORDER, { KCL_TEST_OUT: out });
    const p = new MultiLangShardProcessor(SHARD, context);
    await p.initialize({
      shardId: SHARD,
      checkpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 },
    });
    const { cp, calls } = fakeCheckpointer();
    await p.processRecords({
      records: [record('100', 'a'), record('200', 'b')],
      millisBehindLatest: 42,
      checkpointer: cp,
    });
    await p.shutdownRequested({ checkpointer: cp });
    expect(children.size).toBe(0); // stdin closed, the child exited
    const ev = readEvents(out);
    expect(ev.map((e) => e.action)).toEqual([
      'initialize',
      'processRecords',
      'checkpointed',
      'shutdownRequested',
      'checkpointed',
      'leaseLost',
    ]);
    expect(ev[0]).toMatchObject({ shardId: SHARD, sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 });
    expect(ev[1]!.millisBehindLatest).toBe(42);
    expect(ev[1]!.records).toEqual([
      {
        data: 'a',
        partitionKey: 'pk-a',
        sequenceNumber: '100',
        subSequenceNumber: 0,
        approximateArrivalTimestamp: 1_700_000_000_123,
        action: 'record',
      },
      {
        data: 'b',
        partitionKey: 'pk-b',
        sequenceNumber: '200',
        subSequenceNumber: 0,
        approximateArrivalTimestamp: 1_700_000_000_123,
        action: 'record',
      },
    ]);
    expect(ev[2]).toMatchObject({ sequenceNumber: '200', error: null });
    // Node's client sends no subSequenceNumber: checkpoint(seq) = (seq, 0); checkpoint() = the last record.
    expect(calls).toEqual([{ sequenceNumber: '200', subSequenceNumber: 0 }, undefined]);
    expect(failures).toEqual([]);
  });

  it('answers refused checkpoints with the KCL exception names', async () => {
    const out = eventFile();
    const { context, checkpoints } = processorContext(RECORDER, {
      KCL_TEST_OUT: out,
      KCL_TEST_BAD_CHECKPOINT: '1',
    });
    const p = new MultiLangShardProcessor(SHARD, context);
    await p.initialize({ shardId: SHARD, checkpoint: { sequenceNumber: 'LATEST', subSequenceNumber: 0 } });
    const refusals = [new InvalidCheckpointError('after the batch'), new LeaseLostError(SHARD)];
    const { cp } = fakeCheckpointer(() => refusals.shift());
    await p.processRecords({ records: [record('300', 'c')], checkpointer: cp });
    await p.leaseLost();
    const ev = readEvents(out);
    expect(ev.filter((e) => e.action === 'badCheckpoint' || e.action === 'checkpointed')).toMatchObject([
      { action: 'badCheckpoint', sequenceNumber: '3009', error: 'IllegalArgumentException' },
      { action: 'checkpointed', sequenceNumber: '300', error: 'ShutdownException' },
    ]);
    expect(ev.map((e) => e.action).at(-1)).toBe('leaseLost');
    expect(checkpoints).toEqual(['IllegalArgumentException', 'ShutdownException']);
  });

  it('gives up on a child that exits mid-batch: counted, killed, and the shard handed back (no checkpoint)', async () => {
    const out = eventFile();
    const { context, failures, children } = processorContext(RECORDER, {
      KCL_TEST_OUT: out,
      KCL_TEST_CRASH_ON: 'boom',
    });
    const p = new MultiLangShardProcessor(SHARD, context);
    await p.initialize({ shardId: SHARD, checkpoint: { sequenceNumber: '1', subSequenceNumber: 0 } });
    const { cp, calls } = fakeCheckpointer();
    const err = await p.processRecords({ records: [record('400', 'boom')], checkpointer: cp }).then(
      () => undefined,
      (e: unknown) => e,
    );
    // LeaseLost-coded: the consumer leaves the shard and releases the lease, so it restarts from its checkpoint.
    expect((err as { code?: string }).code).toBe('KINESIS_CONSUMER_LEASE_LOST');
    expect(failures).toEqual([{ reason: 'exit', action: 'processRecords' }]);
    expect(calls).toEqual([]);
    expect(children.size).toBe(0);
    // A new processor for the same shard (what the consumer creates on the next take) works with a new child.
    const again = new MultiLangShardProcessor(SHARD, context);
    await again.initialize({ shardId: SHARD, checkpoint: { sequenceNumber: '1', subSequenceNumber: 0 } });
    await again.processRecords({ records: [record('400', 'boom')], checkpointer: cp });
    await again.leaseLost();
    const ev = readEvents(out);
    expect(ev.filter((e) => e.action === 'processRecords').map((e) => e.records!.map((r) => r.data))).toEqual(
      [['boom']],
    );
    expect(new Set(ev.filter((e) => e.action === 'initialize').map((e) => e.pid)).size).toBe(2);
  });

  it('kills a child that does not answer within processingTimeoutMs', async () => {
    const out = eventFile();
    const { context, failures, children } = processorContext(
      RECORDER,
      { KCL_TEST_OUT: out, KCL_TEST_HANG_ON: 'stuck' },
      { processingTimeoutMs: 2_000 }, // the child's start-up (initialize) runs under the same timeout: room for a loaded machine
    );
    const p = new MultiLangShardProcessor(SHARD, context);
    await p.initialize({ shardId: SHARD, checkpoint: { sequenceNumber: '1', subSequenceNumber: 0 } });
    const { cp, calls } = fakeCheckpointer();
    await expect(
      p.processRecords({ records: [record('500', 'stuck')], checkpointer: cp }),
    ).rejects.toMatchObject({
      code: 'KINESIS_CONSUMER_LEASE_LOST',
    });
    expect(failures).toEqual([{ reason: 'timeout', action: 'processRecords' }]);
    expect(calls).toEqual([]);
    expect(children.size).toBe(0);
  });
});

describe('wire format', () => {
  it('writes one JSON object per line with every key (nulls included), skips non-protocol stdout, echoes checkpoints', async () => {
    const out = eventFile();
    const { context, checkpoints } = processorContext(join(FIXTURES, 'wireSpy.cjs'), { KCL_TEST_OUT: out });
    const p = new MultiLangShardProcessor(SHARD, context);
    await p.initialize({
      shardId: SHARD,
      checkpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 },
    });
    const { cp, calls } = fakeCheckpointer();
    await p.processRecords({ records: [record('600', 'hi')], checkpointer: cp });
    await p.shardEnded({ checkpointer: cp });
    const lines = readFileSync(out, 'utf8').split('\n');
    expect(lines.at(-1)).toBe('');
    expect(lines.slice(0, -1)).toEqual([
      '{"action":"initialize","shardId":"shardId-000000000000","sequenceNumber":"TRIM_HORIZON","subSequenceNumber":0}',
      '{"action":"processRecords","records":[{"data":"aGk=","partitionKey":"pk-hi","sequenceNumber":"600","approximateArrivalTimestamp":1700000000123,"subSequenceNumber":0,"action":"record"}],"millisBehindLatest":null}',
      '{"action":"checkpoint","sequenceNumber":"600","subSequenceNumber":3,"error":null}',
      '{"action":"shardEnded"}',
    ]);
    expect(calls).toEqual([{ sequenceNumber: '600', subSequenceNumber: 3 }]);
    expect(checkpoints).toEqual([null]);
  });
});
