import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type GetShardIteratorCommandInput,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { sleep } from '@awskit/core';
import { LeaseTable } from './leaseTable.js';
import { isShardLeaseKey, parentLeaseKey, parseMultiStreamLeaseKey } from './multiStream.js';
import { isSequenceNumber } from './records.js';
import { type ExtendedSequenceNumber, type Lease, SentinelCheckpoint } from './types.js';

/** One shard's row of the assignments view. */
export interface ShardAssignment {
  shardId: string;
  /** Multi-stream tables: the shard's stream and lease key (`account:stream:creationEpoch:shardId`). */
  streamName?: string;
  leaseKey?: string;
  /** Worker holding the lease; undefined when unassigned. */
  owner?: string;
  /** `ended`: SHARD_END checkpointed; `blocked`: waiting for a parent to end; else owned or unassigned. */
  status: 'owned' | 'unassigned' | 'blocked' | 'ended';
  /** True when the worker that built this view holds the lease. */
  heldHere: boolean;
  leaseCounter: number;
  checkpoint: ExtendedSequenceNumber;
  parentShardIds: string[];
  childShardIds: string[];
  /** How far the shard's reader is behind the tip (ms), when known. */
  millisBehindLatest?: number;
  /** `worker`: reported by this worker's reader; `probe`: measured by reading one record at the checkpoint. */
  lagSource?: 'worker' | 'probe';
  /** Time since the checkpoint moved, for shards held here (ms). */
  checkpointAgeMs?: number;
  /** For shards held here: see `ShardStats.stalled`. */
  stalled?: boolean;
}

/** What a worker knows locally about the shards it holds. */
export interface LocalShardInfo {
  millisBehindLatest?: number;
  checkpointAgeMs?: number;
  stalled?: boolean;
}

/** Builds the assignments view from lease rows plus this worker's local knowledge. */
export function buildAssignments(
  leases: Lease[],
  workerId: string | undefined,
  local: ReadonlyMap<string, LocalShardInfo> = new Map(),
): ShardAssignment[] {
  const byKey = new Map(leases.map((l) => [l.leaseKey, l]));
  return leases
    .filter((l) => isShardLeaseKey(l.leaseKey))
    .map((l) => {
      const ended = l.checkpoint === SentinelCheckpoint.SHARD_END;
      const blocked =
        !ended &&
        l.parentShardIds.some((p) => {
          const parent = byKey.get(parentLeaseKey(l, p));
          return parent !== undefined && parent.checkpoint !== SentinelCheckpoint.SHARD_END;
        });
      const a: ShardAssignment = {
        shardId: l.leaseKey,
        status: ended ? 'ended' : l.leaseOwner ? 'owned' : blocked ? 'blocked' : 'unassigned',
        heldHere: workerId !== undefined && l.leaseOwner === workerId,
        leaseCounter: l.leaseCounter,
        checkpoint: { sequenceNumber: l.checkpoint, subSequenceNumber: l.checkpointSubSequenceNumber },
        parentShardIds: l.parentShardIds,
        childShardIds: l.childShardIds,
      };
      const ms = parseMultiStreamLeaseKey(l.leaseKey);
      if (ms) {
        a.shardId = ms.shardId;
        a.streamName = ms.streamName;
        a.leaseKey = l.leaseKey;
      }
      if (l.leaseOwner) a.owner = l.leaseOwner;
      const mine = a.heldHere ? local.get(l.leaseKey) : undefined;
      if (mine?.millisBehindLatest !== undefined) {
        a.millisBehindLatest = mine.millisBehindLatest;
        a.lagSource = 'worker';
      }
      if (mine?.checkpointAgeMs !== undefined) a.checkpointAgeMs = mine.checkpointAgeMs;
      if (mine?.stalled !== undefined) a.stalled = mine.stalled;
      return a;
    })
    .sort((a, b) => (a.leaseKey ?? a.shardId).localeCompare(b.leaseKey ?? b.shardId));
}

/**
 * Measures a shard's lag at a checkpoint: GetShardIterator there and GetRecords(Limit 1), whose
 * `MillisBehindLatest` says how far that position is behind the tip. Costs one read of the shard's 5/s budget.
 * @returns undefined for finished shards or when the service does not say.
 */
export async function probeShardLag(
  kinesis: KinesisClient,
  stream: { streamName?: string; streamARN?: string },
  shardId: string,
  checkpoint: ExtendedSequenceNumber,
): Promise<number | undefined> {
  if (checkpoint.sequenceNumber === SentinelCheckpoint.SHARD_END) return undefined;
  const input: GetShardIteratorCommandInput = {
    StreamName: stream.streamARN ? undefined : stream.streamName,
    StreamARN: stream.streamARN,
    ShardId: shardId,
    ShardIteratorType: 'TRIM_HORIZON',
  };
  if (isSequenceNumber(checkpoint.sequenceNumber)) {
    input.ShardIteratorType = 'AFTER_SEQUENCE_NUMBER';
    input.StartingSequenceNumber = checkpoint.sequenceNumber;
  } else if (checkpoint.sequenceNumber === SentinelCheckpoint.LATEST) input.ShardIteratorType = 'LATEST';
  const it = await kinesis.send(new GetShardIteratorCommand(input));
  const r = await kinesis.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator, Limit: 1 }));
  return r.MillisBehindLatest;
}

/**
 * Adds probed lag to rows that have none (see {@link probeShardLag}); probe failures leave the row as is. Rows of a
 * multi-stream table are probed in their own stream: `stream` may pick it per row (undefined: not probed); given as
 * an object, it applies to single-stream rows and multi-stream rows are read by their `streamName`.
 */
export async function addProbedLag(
  rows: ShardAssignment[],
  kinesis: KinesisClient,
  stream:
    | { streamName?: string; streamARN?: string }
    | ((row: ShardAssignment) => { streamName?: string; streamARN?: string } | undefined),
): Promise<ShardAssignment[]> {
  await Promise.all(
    rows.map(async (a) => {
      if (a.millisBehindLatest !== undefined || a.status === 'ended') return;
      const ref =
        typeof stream === 'function' ? stream(a) : a.streamName ? { streamName: a.streamName } : stream;
      if (!ref) return;
      try {
        const lag = await probeShardLag(kinesis, ref, a.shardId, a.checkpoint);
        if (lag !== undefined) {
          a.millisBehindLatest = lag;
          a.lagSource = 'probe';
        }
      } catch {
        // A trimmed checkpoint or a throttled read: lag stays unknown.
      }
    }),
  );
  return rows;
}

/** Options of {@link readAssignments}. */
export interface ReadAssignmentsOptions {
  dynamoClient: DynamoDBClient;
  /** The lease table (the application name by default in the consumer). */
  tableName: string;
  /**
   * With a Kinesis client and the stream, lag is probed for every unfinished shard (multi-stream tables: with a
   * Kinesis client alone, each shard in its own stream of that account).
   */
  kinesisClient?: KinesisClient;
  streamName?: string;
  streamARN?: string;
}

/**
 * The assignments of an application without running a worker (for dashboards and the CLI): every shard's owner,
 * checkpoint and (with a Kinesis client) probed lag.
 * @throws {LeaseTableError} @throws {ConsumerAccessDeniedError}
 */
export async function readAssignments(options: ReadAssignmentsOptions): Promise<ShardAssignment[]> {
  const table = new LeaseTable({ client: options.dynamoClient, tableName: options.tableName, sleep });
  const rows = buildAssignments(await table.listLeases(), undefined);
  if (options.kinesisClient && (options.streamName || options.streamARN || rows.some((r) => r.streamName)))
    await addProbedLag(rows, options.kinesisClient, {
      streamName: options.streamName,
      streamARN: options.streamARN,
    });
  return rows;
}
