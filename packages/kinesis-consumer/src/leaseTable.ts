import {
  type AttributeValue,
  DeleteItemCommand,
  type DeleteItemCommandOutput,
  type DynamoDBClient,
  GetItemCommand,
  type GetItemCommandOutput,
  PutItemCommand,
  type PutItemCommandOutput,
  ScanCommand,
  type ScanCommandOutput,
  UpdateItemCommand,
  type UpdateItemCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { toAwskitError } from '@awskit/core';
import { CALL_DEADLINE_MS, callDeadline } from './deadline.js';
import { ensureHashKeyTable, errName } from './dynamoTables.js';
import { ConsumerAccessDeniedError, LeaseLostError, LeaseTableError } from './errors.js';
import type { ExtendedSequenceNumber, Lease } from './types.js';

type Item = Record<string, AttributeValue>;

/** The lease-table operations that are counted (data-plane calls; DescribeTable/CreateTable are not). */
export const LEASE_TABLE_OPERATIONS = [
  'UpdateItem',
  'PutItem',
  'GetItem',
  'Scan',
  'Query',
  'DeleteItem',
] as const;
/** One of {@link LEASE_TABLE_OPERATIONS}. */
export type LeaseTableOperation = (typeof LEASE_TABLE_OPERATIONS)[number];
const READS: ReadonlySet<LeaseTableOperation> = new Set(['GetItem', 'Scan', 'Query']);

/**
 * What one worker's lease-table calls cost: calls and capacity units per operation. Writes and GetItem: as DynamoDB
 * reports them (`ReturnConsumedCapacity: TOTAL`); a consistent Scan: 1 RCU per 4 KB of returned items (computed from
 * the items, DynamoDB's rule). A conditional write that fails its condition still consumes write capacity
 * (DynamoDB charges it; no figure comes back with the error): counted as 1 WCU (lease items are well under 1 KB).
 */
export interface LeaseTableCost {
  calls: Record<LeaseTableOperation, number>;
  /** Capacity units per operation (RCU for GetItem/Scan/Query, WCU for the writes). */
  units: Record<LeaseTableOperation, number>;
  readUnits: number;
  writeUnits: number;
}

type DataCommand = UpdateItemCommand | PutItemCommand | GetItemCommand | ScanCommand | DeleteItemCommand;
/** Every field a data-plane answer may carry (all optional in the SDK's types). */
type DataOutput = UpdateItemCommandOutput &
  PutItemCommandOutput &
  GetItemCommandOutput &
  ScanCommandOutput &
  DeleteItemCommandOutput;

/** A cost with every count at 0. */
export function emptyCost(): LeaseTableCost {
  const zero = () =>
    Object.fromEntries(LEASE_TABLE_OPERATIONS.map((o) => [o, 0])) as Record<LeaseTableOperation, number>;
  return { calls: zero(), units: zero(), readUnits: 0, writeUnits: 0 };
}

/** DynamoDB's item size: UTF-8 attribute names plus values (a number ~ digits/2 + 1 bytes). */
function approxItemBytes(item: Item): number {
  let n = 0;
  for (const [k, v] of Object.entries(item)) {
    n += k.length;
    if (v.S !== undefined) n += Buffer.byteLength(v.S);
    else if (v.N !== undefined) n += Math.ceil(v.N.length / 2) + 1;
    else if (v.SS) n += v.SS.reduce((a, x) => a + Buffer.byteLength(x), 0);
    else n += 8;
  }
  return n;
}

/** Reads a lease from a DynamoDB item written by us or by the KCL (1.x–3.x); unknown attributes are ignored. */
export function leaseFromItem(item: Item): Lease {
  const s = (k: string) => item[k]?.S;
  const n = (k: string) => (item[k]?.N !== undefined ? Number(item[k]!.N) : undefined);
  const ss = (k: string) => item[k]?.SS ?? (item[k]?.S !== undefined ? [item[k]!.S!] : []);
  const lease: Lease = {
    leaseKey: s('leaseKey') ?? '',
    leaseCounter: n('leaseCounter') ?? 0,
    checkpoint: s('checkpoint') ?? 'TRIM_HORIZON',
    checkpointSubSequenceNumber: n('checkpointSubSequenceNumber') ?? 0,
    ownerSwitchesSinceCheckpoint: n('ownerSwitchesSinceCheckpoint') ?? 0,
    parentShardIds: ss('parentShardId'),
    childShardIds: ss('childShardIds'),
  };
  const owner = s('leaseOwner');
  if (owner) lease.leaseOwner = owner;
  // KCL multi-stream leases: the stream identifier is stored as `streamName` (DynamoDBMultiStreamLeaseSerializer).
  const streamIdentifier = s('streamName');
  if (streamIdentifier) lease.streamIdentifier = streamIdentifier;
  const shardId = s('shardId');
  if (shardId) lease.shardId = shardId;
  const pending = s('pendingCheckpoint');
  if (pending) {
    lease.pendingCheckpoint = pending;
    lease.pendingCheckpointSubSequenceNumber = n('pendingCheckpointSubSequenceNumber') ?? 0;
  }
  const handoffTo = s('awskitHandoffTo');
  if (handoffTo) lease.handoffTo = handoffTo;
  const awskitOwner = s('awskitOwner');
  if (awskitOwner) lease.awskitOwner = awskitOwner;
  const checkpointOwner = s('checkpointOwner');
  if (checkpointOwner) lease.checkpointOwner = checkpointOwner;
  const session = s('awskitSession');
  if (session) lease.awskitSession = session;
  const latestStartedAt = n('awskitLatestStartedAt');
  if (latestStartedAt !== undefined) lease.latestStartedAt = latestStartedAt;
  const start = s('startingHashKey');
  const end = s('endingHashKey');
  if (start !== undefined && end !== undefined) {
    lease.startingHashKey = start;
    lease.endingHashKey = end;
  }
  return lease;
}

/** Writes a lease as a DynamoDB item with the KCL's attribute names and types (`parentShardId` is a string set). */
export function leaseToItem(lease: Lease): Item {
  const item: Item = {
    leaseKey: { S: lease.leaseKey },
    leaseCounter: { N: String(lease.leaseCounter) },
    checkpoint: { S: lease.checkpoint },
    checkpointSubSequenceNumber: { N: String(lease.checkpointSubSequenceNumber) },
    ownerSwitchesSinceCheckpoint: { N: String(lease.ownerSwitchesSinceCheckpoint) },
  };
  if (lease.leaseOwner) item.leaseOwner = { S: lease.leaseOwner };
  if (lease.streamIdentifier) item.streamName = { S: lease.streamIdentifier };
  if (lease.shardId) item.shardId = { S: lease.shardId };
  // DynamoDB rejects empty sets, so absent means "none" (as in the KCL).
  if (lease.parentShardIds.length) item.parentShardId = { SS: [...new Set(lease.parentShardIds)] };
  if (lease.childShardIds.length) item.childShardIds = { SS: [...new Set(lease.childShardIds)] };
  if (lease.pendingCheckpoint) {
    item.pendingCheckpoint = { S: lease.pendingCheckpoint };
    item.pendingCheckpointSubSequenceNumber = { N: String(lease.pendingCheckpointSubSequenceNumber ?? 0) };
  }
  if (lease.startingHashKey !== undefined && lease.endingHashKey !== undefined) {
    item.startingHashKey = { S: lease.startingHashKey };
    item.endingHashKey = { S: lease.endingHashKey };
  }
  if (lease.latestStartedAt !== undefined) item.awskitLatestStartedAt = { N: String(lease.latestStartedAt) };
  if (lease.awskitOwner) item.awskitOwner = { S: lease.awskitOwner };
  if (lease.checkpointOwner) item.checkpointOwner = { S: lease.checkpointOwner };
  if (lease.awskitSession) item.awskitSession = { S: lease.awskitSession };
  return item;
}

/** True for DynamoDB's "condition not met" (the fencing check failed). */
export function isConditionalFailure(e: unknown): boolean {
  return errName(e) === 'ConditionalCheckFailedException';
}

/** Options of {@link LeaseTable}. */
export interface LeaseTableOptions {
  client: DynamoDBClient;
  tableName: string;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Longest one DynamoDB call may take before it is aborted (clients without timeouts included). @default 10_000 */
  callTimeoutMs?: number;
  /** Called after every data-plane call with the capacity units it consumed (metrics). */
  onCall?: (operation: LeaseTableOperation, capacityUnits: number) => void;
}

/**
 * The lease table: every mutation is a conditional write on `leaseCounter` (and the owner where it matters), so
 * two workers can never both believe they own a shard. Plain conditional writes only (no transactions, no TTL):
 * they work on DynamoDB, DynamoDB Local and dynalite alike.
 */
export class LeaseTable {
  readonly tableName: string;
  private readonly client: DynamoDBClient;
  private readonly callTimeoutMs: number;
  private readonly sleep: LeaseTableOptions['sleep'];
  /** DynamoDB calls made (for the lease-table-writes benchmark and stats). */
  readonly calls = { reads: 0, writes: 0 };
  /** Calls and capacity units per operation (see {@link LeaseTableCost}). */
  readonly cost: LeaseTableCost = emptyCost();
  private readonly onCall?: LeaseTableOptions['onCall'];
  /** Hand-off requests (`awskitHandoffTo`) seen on leases by the last renewal/checkpoint of each. */
  private readonly handoffSeen = new Map<string, string>();

  /** The worker that asked for this lease, as seen by the last renewal or checkpoint of it (see `requestHandoff`). */
  handoffRequestedBy(leaseKey: string): string | undefined {
    return this.handoffSeen.get(leaseKey);
  }

  private noteHandoff(leaseKey: string, item: Item | undefined): void {
    const to = item?.awskitHandoffTo?.S;
    if (to) this.handoffSeen.set(leaseKey, to);
    else this.handoffSeen.delete(leaseKey);
  }

  /** `{ abortSignal }` for one lease-table call (see `callTimeoutMs`). */
  private deadline() {
    return callDeadline(undefined, this.callTimeoutMs);
  }

  constructor(options: LeaseTableOptions) {
    this.callTimeoutMs = options.callTimeoutMs ?? CALL_DEADLINE_MS;
    this.client = options.client;
    this.tableName = options.tableName;
    this.sleep = options.sleep;
    this.onCall = options.onCall;
  }

  /**
   * Sends a data-plane call, asking for and counting the capacity it consumes (internal: the worker registry's
   * calls are counted here too, so one cost covers every table the coordinator uses).
   * @internal
   */
  async send(command: DataCommand, options: { abortSignal?: AbortSignal }): Promise<DataOutput> {
    const op: LeaseTableOperation =
      command instanceof UpdateItemCommand
        ? 'UpdateItem'
        : command instanceof PutItemCommand
          ? 'PutItem'
          : command instanceof GetItemCommand
            ? 'GetItem'
            : command instanceof ScanCommand
              ? 'Scan'
              : 'DeleteItem';
    const read = READS.has(op);
    (command.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity ??= 'TOTAL';
    if (read) this.calls.reads++;
    else this.calls.writes++;
    this.cost.calls[op]++;
    let units = 0;
    try {
      const r = (await this.client.send(command as never, options)) as DataOutput;
      // A strongly consistent Scan costs 1 RCU per 4 KB of the items it returns (per page), computed here from the
      // items like DynamoDB does (the local emulator reports less than that for consistent Scans).
      // An eventually consistent Scan costs half.
      const consistent = (command.input as { ConsistentRead?: boolean }).ConsistentRead === true;
      units =
        op === 'Scan'
          ? Math.max(1, Math.ceil((r.Items ?? []).reduce((a, i) => a + approxItemBytes(i), 0) / 4096)) *
            (consistent ? 1 : 0.5)
          : (r.ConsumedCapacity?.CapacityUnits ?? 1);
      return r;
    } catch (e) {
      // A write whose condition failed consumed write capacity all the same.
      if (!read && isConditionalFailure(e)) units = 1;
      throw e;
    } finally {
      this.cost.units[op] += units;
      if (read) this.cost.readUnits += units;
      else this.cost.writeUnits += units;
      this.onCall?.(op, units);
    }
  }

  private wrap(e: unknown, operation: string): Error {
    const name = errName(e);
    if (name === 'AccessDeniedException' || name === 'UnrecognizedClientException')
      return new ConsumerAccessDeniedError(`dynamodb:${operation}`, `table ${this.tableName}`, e);
    const a = toAwskitError(e, { service: 'dynamodb', operation, resource: `table "${this.tableName}"` });
    return new LeaseTableError(`lease table ${this.tableName}: ${operation} failed: ${a.message}`, e);
  }

  /**
   * The fenced write behind every change to a held lease: `SET leaseCounter = :next[, set] [REMOVE remove]`,
   * conditional on `leaseCounter = :cur AND leaseOwner = :me`. When the condition fails, `stillOurs` (if given)
   * judges a consistent re-read: a write that had succeeded but whose SDK retry failed the condition (KCL PR #247).
   * @returns the new counter, or undefined when the lease is not ours any more.
   */
  private async updateOwned(
    leaseKey: string,
    owner: string,
    counter: number,
    update: {
      set?: string;
      remove?: string[];
      values?: Item;
      /** Read the item back (ALL_NEW) and note a hand-off request on it. */
      noteHandoff?: boolean;
      stillOurs?: (now: Lease | undefined) => boolean;
    },
  ): Promise<number | undefined> {
    let expression = update.set ? `SET leaseCounter = :next, ${update.set}` : 'SET leaseCounter = :next';
    if (update.remove?.length) expression += ` REMOVE ${update.remove.join(', ')}`;
    try {
      const r = await this.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { leaseKey: { S: leaseKey } },
          UpdateExpression: expression,
          ConditionExpression: 'leaseCounter = :cur AND leaseOwner = :me',
          // The fencing values go last so no caller's values can replace them.
          ExpressionAttributeValues: {
            ...update.values,
            ':next': { N: String(counter + 1) },
            ':cur': { N: String(counter) },
            ':me': { S: owner },
          },
          ...(update.noteHandoff ? { ReturnValues: 'ALL_NEW' as const } : {}),
        }),
        this.deadline(),
      );
      if (update.noteHandoff) this.noteHandoff(leaseKey, r.Attributes);
      return counter + 1;
    } catch (e) {
      if (!isConditionalFailure(e)) throw this.wrap(e, 'UpdateItem');
      // The optional call skips the re-read entirely when there is no judge.
      if (update.stillOurs?.(await this.getLease(leaseKey))) return counter + 1;
      return undefined;
    }
  }

  /** Creates the table (on-demand billing, `leaseKey` hash key) if it does not exist, and waits until ACTIVE. */
  async ensureTable(signal?: AbortSignal): Promise<boolean> {
    return ensureHashKeyTable({
      client: this.client,
      tableName: this.tableName,
      hashKey: 'leaseKey',
      deadline: () => this.deadline(),
      wrap: (e, operation) => this.wrap(e, operation),
      sleep: this.sleep,
      notActive: () => new LeaseTableError(`lease table ${this.tableName} did not become ACTIVE`),
      ...(signal ? { signal } : {}),
    });
  }

  /**
   * Every lease, read consistently unless `consistent: false` (half the read units; the answer may miss writes of
   * the last second or so — fine where every decision taken from it is a conditional write).
   */
  async listLeases(options: { consistent?: boolean } = {}): Promise<Lease[]> {
    const out: Lease[] = [];
    let start: Item | undefined;
    try {
      do {
        const r = await this.send(
          new ScanCommand({
            TableName: this.tableName,
            ConsistentRead: options.consistent ?? true,
            ExclusiveStartKey: start,
          }),
          this.deadline(),
        );
        for (const it of r.Items ?? []) {
          // KCL 3.5 single-table mode stores worker metrics and coordinator rows here too.
          if (it.entityType?.S && it.entityType.S !== 'LEASE') continue;
          if (it.leaseKey?.S) out.push(leaseFromItem(it));
        }
        start = r.LastEvaluatedKey;
      } while (start);
    } catch (e) {
      throw this.wrap(e, 'Scan');
    }
    return out;
  }

  /** One lease, read consistently; undefined when absent. */
  async getLease(leaseKey: string): Promise<Lease | undefined> {
    try {
      const r = await this.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: { leaseKey: { S: leaseKey } },
          ConsistentRead: true,
        }),
        this.deadline(),
      );
      return r.Item ? leaseFromItem(r.Item) : undefined;
    } catch (e) {
      throw this.wrap(e, 'GetItem');
    }
  }

  /** Creates a lease unless one with that key exists. @returns whether this call created it. */
  async createLeaseIfNotExists(lease: Lease): Promise<boolean> {
    try {
      await this.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: leaseToItem(lease),
          ConditionExpression: 'attribute_not_exists(leaseKey)',
        }),
        this.deadline(),
      );
      return true;
    } catch (e) {
      if (isConditionalFailure(e)) return false;
      throw this.wrap(e, 'PutItem');
    }
  }

  /**
   * Renews a held lease: `leaseCounter = n + 1` if it is still `n` and ours. A failed condition is re-read: if the
   * item already shows our owner and `n + 1`, an SDK retry of a write that had succeeded failed the condition (KCL
   * PR #247), and the lease is still ours.
   * @returns the new counter, or undefined when the lease was lost.
   */
  async renewLease(leaseKey: string, owner: string, counter: number): Promise<number | undefined> {
    return this.updateOwned(leaseKey, owner, counter, {
      noteHandoff: true,
      stillOurs: (now) => {
        if (!(now && now.leaseOwner === owner && now.leaseCounter === counter + 1)) return false;
        if (now.handoffTo) this.handoffSeen.set(leaseKey, now.handoffTo);
        else this.handoffSeen.delete(leaseKey);
        return true;
      },
    });
  }

  /**
   * Takes a lease as seen in a scan: succeeds only if its counter is unchanged since (fencing). Bumps
   * `ownerSwitchesSinceCheckpoint` only when it had another owner (taking an unowned lease is no switch), like the
   * KCL; marks the lease as held by an awskit worker (`awskitOwner`).
   * @returns the lease after the write, or undefined when another worker changed it first.
   */
  async takeLease(seen: Lease, owner: string, session?: string): Promise<Lease | undefined> {
    return (await this.tryTakeLease(seen, owner, session)).taken;
  }

  /**
   * {@link takeLease}, also returning the item as re-read after a failed condition (`current`; undefined when the
   * item is gone), so a caller that retries against the fresh item need not read it again.
   */
  async tryTakeLease(
    seen: Lease,
    owner: string,
    session?: string,
  ): Promise<{ taken?: Lease; current?: Lease }> {
    this.handoffSeen.delete(seen.leaseKey);
    const values: Item = {
      ':next': { N: String(seen.leaseCounter + 1) },
      ':cur': { N: String(seen.leaseCounter) },
      ':me': { S: owner },
    };
    let update = 'SET leaseOwner = :me, leaseCounter = :next, awskitOwner = :me';
    // Worker-liveness mode: the lease lives as long as this session's liveness item advances.
    if (session) {
      update += ', awskitSession = :session';
      values[':session'] = { S: session };
    }
    if (seen.leaseOwner && seen.leaseOwner !== owner) {
      update += ' ADD ownerSwitchesSinceCheckpoint :one';
      values[':one'] = { N: '1' };
    }
    // A hand-off marker (ours, or KCL 3.x's checkpointOwner) is moot once the lease changes hands this way.
    update += session
      ? ' REMOVE checkpointOwner, awskitHandoffTo'
      : ' REMOVE checkpointOwner, awskitHandoffTo, awskitSession';
    try {
      const r = await this.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { leaseKey: { S: seen.leaseKey } },
          UpdateExpression: update,
          ConditionExpression: 'leaseCounter = :cur',
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
        this.deadline(),
      );
      return {
        taken: r.Attributes
          ? leaseFromItem(r.Attributes)
          : { ...seen, leaseOwner: owner, leaseCounter: seen.leaseCounter + 1 },
      };
    } catch (e) {
      if (!isConditionalFailure(e)) throw this.wrap(e, 'UpdateItem');
      // The SDK retried a take whose write had happened but whose answer was lost: the retry fails the condition
      // and the item shows us at the counter we wrote. It is ours (as for renewals, KCL PR #247); without this
      // re-read the lease would sit with us unheld until it expired.
      const now = await this.getLease(seen.leaseKey);
      if (now && now.leaseOwner === owner && now.leaseCounter === seen.leaseCounter + 1)
        return { taken: now };
      return now ? { current: now } : {};
    }
  }

  /**
   * Asks the current owner to hand a lease over (graceful rebalancing): sets `awskitHandoffTo` without touching the
   * counter, if `victim` still owns it and nobody asked first. The owner sees it on its next renewal or
   * checkpoint, finishes its batch, checkpoints and releases the lease.
   * @returns whether the request was recorded.
   */
  async requestHandoff(leaseKey: string, victim: string, requester: string): Promise<boolean> {
    try {
      await this.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { leaseKey: { S: leaseKey } },
          UpdateExpression: 'SET awskitHandoffTo = :to',
          ConditionExpression: 'leaseOwner = :victim AND attribute_not_exists(awskitHandoffTo)',
          ExpressionAttributeValues: { ':to': { S: requester }, ':victim': { S: victim } },
        }),
        this.deadline(),
      );
      return true;
    } catch (e) {
      if (isConditionalFailure(e)) return false;
      throw this.wrap(e, 'UpdateItem');
    }
  }

  /**
   * Gives a held lease up (removes the owner, bumps the counter) so any worker can take it at once.
   * @returns false when it was not ours any more.
   */
  async releaseLease(leaseKey: string, owner: string, counter: number): Promise<boolean> {
    this.handoffSeen.delete(leaseKey);
    const next = await this.updateOwned(leaseKey, owner, counter, {
      remove: ['leaseOwner', 'awskitHandoffTo', 'awskitOwner', 'awskitSession'],
    });
    return next !== undefined;
  }

  /**
   * Writes a checkpoint for a held lease (conditional on counter and owner; bumps the counter, resets
   * `ownerSwitchesSinceCheckpoint`, clears any pending checkpoint). With `childShardIds` it records the children
   * (at `SHARD_END`).
   * @returns the new counter.
   * @throws {LeaseLostError} when the lease is no longer ours.
   */
  async checkpoint(
    leaseKey: string,
    owner: string,
    counter: number,
    position: ExtendedSequenceNumber,
    extra: { childShardIds?: string[]; releaseOwner?: boolean } = {},
  ): Promise<number> {
    const values: Item = {
      ':cp': { S: position.sequenceNumber },
      ':sub': { N: String(position.subSequenceNumber) },
      ':zero': { N: '0' },
    };
    let set = 'checkpoint = :cp, checkpointSubSequenceNumber = :sub, ownerSwitchesSinceCheckpoint = :zero';
    if (extra.childShardIds?.length) {
      set += ', childShardIds = :children';
      values[':children'] = { SS: [...new Set(extra.childShardIds)] };
    }
    const remove = ['pendingCheckpoint', 'pendingCheckpointSubSequenceNumber', 'pendingCheckpointState'];
    if (extra.releaseOwner) remove.push('leaseOwner', 'awskitHandoffTo', 'awskitOwner', 'awskitSession');
    const next = await this.updateOwned(leaseKey, owner, counter, {
      set,
      remove,
      values,
      noteHandoff: true,
      stillOurs: (now) =>
        !!now &&
        now.leaseCounter === counter + 1 &&
        (extra.releaseOwner ? !now.leaseOwner : now.leaseOwner === owner) &&
        now.checkpoint === position.sequenceNumber &&
        now.checkpointSubSequenceNumber === position.subSequenceNumber,
    });
    if (next === undefined) throw new LeaseLostError(leaseKey);
    return next;
  }

  /**
   * Stores a pending checkpoint (KCL `prepareCheckpoint`).
   * @returns the new counter. @throws {LeaseLostError}
   */
  async prepareCheckpoint(
    leaseKey: string,
    owner: string,
    counter: number,
    position: ExtendedSequenceNumber,
  ): Promise<number> {
    const next = await this.updateOwned(leaseKey, owner, counter, {
      set: 'pendingCheckpoint = :cp, pendingCheckpointSubSequenceNumber = :sub',
      values: { ':cp': { S: position.sequenceNumber }, ':sub': { N: String(position.subSequenceNumber) } },
    });
    if (next === undefined) throw new LeaseLostError(leaseKey);
    return next;
  }

  /**
   * Records when the first owner of a `LATEST` lease started reading (see `Lease.latestStartedAt`); conditional on
   * counter and owner like every write.
   * @returns the new counter. @throws {LeaseLostError}
   */
  async markLatestStart(leaseKey: string, owner: string, counter: number, epochMs: number): Promise<number> {
    const next = await this.updateOwned(leaseKey, owner, counter, {
      set: 'awskitLatestStartedAt = :t',
      values: { ':t': { N: String(epochMs) } },
      stillOurs: (now) =>
        !!now &&
        now.leaseOwner === owner &&
        now.leaseCounter === counter + 1 &&
        now.latestStartedAt === epochMs,
    });
    if (next === undefined) throw new LeaseLostError(leaseKey);
    return next;
  }

  /** Deletes a lease (cleanup of finished shards that left the stream's retention). */
  async deleteLease(leaseKey: string, expectedCounter: number): Promise<boolean> {
    try {
      await this.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: { leaseKey: { S: leaseKey } },
          ConditionExpression: 'leaseCounter = :cur',
          ExpressionAttributeValues: { ':cur': { N: String(expectedCounter) } },
        }),
        this.deadline(),
      );
      return true;
    } catch (e) {
      if (isConditionalFailure(e)) return false;
      throw this.wrap(e, 'DeleteItem');
    }
  }
}
