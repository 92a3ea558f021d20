import { describe, expect, it } from 'vitest';
import { ConsumerOptionsError, KinesisConsumer, KinesisConsumerErrorCode } from '../src/index.js';
import { leaseFromItem, leaseToItem } from '../src/leaseTable.js';

describe('lease item mapping', () => {
  it('reads an item in the KCL 2.x shape', () => {
    const l = leaseFromItem({
      leaseKey: { S: 'shardId-000000000003' },
      leaseOwner: { S: 'kcl-worker-1' },
      leaseCounter: { N: '42' },
      checkpoint: { S: '4968' },
      checkpointSubSequenceNumber: { N: '3' },
      ownerSwitchesSinceCheckpoint: { N: '1' },
      parentShardId: { SS: ['shardId-000000000001', 'shardId-000000000002'] },
      startingHashKey: { S: '0' },
      endingHashKey: { S: '170141183460469231731687303715884105727' },
      throughputKBps: { N: '1.5' },
    });
    expect(l).toMatchObject({
      leaseKey: 'shardId-000000000003',
      leaseOwner: 'kcl-worker-1',
      leaseCounter: 42,
      checkpoint: '4968',
      checkpointSubSequenceNumber: 3,
      parentShardIds: ['shardId-000000000001', 'shardId-000000000002'],
    });
  });

  it('writes the KCL attribute names and types (parentShardId is a string set; no empty sets)', () => {
    const item = leaseToItem({
      leaseKey: 's',
      leaseCounter: 0,
      checkpoint: 'TRIM_HORIZON',
      checkpointSubSequenceNumber: 0,
      ownerSwitchesSinceCheckpoint: 0,
      parentShardIds: ['p'],
      childShardIds: [],
    });
    expect(item.parentShardId).toEqual({ SS: ['p'] });
    expect(item.childShardIds).toBeUndefined();
    expect(item.leaseCounter).toEqual({ N: '0' });
    expect(leaseFromItem(item).parentShardIds).toEqual(['p']);
  });
});

describe('KinesisConsumer options', () => {
  it('reports every invalid option at once, with its path', () => {
    try {
      new KinesisConsumer({
        applicationName: 'x',
        processor: 5 as never,
        leaseDurationMs: 1000,
        renewIntervalMs: 2000,
        initialPosition: 'SOMEWHERE' as never,
      });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConsumerOptionsError);
      expect((e as ConsumerOptionsError).code).toBe(KinesisConsumerErrorCode.InvalidOptions);
      expect((e as ConsumerOptionsError).problems.map((p) => p.path).sort()).toEqual([
        'applicationName',
        'initialPosition',
        'processor',
        'renewIntervalMs',
        'streamName',
      ]);
    }
  });
});
