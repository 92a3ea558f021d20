import type { Shard } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { computeLeasesToCreate } from '../src/shardSync.js';

const range = { StartingHashKey: '0', EndingHashKey: '100' };
function shard(id: string, opts: { parent?: string; adjacent?: string; closed?: boolean } = {}): Shard {
  return {
    ShardId: id,
    ParentShardId: opts.parent,
    AdjacentParentShardId: opts.adjacent,
    HashKeyRange: range,
    SequenceNumberRange: { StartingSequenceNumber: '1', EndingSequenceNumber: opts.closed ? '9' : undefined },
  };
}

// s0 split into s1 + s2; s1 and s2 merged into s3; s4 untouched.
const shards = [
  shard('s0', { closed: true }),
  shard('s1', { parent: 's0', closed: true }),
  shard('s2', { parent: 's0', closed: true }),
  shard('s3', { parent: 's1', adjacent: 's2' }),
  shard('s4'),
];

describe('computeLeasesToCreate', () => {
  it('TRIM_HORIZON: every shard gets a lease; descendants start at TRIM_HORIZON with all parents recorded', () => {
    const out = computeLeasesToCreate(shards, new Set(), 'TRIM_HORIZON');
    expect(out.map((l) => l.leaseKey).sort()).toEqual(['s0', 's1', 's2', 's3', 's4']);
    const s3 = out.find((l) => l.leaseKey === 's3')!;
    expect(s3.parentShardIds).toEqual(['s1', 's2']);
    expect(s3.checkpoint).toBe('TRIM_HORIZON');
    expect(s3.startingHashKey).toBe('0');
  });

  it('LATEST: closed shards are skipped and open shards start at LATEST', () => {
    const out = computeLeasesToCreate(shards, new Set(), 'LATEST');
    expect(out.map((l) => [l.leaseKey, l.checkpoint])).toEqual([
      ['s3', 'LATEST'],
      ['s4', 'LATEST'],
    ]);
  });

  it('AT_TIMESTAMP: roots start AT_TIMESTAMP, descendants at TRIM_HORIZON', () => {
    const out = computeLeasesToCreate(shards, new Set(), { timestamp: new Date() });
    expect(out.find((l) => l.leaseKey === 's0')!.checkpoint).toBe('AT_TIMESTAMP');
    expect(out.find((l) => l.leaseKey === 's1')!.checkpoint).toBe('TRIM_HORIZON');
  });

  it('repairs a child whose lease was never created although its parent has one (no shard left behind)', () => {
    const out = computeLeasesToCreate(shards, new Set(['s0', 's1', 's2', 's4']), 'LATEST');
    expect(out.map((l) => [l.leaseKey, l.checkpoint])).toEqual([['s3', 'TRIM_HORIZON']]);
  });

  it('does not recreate finished shards whose leases the KCL cleaned up (their descendants have leases)', () => {
    expect(computeLeasesToCreate(shards, new Set(['s3', 's4']), 'TRIM_HORIZON')).toEqual([]);
    expect(
      computeLeasesToCreate(shards, new Set(['s1', 's2', 's4']), 'TRIM_HORIZON').map((l) => l.leaseKey),
    ).toEqual(['s3']);
  });

  it('creates nothing when every shard has a lease', () => {
    expect(computeLeasesToCreate(shards, new Set(['s0', 's1', 's2', 's3', 's4']), 'TRIM_HORIZON')).toEqual(
      [],
    );
  });
});
