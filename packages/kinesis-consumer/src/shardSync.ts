import type { KinesisClient, Shard } from '@aws-sdk/client-kinesis';
import { listShards } from '@awskit/kinesis-aggregation';
import { CALL_DEADLINE_MS } from './deadline.js';
import { multiStreamLeaseKey } from './multiStream.js';
import { type InitialPosition, type Lease, SentinelCheckpoint } from './types.js';

/** The sentinel checkpoint new root leases start at. */
export function initialCheckpoint(position: InitialPosition): string {
  if (position === 'LATEST') return SentinelCheckpoint.LATEST;
  if (position === 'TRIM_HORIZON') return SentinelCheckpoint.TRIM_HORIZON;
  return SentinelCheckpoint.AT_TIMESTAMP;
}

function parentsOf(s: Shard): string[] {
  return [s.ParentShardId, s.AdjacentParentShardId].filter((p): p is string => !!p);
}

/**
 * Builds a new, unowned lease for a shard. With `streamIdentifier` (multi-stream mode) the key is the KCL's
 * `account:stream:creationEpoch:shardId` and the item carries `streamName` and `shardId`; parents stay shard ids.
 */
export function newLease(
  shardId: string,
  checkpoint: string,
  parents: string[],
  range?: { StartingHashKey?: string; EndingHashKey?: string },
  streamIdentifier?: string,
): Lease {
  const lease: Lease = {
    leaseKey: streamIdentifier ? multiStreamLeaseKey(streamIdentifier, shardId) : shardId,
    leaseCounter: 0,
    checkpoint,
    checkpointSubSequenceNumber: 0,
    ownerSwitchesSinceCheckpoint: 0,
    parentShardIds: parents,
    childShardIds: [],
  };
  if (streamIdentifier) {
    lease.streamIdentifier = streamIdentifier;
    lease.shardId = shardId;
  }
  if (range?.StartingHashKey !== undefined && range.EndingHashKey !== undefined) {
    lease.startingHashKey = range.StartingHashKey;
    lease.endingHashKey = range.EndingHashKey;
  }
  return lease;
}

/**
 * Which shards need a lease. Shards are visited parents first:
 * - a shard with a parent that has (or gets) a lease starts at `TRIM_HORIZON` (a descendant of a shard we
 *   process: nothing may be skipped; it runs after its parents end). This also repairs children whose creation at
 *   `SHARD_END` was missed, so no shard is left behind after a split or merge;
 * - a shard with a leased descendant is skipped (finished, its lease cleaned up by the KCL);
 * - a shard whose parents are gone from the stream (roots, or parents past retention) or were deliberately skipped
 *   starts at the initial position — except that with `LATEST` a closed shard is skipped (it has nothing new; its
 *   open descendants start at `LATEST` instead), which is the KCL's `AT_LATEST` snapshot.
 *
 * `existing` holds lease keys; with `streamIdentifier` (multi-stream mode) the shards are that stream's and their
 * keys are `account:stream:creationEpoch:shardId`.
 */
export function computeLeasesToCreate(
  shards: readonly Shard[],
  existing: ReadonlySet<string>,
  position: InitialPosition,
  streamIdentifier?: string,
): Lease[] {
  const byId = new Map(shards.map((s) => [s.ShardId!, s]));
  // Everything below works on shard ids: the stream's lease keys are mapped back to them.
  if (streamIdentifier) {
    const prefix = `${streamIdentifier}:`;
    existing = new Set([...existing].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length)));
  }
  const leased = new Set(existing);
  const children = new Map<string, string[]>();
  for (const s of shards)
    for (const p of parentsOf(s)) {
      const list = children.get(p);
      if (list) list.push(s.ShardId!);
      else children.set(p, [s.ShardId!]);
    }
  // A shard with a leased descendant was finished and its lease cleaned up (the KCL deletes finished leases while
  // the shard is still in retention): recreating it would re-read the whole shard and block its children again.
  const superseded = (id: string, seen = new Set<string>()): boolean =>
    (children.get(id) ?? []).some((c) => {
      if (seen.has(c)) return false;
      seen.add(c);
      return existing.has(c) || superseded(c, seen);
    });
  const skipped = new Set<string>();
  const out: Lease[] = [];
  const visited = new Set<string>();
  const visit = (s: Shard) => {
    const id = s.ShardId!;
    if (visited.has(id)) return;
    visited.add(id);
    const parents = parentsOf(s);
    for (const p of parents) {
      const ps = byId.get(p);
      if (ps) visit(ps);
    }
    if (leased.has(id) || superseded(id)) return;
    const open = !s.SequenceNumberRange?.EndingSequenceNumber;
    const parentLeased = parents.some((p) => leased.has(p));
    if (parentLeased) {
      out.push(newLease(id, SentinelCheckpoint.TRIM_HORIZON, parents, s.HashKeyRange, streamIdentifier));
      leased.add(id);
      return;
    }
    if (position === 'LATEST' && !open) {
      skipped.add(id);
      return;
    }
    out.push(newLease(id, initialCheckpoint(position), parents, s.HashKeyRange, streamIdentifier));
    leased.add(id);
  };
  for (const s of shards) visit(s);
  return out;
}

/** Lists every shard of the stream (all pages: `listShards` of `@awskit/kinesis-aggregation`), each call under the consumer's deadline. */
export function listAllShards(
  kinesis: KinesisClient,
  stream: { streamName?: string; streamARN?: string },
): Promise<Shard[]> {
  return listShards(kinesis, stream, { callTimeoutMs: CALL_DEADLINE_MS });
}
