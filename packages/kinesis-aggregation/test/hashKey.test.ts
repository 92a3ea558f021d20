import { describe, expect, it } from 'vitest';
import {
  hashKeyInRange,
  MAX_HASH_KEY,
  parseExplicitHashKey,
  partitionKeyToHashKey,
  ShardMap,
  userRecordHashKey,
  validateUserRecord,
} from '../src/index.js';

// Two-shard stream layout as Kinesis creates it: the hash space split in half.
const HALF = (1n << 127n).toString();
const shards = [
  {
    ShardId: 'shardId-000000000001',
    HashKeyRange: { StartingHashKey: HALF, EndingHashKey: MAX_HASH_KEY.toString() },
  },
  {
    ShardId: 'shardId-000000000000',
    HashKeyRange: { StartingHashKey: '0', EndingHashKey: ((1n << 127n) - 1n).toString() },
  },
];

describe('ShardMap', () => {
  it('finds the shard holding a hash key, at range boundaries too', () => {
    const map = new ShardMap(shards);
    expect(map.size).toBe(2);
    expect(map.shardIds).toEqual(['shardId-000000000000', 'shardId-000000000001']);
    expect(map.shardFor(0n)).toBe('shardId-000000000000');
    expect(map.shardFor((1n << 127n) - 1n)).toBe('shardId-000000000000');
    expect(map.shardFor(1n << 127n)).toBe('shardId-000000000001');
    expect(map.shardFor(MAX_HASH_KEY)).toBe('shardId-000000000001');
  });

  it('returns undefined for a key in a gap and past the end, and skips incomplete shards', () => {
    const map = new ShardMap([
      { ShardId: 's1', HashKeyRange: { StartingHashKey: '10', EndingHashKey: '19' } },
      { ShardId: 's2', HashKeyRange: { StartingHashKey: '30', EndingHashKey: '39' } },
      { ShardId: 'incomplete' },
    ]);
    expect(map.shardFor(5n)).toBeUndefined();
    expect(map.shardFor(25n)).toBeUndefined();
    expect(map.shardFor(40n)).toBeUndefined();
    expect(map.shardFor(30n)).toBe('s2');
    expect(map.rangeOf('s2')).toEqual({ StartingHashKey: '30', EndingHashKey: '39' });
    expect(map.rangeOf('nope')).toBeUndefined();
  });

  it('agrees with hashKeyInRange for partition keys', () => {
    const map = new ShardMap(shards);
    for (let i = 0; i < 200; i++) {
      const h = partitionKeyToHashKey(`key-${i}`);
      const id = map.shardFor(h)!;
      const s = shards.find((x) => x.ShardId === id)!;
      expect(hashKeyInRange(h, s.HashKeyRange)).toBe(true);
    }
  });
});

describe('hash keys', () => {
  it('uses the explicit hash key when set', () => {
    expect(userRecordHashKey({ partitionKey: 'x', explicitHashKey: '12345' })).toBe(12345n);
    expect(userRecordHashKey({ partitionKey: 'x' })).toBe(partitionKeyToHashKey('x'));
  });

  it('parses only valid explicit hash keys', () => {
    expect(parseExplicitHashKey('0')).toBe(0n);
    expect(parseExplicitHashKey(MAX_HASH_KEY.toString())).toBe(MAX_HASH_KEY);
    expect(parseExplicitHashKey((MAX_HASH_KEY + 1n).toString())).toBeUndefined();
    expect(parseExplicitHashKey('-1')).toBeUndefined();
    expect(parseExplicitHashKey('01')).toBeUndefined();
    expect(parseExplicitHashKey('0x10')).toBeUndefined();
    expect(parseExplicitHashKey('')).toBeUndefined();
  });
});

describe('validateUserRecord', () => {
  it('accepts a good record', () => {
    expect(validateUserRecord({ partitionKey: 'k', data: Buffer.from('x') })).toEqual([]);
  });

  it('reports every problem at once, with the field path', () => {
    const problems = validateUserRecord({
      partitionKey: '',
      explicitHashKey: 'abc',
      data: 'not bytes' as unknown as Uint8Array,
    });
    expect(problems.map((p) => p.path)).toEqual(['partitionKey', 'explicitHashKey', 'data']);
  });

  it('rejects a partition key over 256 characters and data + key over 1 MiB (UTF-8 bytes)', () => {
    expect(validateUserRecord({ partitionKey: 'k'.repeat(256), data: Buffer.alloc(1) })).toEqual([]);
    expect(validateUserRecord({ partitionKey: 'k'.repeat(257), data: Buffer.alloc(1) })[0]!.path).toBe(
      'partitionKey',
    );
    expect(validateUserRecord({ partitionKey: 'é', data: Buffer.alloc(1_048_574) })).toEqual([]);
    expect(validateUserRecord({ partitionKey: 'é', data: Buffer.alloc(1_048_575) })[0]!.path).toBe('data');
    expect(
      validateUserRecord({ partitionKey: 'k', data: Buffer.alloc(2_000_000) }, { maxRecordBytes: 10 << 20 }),
    ).toEqual([]);
  });
});

describe('hex hash keys (the per-record fast path)', () => {
  it('agree with the BigInt forms, for partition keys, explicit hash keys and shard lookup', async () => {
    const { hashKeyToHex, partitionKeyToHashKeyHex, userRecordHashKeyHex } = await import('../src/index.js');
    const map = new ShardMap([
      { ShardId: 's1', HashKeyRange: { StartingHashKey: '0', EndingHashKey: '1000' } },
      {
        ShardId: 's2',
        HashKeyRange: { StartingHashKey: '1001', EndingHashKey: ((1n << 127n) - 1n).toString() },
      },
      {
        ShardId: 's3',
        HashKeyRange: { StartingHashKey: (1n << 127n).toString(), EndingHashKey: MAX_HASH_KEY.toString() },
      },
    ]);
    for (const pk of ['a', 'ключ-🔑', 'user-42', ...Array.from({ length: 300 }, (_, i) => `k${i}`)]) {
      const h = partitionKeyToHashKey(pk);
      expect(partitionKeyToHashKeyHex(pk)).toBe(hashKeyToHex(h));
      expect(map.shardForHex(hashKeyToHex(h))).toBe(map.shardFor(h));
    }
    for (const k of [0n, 1000n, 1001n, (1n << 127n) - 1n, 1n << 127n, MAX_HASH_KEY]) {
      expect(map.shardForHex(hashKeyToHex(k))).toBe(map.shardFor(k));
      expect(userRecordHashKeyHex({ partitionKey: 'x', explicitHashKey: k.toString() })).toBe(
        hashKeyToHex(k),
      );
    }
  });
});
