import * as crypto from 'node:crypto';
import { MAX_HASH_KEY } from './limits.js';
import type { HashKeyRange, ShardLike, UserRecord } from './types.js';

// crypto.hash (Node >= 20.12) hashes in one call without a Hash object: much cheaper per record.
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;

/**
 * A partition key's hash key as 32 lowercase hex digits (MD5 of its UTF-8 bytes). Fixed-width hex sorts like the
 * number, so shard lookup can compare strings ({@link ShardMap.shardForHex}) without BigInt work per record.
 */
export function partitionKeyToHashKeyHex(partitionKey: string): string {
  return oneShotHash
    ? oneShotHash('md5', partitionKey, 'hex')
    : crypto.createHash('md5').update(partitionKey, 'utf8').digest('hex');
}

/** A 128-bit hash key as 32 lowercase hex digits (see {@link partitionKeyToHashKeyHex}). */
export function hashKeyToHex(hashKey: bigint): string {
  return hashKey.toString(16).padStart(32, '0');
}

/**
 * Maps a partition key to its 128-bit hash key the way Kinesis does: MD5 of the key's UTF-8 bytes, read as a
 * big-endian unsigned integer.
 *
 * @example partitionKeyToHashKey('a') === 0x0cc175b9c0f1b6a831c399e269772661n
 */
export function partitionKeyToHashKey(partitionKey: string): bigint {
  return BigInt(`0x${partitionKeyToHashKeyHex(partitionKey)}`);
}

const DECIMAL = /^(0|[1-9][0-9]{0,38})$/;

/**
 * Parses an explicit hash key (a decimal string in [0, 2^128 − 1], the pattern the Kinesis API accepts).
 *
 * @returns the key, or `undefined` when it is not a valid explicit hash key.
 */
export function parseExplicitHashKey(explicitHashKey: string): bigint | undefined {
  if (!DECIMAL.test(explicitHashKey)) return undefined;
  const value = BigInt(explicitHashKey);
  return value <= MAX_HASH_KEY ? value : undefined;
}

/**
 * The hash key Kinesis routes a user record by: its explicit hash key if it has one, else MD5 of its partition key.
 * An invalid explicit hash key falls back to the partition key's hash; validate records first.
 */
export function userRecordHashKey(record: Pick<UserRecord, 'partitionKey' | 'explicitHashKey'>): bigint {
  if (record.explicitHashKey !== undefined) {
    const parsed = parseExplicitHashKey(record.explicitHashKey);
    if (parsed !== undefined) return parsed;
  }
  return partitionKeyToHashKey(record.partitionKey);
}

/** {@link userRecordHashKey} as 32 hex digits, for {@link ShardMap.shardForHex}. */
export function userRecordHashKeyHex(record: Pick<UserRecord, 'partitionKey' | 'explicitHashKey'>): string {
  if (record.explicitHashKey !== undefined) {
    const parsed = parseExplicitHashKey(record.explicitHashKey);
    if (parsed !== undefined) return hashKeyToHex(parsed);
  }
  return partitionKeyToHashKeyHex(record.partitionKey);
}

/** True when `hashKey` lies in the shard's inclusive range. */
export function hashKeyInRange(hashKey: bigint, range: HashKeyRange): boolean {
  return hashKey >= BigInt(range.StartingHashKey) && hashKey <= BigInt(range.EndingHashKey);
}

interface ShardEntry {
  shardId: string;
  start: bigint;
  end: bigint;
  startHex: string;
  endHex: string;
}

/**
 * Predicts the shard a hash key lands on, from the hash-key ranges of the stream's open shards (ListShards with
 * `ShardFilter: { Type: 'AT_LATEST' }`). Lookup is a binary search on the ranges' ending keys, as the KPL does.
 *
 * @example
 * const map = new ShardMap(shards);
 * map.shardFor(partitionKeyToHashKey('user-42')); // 'shardId-000000000001'
 */
export class ShardMap {
  private readonly entries: ShardEntry[];

  /** @param shards shards with `ShardId` and `HashKeyRange`; entries missing either are ignored. */
  constructor(shards: readonly ShardLike[]) {
    const entries: ShardEntry[] = [];
    for (const s of shards) {
      const start = s.HashKeyRange?.StartingHashKey;
      const end = s.HashKeyRange?.EndingHashKey;
      if (s.ShardId === undefined || start === undefined || end === undefined) continue;
      const a = BigInt(start);
      const b = BigInt(end);
      entries.push({
        shardId: s.ShardId,
        start: a,
        end: b,
        startHex: hashKeyToHex(a),
        endHex: hashKeyToHex(b),
      });
    }
    entries.sort((a, b) => (a.end < b.end ? -1 : a.end > b.end ? 1 : 0));
    this.entries = entries;
  }

  /** Number of shards in the map. */
  get size(): number {
    return this.entries.length;
  }

  /** Shard ids in hash-key order. */
  get shardIds(): string[] {
    return this.entries.map((e) => e.shardId);
  }

  /** The shard whose range holds `hashKey`, or `undefined` when no range does (a gap, e.g. mid-reshard). */
  shardFor(hashKey: bigint): string | undefined {
    const entries = this.entries;
    let lo = 0;
    let hi = entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (entries[mid]!.end < hashKey) lo = mid + 1;
      else hi = mid;
    }
    const e = entries[lo];
    return e !== undefined && e.start <= hashKey ? e.shardId : undefined;
  }

  /** {@link shardFor} for a hash key given as 32 hex digits (cheaper: no BigInt per lookup). */
  shardForHex(hashKeyHex: string): string | undefined {
    const entries = this.entries;
    let lo = 0;
    let hi = entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (entries[mid]!.endHex < hashKeyHex) lo = mid + 1;
      else hi = mid;
    }
    const e = entries[lo];
    return e !== undefined && e.startHex <= hashKeyHex ? e.shardId : undefined;
  }

  /** The hash-key range of a shard in the map. */
  rangeOf(shardId: string): HashKeyRange | undefined {
    const e = this.entries.find((x) => x.shardId === shardId);
    return e ? { StartingHashKey: e.start.toString(), EndingHashKey: e.end.toString() } : undefined;
  }
}
