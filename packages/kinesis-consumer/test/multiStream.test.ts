import type { Shard } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { buildAssignments } from '../src/assignments.js';
import { ConsumerOptionsError, KinesisConsumer, type KinesisConsumerOptions } from '../src/index.js';
import { leaseFromItem, leaseToItem } from '../src/leaseTable.js';
import { computeLeasesToTake } from '../src/leaseTaker.js';
import {
  isShardLeaseKey,
  multiStreamLeaseKey,
  parentLeaseKey,
  parseLeaseKey,
  parseMultiStreamLeaseKey,
  parseStreamArn,
  serializeStreamIdentifier,
} from '../src/multiStream.js';
import { computeLeasesToCreate, newLease } from '../src/shardSync.js';
import type { Lease } from '../src/types.js';

const A = '123456789012:orders:1700000000000';
const B = '123456789012:payments:1700000005000';
const sid = (n: number) => `shardId-${String(n).padStart(12, '0')}`;

describe('multi-stream lease keys (KCL MultiStreamLease / StreamIdentifier format)', () => {
  it('builds and parses account:stream:creationEpoch:shardId', () => {
    const id = { accountId: '123456789012', streamName: 'orders', creationEpoch: 1700000000000 };
    expect(serializeStreamIdentifier(id)).toBe(A);
    expect(multiStreamLeaseKey(id, sid(3))).toBe(`${A}:shardId-000000000003`);
    expect(multiStreamLeaseKey(A, sid(3))).toBe(`${A}:shardId-000000000003`);
    expect(parseMultiStreamLeaseKey(`${A}:${sid(3)}`)).toEqual({
      ...id,
      shardId: sid(3),
      streamIdentifier: A,
    });
    // A single-stream key is just the shard id.
    expect(parseMultiStreamLeaseKey(sid(3))).toBeUndefined();
    expect(parseLeaseKey(sid(3))).toEqual({ shardId: sid(3) });
    expect(isShardLeaseKey(sid(3))).toBe(true);
    expect(isShardLeaseKey(`${A}:${sid(3)}`)).toBe(true);
    // KCL 3.x metadata rows and unrelated keys are not shard leases.
    expect(isShardLeaseKey('Leader')).toBe(false);
    expect(isShardLeaseKey('worker-1')).toBe(false);
  });

  it('parses stream ARNs like the KCL (partition, region, 12-digit account) and rejects others', () => {
    expect(parseStreamArn('arn:aws:kinesis:us-east-1:123456789012:stream/orders')).toEqual({
      region: 'us-east-1',
      accountId: '123456789012',
      streamName: 'orders',
    });
    expect(parseStreamArn('arn:aws-cn:kinesis:cn-north-1:123456789012:stream/x')?.accountId).toBe(
      '123456789012',
    );
    expect(parseStreamArn('arn:aws:kinesis:us-east-1:1234:stream/orders')).toBeUndefined();
    expect(parseStreamArn('arn:aws:sqs:us-east-1:123456789012:orders')).toBeUndefined();
    expect(parseStreamArn('orders')).toBeUndefined();
  });

  it('new leases carry the KCL multi-stream attributes streamName and shardId; parents stay plain shard ids', () => {
    const l = newLease(sid(2), 'TRIM_HORIZON', [sid(0)], { StartingHashKey: '0', EndingHashKey: '9' }, A);
    expect(l.leaseKey).toBe(`${A}:${sid(2)}`);
    const item = leaseToItem(l);
    expect(item.streamName).toEqual({ S: A });
    expect(item.shardId).toEqual({ S: sid(2) });
    expect(item.parentShardId).toEqual({ SS: [sid(0)] });
    expect(leaseFromItem(item)).toMatchObject({
      streamIdentifier: A,
      shardId: sid(2),
      parentShardIds: [sid(0)],
    });
    expect(parentLeaseKey(l, sid(0))).toBe(`${A}:${sid(0)}`);
    // Single-stream leases have neither attribute.
    const single = leaseToItem(newLease(sid(2), 'TRIM_HORIZON', [sid(0)]));
    expect(single.streamName).toBeUndefined();
    expect(single.shardId).toBeUndefined();
    expect(parentLeaseKey(newLease(sid(2), 'TRIM_HORIZON', [sid(0)]), sid(0))).toBe(sid(0));
  });
});

describe('computeLeasesToCreate for one stream of several', () => {
  const shard = (id: string, parent?: string, closed = false): Shard => ({
    ShardId: id,
    ParentShardId: parent,
    HashKeyRange: { StartingHashKey: '0', EndingHashKey: '9' },
    SequenceNumberRange: { StartingSequenceNumber: '1', EndingSequenceNumber: closed ? '5' : undefined },
  });
  const shards = [shard(sid(0), undefined, true), shard(sid(1), sid(0)), shard(sid(2), sid(0))];

  it('keys leases by stream and sees only that stream’s existing leases', () => {
    // Stream B already has leases for the same shard ids: they must not count for stream A.
    const existing = new Set([`${B}:${sid(0)}`, `${B}:${sid(1)}`, `${B}:${sid(2)}`]);
    const out = computeLeasesToCreate(shards, existing, 'TRIM_HORIZON', A);
    expect(out.map((l) => l.leaseKey)).toEqual([`${A}:${sid(0)}`, `${A}:${sid(1)}`, `${A}:${sid(2)}`]);
    expect(out[1]!.parentShardIds).toEqual([sid(0)]);
    expect(out.every((l) => l.streamIdentifier === A)).toBe(true);
  });

  it('a leased parent of the same stream makes children start at TRIM_HORIZON; a child’s lease supersedes its parent', () => {
    const out = computeLeasesToCreate(shards, new Set([`${A}:${sid(0)}`]), 'LATEST', A);
    expect(out.map((l) => [l.leaseKey, l.checkpoint])).toEqual([
      [`${A}:${sid(1)}`, 'TRIM_HORIZON'],
      [`${A}:${sid(2)}`, 'TRIM_HORIZON'],
    ]);
    expect(
      computeLeasesToCreate(shards, new Set([`${A}:${sid(1)}`]), 'TRIM_HORIZON', A).map((l) => l.leaseKey),
    ).toEqual([`${A}:${sid(2)}`]);
  });
});

describe('taking leases of several streams', () => {
  const lease = (stream: string, n: number, extra: Partial<Lease> = {}): Lease => ({
    ...newLease(sid(n), 'TRIM_HORIZON', [], undefined, stream),
    ...extra,
  });

  it('a child waits for its own stream’s parent, not for another stream’s shard with the same id', () => {
    const leases = [
      // Stream A: shardId-0 is still being read by worker x; its child shardId-1 must wait.
      lease(A, 0, { leaseOwner: 'x', leaseCounter: 3 }),
      lease(A, 1, { parentShardIds: [sid(0)] }),
      // Stream B: shardId-0 is finished; its child shardId-1 may start.
      lease(B, 0, { checkpoint: 'SHARD_END' }),
      lease(B, 1, { parentShardIds: [sid(0)] }),
    ];
    const p = computeLeasesToTake({
      leases,
      workerId: 'me',
      held: new Set(),
      isExpired: (l) => !l.leaseOwner,
      maxLeasesForWorker: Number.POSITIVE_INFINITY,
      balance: true,
      random: () => 0.5,
    });
    expect(p.expired.map((l) => l.leaseKey)).toEqual([`${B}:${sid(1)}`]);
    // Balancing counts every stream's leases together: 2 eligible leases, 2 workers → 1 each.
    expect(p.target).toBe(1);
  });

  it('assignments of a multi-stream table name the stream and the lease key; blocked follows the same stream', () => {
    const rows = buildAssignments(
      [
        lease(A, 0, { leaseOwner: 'x' }),
        lease(A, 1, { parentShardIds: [sid(0)] }),
        lease(B, 0, { checkpoint: 'SHARD_END' }),
        lease(B, 1, { parentShardIds: [sid(0)] }),
      ],
      'x',
    );
    expect(rows.map((r) => [r.streamName, r.shardId, r.status, r.leaseKey])).toEqual([
      ['orders', sid(0), 'owned', `${A}:${sid(0)}`],
      ['orders', sid(1), 'blocked', `${A}:${sid(1)}`],
      ['payments', sid(0), 'ended', `${B}:${sid(0)}`],
      ['payments', sid(1), 'unassigned', `${B}:${sid(1)}`],
    ]);
  });
});

describe('streams option validation', () => {
  const base = { applicationName: 'app-ms', processor: async () => {} } as const;
  const problems = (o: Partial<KinesisConsumerOptions>) => {
    try {
      new KinesisConsumer({ ...base, ...o } as KinesisConsumerOptions);
    } catch (e) {
      expect(e).toBeInstanceOf(ConsumerOptionsError);
      expect((e as ConsumerOptionsError).hint).toBeTruthy();
      return (e as ConsumerOptionsError).problems;
    }
    return [];
  };

  it('streams and streamName/streamARN are mutually exclusive; one of them is required', () => {
    expect(problems({ streams: ['a'], streamName: 'a' })).toEqual([
      { path: 'streams', message: expect.stringContaining('not both') },
    ]);
    expect(problems({})).toEqual([{ path: 'streamName', message: expect.stringContaining('streams') }]);
    expect(problems({ streams: [] })).toEqual([
      { path: 'streams', message: expect.stringContaining('non-empty') },
    ]);
  });

  it('checks each entry: names, ARNs, duplicates, creationEpoch, initialPosition, and EFO consumer ARNs', () => {
    const p = problems({
      streams: [
        'ok-stream',
        'arn:aws:kinesis:us-east-1:12:stream/x',
        'bad name!',
        'ok-stream',
        { streamName: 'a', streamARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/a' },
        { streamName: 'b', creationEpoch: 0 },
        { streamName: 'c', initialPosition: 'SOMEWHERE' as never },
      ],
      efo: { consumerARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/a/consumer/c:1' },
    });
    expect(p.map((x) => x.path)).toEqual([
      'streams[1]',
      'streams[2]',
      'streams[3]',
      'streams[4]',
      'streams[5].creationEpoch',
      'streams[6].initialPosition',
      'efo.consumerARN',
    ]);
    expect(
      problems({ streams: ['a', { streamARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/b' }] }),
    ).toEqual([]);
  });
});
