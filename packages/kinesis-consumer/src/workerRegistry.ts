import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { toAwskitError } from '@awskit/core';
import { CALL_DEADLINE_MS, callDeadline } from './deadline.js';
import { ensureHashKeyTable, errName } from './dynamoTables.js';
import { ConsumerAccessDeniedError, LeaseTableError } from './errors.js';
import { isConditionalFailure, type LeaseTable } from './leaseTable.js';

type Item = Record<string, AttributeValue>;

/**
 * One worker process's liveness item (worker-liveness lease mode). Its key is the session: the worker id plus a
 * random per-process part, so a restart under the same worker id is a new session and the leases of the old one
 * expire like any dead worker's.
 */
export interface WorkerSession {
  /** `workerId#random`: the item's key, stored on every lease this session takes (`awskitSession`). */
  session: string;
  workerId: string;
  /** Advanced by every heartbeat (fencing token of the liveness item). */
  heartbeat: number;
  /** Set by the worker that declared this session dead (it stops advancing; its leases are free). */
  deadBy?: string;
  /** Hand-off requests for this session's leases: lease key → the worker that asked. */
  handoffs: Record<string, string>;
}

/** Outcome of a heartbeat. */
export type HeartbeatResult =
  | { ok: true; heartbeat: number; handoffs: Record<string, string> }
  | { ok: false; deadBy?: string };

/** The worker table's name for a lease table. */
export function workerTableName(leaseTableName: string): string {
  return `${leaseTableName}-awskit-workers`;
}

function sessionFromItem(item: Item): WorkerSession | undefined {
  const session = item.session?.S;
  if (!session) return undefined;
  const handoffs: Record<string, string> = {};
  for (const [k, v] of Object.entries(item.handoffs?.M ?? {})) if (v.S) handoffs[k] = v.S;
  const s: WorkerSession = {
    session,
    workerId: item.workerId?.S ?? session,
    heartbeat: Number(item.heartbeat?.N ?? 0),
    handoffs,
  };
  if (item.deadBy?.S) s.deadBy = item.deadBy.S;
  return s;
}

/**
 * The worker table of the worker-liveness lease mode: one small item per worker process, advanced every renew
 * interval. It is a table of its own (like the KCL 3.x `<app>-WorkerMetricStats` table), not rows of the lease
 * table, because the KCL 2.x reads every row of the lease table as a lease (`DynamoDBLeaseSerializer` has no
 * row-type filter): it would take such a row and try to read a shard of that name. Calls go through the lease
 * table's counting `send`, so `leaseTableCost()` covers both tables.
 */
export class WorkerRegistry {
  readonly tableName: string;
  private readonly client: DynamoDBClient;
  private readonly leases: LeaseTable;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor(options: {
    client: DynamoDBClient;
    leaseTable: LeaseTable;
    sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  }) {
    this.client = options.client;
    this.leases = options.leaseTable;
    this.tableName = workerTableName(options.leaseTable.tableName);
    this.sleep = options.sleep;
  }

  private deadline() {
    return callDeadline(undefined, CALL_DEADLINE_MS);
  }

  private wrap(e: unknown, operation: string): Error {
    const name = errName(e);
    if (name === 'AccessDeniedException' || name === 'UnrecognizedClientException')
      return new ConsumerAccessDeniedError(`dynamodb:${operation}`, `table ${this.tableName}`, e);
    const a = toAwskitError(e, { service: 'dynamodb', operation, resource: `table "${this.tableName}"` });
    return new LeaseTableError(`worker table ${this.tableName}: ${operation} failed: ${a.message}`, e);
  }

  /** Creates the worker table (on-demand, `session` hash key) if missing and waits until it is ACTIVE. */
  async ensureTable(signal?: AbortSignal): Promise<void> {
    await ensureHashKeyTable({
      client: this.client,
      tableName: this.tableName,
      hashKey: 'session',
      deadline: () => this.deadline(),
      wrap: (e, operation) => this.wrap(e, operation),
      sleep: this.sleep,
      notActive: () => new LeaseTableError(`worker table ${this.tableName} did not become ACTIVE`),
      ...(signal ? { signal } : {}),
    });
  }

  /** Writes a new session's liveness item (heartbeat 0). */
  async register(session: string, workerId: string): Promise<void> {
    try {
      await this.leases.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            session: { S: session },
            workerId: { S: workerId },
            heartbeat: { N: '0' },
            handoffs: { M: {} },
          },
          ConditionExpression: 'attribute_not_exists(#s)',
          ExpressionAttributeNames: { '#s': 'session' },
        }),
        this.deadline(),
      );
    } catch (e) {
      throw this.wrap(e, 'PutItem');
    }
  }

  /**
   * Advances the liveness item from `current` to `current + 1` unless another worker declared it dead. A failed
   * condition is re-read: our own earlier write that landed without an answer (SDK retry) is still a success.
   * The answer carries the hand-off requests for this session's leases.
   */
  async heartbeat(session: string, current: number): Promise<HeartbeatResult> {
    try {
      const r = await this.leases.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { session: { S: session } },
          UpdateExpression: 'SET heartbeat = :next',
          ConditionExpression: 'heartbeat = :cur AND attribute_not_exists(deadBy)',
          ExpressionAttributeValues: { ':next': { N: String(current + 1) }, ':cur': { N: String(current) } },
          ReturnValues: 'ALL_NEW',
        }),
        this.deadline(),
      );
      const s = r.Attributes ? sessionFromItem(r.Attributes) : undefined;
      return { ok: true, heartbeat: current + 1, handoffs: s?.handoffs ?? {} };
    } catch (e) {
      if (!isConditionalFailure(e)) throw this.wrap(e, 'UpdateItem');
      const now = await this.get(session);
      if (now && !now.deadBy && now.heartbeat === current + 1)
        return { ok: true, heartbeat: current + 1, handoffs: now.handoffs };
      return now?.deadBy ? { ok: false, deadBy: now.deadBy } : { ok: false };
    }
  }

  /** One session, read consistently. */
  async get(session: string): Promise<WorkerSession | undefined> {
    try {
      const r = await this.leases.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: { session: { S: session } },
          ConsistentRead: true,
        }),
        this.deadline(),
      );
      return r.Item ? sessionFromItem(r.Item) : undefined;
    } catch (e) {
      throw this.wrap(e, 'GetItem');
    }
  }

  /**
   * Every session (an eventually consistent Scan: half the price; a stale answer only makes a taker see a
   * heartbeat later, and the fencing write that precedes any take is consistent).
   */
  async list(): Promise<WorkerSession[]> {
    const out: WorkerSession[] = [];
    let start: Item | undefined;
    try {
      do {
        const r = await this.leases.send(
          new ScanCommand({ TableName: this.tableName, ExclusiveStartKey: start }),
          this.deadline(),
        );
        for (const it of r.Items ?? []) {
          const s = sessionFromItem(it);
          if (s) out.push(s);
        }
        start = r.LastEvaluatedKey;
      } while (start);
    } catch (e) {
      throw this.wrap(e, 'Scan');
    }
    return out;
  }

  /**
   * Declares a session dead if its heartbeat is still `seen` (the value that stopped advancing). From then on its
   * heartbeats fail, so its worker stops acting on its leases, and they may be taken.
   * @returns true when the session is dead (by this call or an earlier one).
   */
  async fence(session: string, seen: number, by: string): Promise<boolean> {
    try {
      await this.leases.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { session: { S: session } },
          UpdateExpression: 'SET deadBy = :by',
          ConditionExpression: 'heartbeat = :seen OR attribute_exists(deadBy)',
          ExpressionAttributeValues: { ':by': { S: by }, ':seen': { N: String(seen) } },
        }),
        this.deadline(),
      );
      return true;
    } catch (e) {
      if (isConditionalFailure(e)) return false;
      throw this.wrap(e, 'UpdateItem');
    }
  }

  /** Rings a session's door: asks it (on its next heartbeat) to hand `leaseKey` over to `to`. */
  async requestHandoff(session: string, leaseKey: string, to: string): Promise<void> {
    try {
      await this.leases.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { session: { S: session } },
          UpdateExpression: 'SET handoffs.#k = :to',
          ConditionExpression: 'attribute_exists(handoffs) AND attribute_not_exists(deadBy)',
          ExpressionAttributeNames: { '#k': leaseKey },
          ExpressionAttributeValues: { ':to': { S: to } },
        }),
        this.deadline(),
      );
    } catch (e) {
      if (isConditionalFailure(e)) return;
      throw this.wrap(e, 'UpdateItem');
    }
  }

  /** Removes hand-off requests this session has acted on (or whose lease it no longer holds). */
  async clearHandoffs(session: string, leaseKeys: string[]): Promise<void> {
    if (!leaseKeys.length) return;
    const names = Object.fromEntries(leaseKeys.map((k, i) => [`#k${i}`, k]));
    try {
      await this.leases.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { session: { S: session } },
          UpdateExpression: `REMOVE ${leaseKeys.map((_, i) => `handoffs.#k${i}`).join(', ')}`,
          ConditionExpression: 'attribute_exists(handoffs)',
          ExpressionAttributeNames: names,
        }),
        this.deadline(),
      );
    } catch (e) {
      if (isConditionalFailure(e)) return;
      throw this.wrap(e, 'UpdateItem');
    }
  }

  /** Deletes a session's item (clean stop after its leases were released, or cleanup of a dead one). */
  async remove(session: string): Promise<void> {
    try {
      await this.leases.send(
        new DeleteItemCommand({ TableName: this.tableName, Key: { session: { S: session } } }),
        this.deadline(),
      );
    } catch (e) {
      throw this.wrap(e, 'DeleteItem');
    }
  }
}
