import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { toAwskitError } from '@awskit/core';
import { CALL_DEADLINE_MS, callDeadline } from './deadline.js';
import { ensureHashKeyTable, errName } from './dynamoTables.js';
import { ConsumerAccessDeniedError, LeaseTableError } from './errors.js';
import { isConditionalFailure, type LeaseTable } from './leaseTable.js';

type Item = Record<string, AttributeValue>;

/**
 * One worker process's liveness entry (worker-liveness lease mode). Its key is the session: the worker id plus a
 * random per-process part, so a restart under the same worker id is a new session and the leases of the old one
 * expire like any dead worker's.
 */
export interface WorkerSession {
  /** `workerId#random`: the entry's key, stored on every lease this session takes (`awskitSession`). */
  session: string;
  workerId: string;
  /** Advanced by every heartbeat (fencing token of the liveness entry). */
  heartbeat: number;
  /**
   * The lease duration this session gives itself (its `leaseDurationMs`): it stops acting on its leases when no
   * heartbeat was confirmed for that long, so others judge it expired by the same duration, whatever their own
   * setting. Absent in entries of versions before it was written: judged by the observer's own duration.
   */
  leaseDurationMs?: number;
  /** Set by the worker that declared this session dead (it stops advancing; its leases are free). */
  deadBy?: string;
  /** Hand-off requests for this session's leases: lease key → the worker that asked. */
  handoffs: Record<string, string>;
  /** Leases of this session another worker has already taken (a forced steal): lease key → the taker and the lease counter its take wrote. */
  taken: Record<string, TakenBy>;
}

/** Who took a lease by a forced steal, and the lease counter its take wrote. */
export interface TakenBy {
  by: string;
  counter: number;
}

/** The whole fleet as one read (or one write's answer) showed it. */
export interface RosterView {
  sessions: WorkerSession[];
  /** Advanced by any worker that created, ended or released leases: others scan the lease table when it moves. */
  leaseSetVersion: number;
}

/** Outcome of a heartbeat. On success it carries the fleet's roster, returned by the write itself (no read). */
export type HeartbeatResult =
  | ({ ok: true; heartbeat: number; view: RosterView } & Pick<WorkerSession, 'handoffs' | 'taken'>)
  | { ok: false; deadBy?: string };

/** The worker table's name for a lease table. */
export function workerTableName(leaseTableName: string): string {
  return `${leaseTableName}-awskit-workers`;
}

/** The key of the one roster item in the worker table. Sessions are `workerId#random`, never this. */
export const ROSTER_KEY = '#roster';

const EMPTY_VIEW: RosterView = { sessions: [], leaseSetVersion: 0 };

/** The worker id part of a session key (`workerId#random`). */
export function workerIdOf(session: string): string {
  const i = session.lastIndexOf('#');
  return i > 0 ? session.slice(0, i) : session;
}

function sessionFromEntry(session: string, entry: AttributeValue | undefined): WorkerSession | undefined {
  const m = entry?.M;
  if (!m) return undefined;
  const handoffs: Record<string, string> = {};
  const taken: Record<string, TakenBy> = {};
  for (const [k, v] of Object.entries(m.o?.M ?? {}))
    if (v.S) handoffs[k] = v.S;
    else if (v.M?.t?.S) taken[k] = { by: v.M.t.S, counter: Number(v.M.c?.N ?? 0) };
  const s: WorkerSession = {
    session,
    workerId: workerIdOf(session),
    heartbeat: Number(m.h?.N ?? 0),
    handoffs,
    taken,
  };
  if (m.d?.S) s.deadBy = m.d.S;
  const l = Number(m.l?.N);
  if (l > 0) s.leaseDurationMs = l;
  return s;
}

function viewFromItem(item: Item | undefined): RosterView {
  if (!item) return EMPTY_VIEW;
  const sessions: WorkerSession[] = [];
  for (const [k, v] of Object.entries(item.s?.M ?? {})) {
    const s = sessionFromEntry(k, v);
    if (s) sessions.push(s);
  }
  return { sessions, leaseSetVersion: Number(item.v?.N ?? 0) };
}

/**
 * The worker table of the worker-liveness lease mode. It holds one item, the roster: a map of every worker
 * process's liveness entry (`h` heartbeat, `l` its lease duration, `d` declared dead by, `o` hand-off requests),
 * plus a lease-set version.
 * Each worker advances its own entry every renew interval with an `UpdateItem … ReturnValues: ALL_NEW`: the answer is
 * the whole fleet's roster, and DynamoDB charges no read for it. So watching the fleet costs no reads at all, where a
 * per-worker item would need every worker to read every other one (a Scan per worker per second). The price: a
 * heartbeat's write units follow the roster's size (1 WCU per KB; ~60 bytes per worker, so one unit up to ~15
 * workers), and all heartbeats hit one item (DynamoDB allows 1 000 WCU/s per item: hundreds of workers).
 *
 * It is a table of its own (like the KCL 3.x `<app>-WorkerMetricStats` table), not a row of the lease table,
 * because the KCL 2.x reads every row of the lease table as a lease (`DynamoDBLeaseSerializer` has no row-type
 * filter). Calls go through the lease table's counting `send`, so `leaseTableCost()` covers both tables.
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

  private deadline(ms = CALL_DEADLINE_MS) {
    return callDeadline(undefined, ms);
  }

  private wrap(e: unknown, operation: string): Error {
    const name = errName(e);
    if (name === 'AccessDeniedException' || name === 'UnrecognizedClientException')
      return new ConsumerAccessDeniedError(`dynamodb:${operation}`, `table ${this.tableName}`, e);
    const a = toAwskitError(e, { service: 'dynamodb', operation, resource: `table "${this.tableName}"` });
    return new LeaseTableError(`worker table ${this.tableName}: ${operation} failed: ${a.message}`, e);
  }

  private key(): Item {
    return { session: { S: ROSTER_KEY } };
  }

  /** One UpdateItem on the roster, answered with the roster after it (ALL_NEW: no read charged). */
  private async update(
    input: {
      UpdateExpression: string;
      ConditionExpression?: string;
      ExpressionAttributeNames?: Record<string, string>;
      ExpressionAttributeValues?: Record<string, AttributeValue>;
    },
    returnView = true,
    deadlineMs = CALL_DEADLINE_MS,
  ): Promise<RosterView> {
    const r = await this.leases.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: this.key(),
        ...input,
        ReturnValues: returnView ? 'ALL_NEW' : 'NONE',
      }),
      this.deadline(deadlineMs),
    );
    return returnView ? viewFromItem(r.Attributes) : EMPTY_VIEW;
  }

  /**
   * Creates the worker table (on-demand, `session` hash key) if missing, waits until it is ACTIVE and makes sure the
   * roster item exists (a no-op write when it does).
   */
  async ensureTable(signal?: AbortSignal): Promise<void> {
    // Once per registry (the consumer starts it early, the coordinator's init asks again); a failure is retried.
    this.ensured ??= this.createTable(signal).catch((e: unknown) => {
      this.ensured = undefined;
      throw e;
    });
    await this.ensured;
  }

  private ensured?: Promise<void>;

  private async createTable(signal?: AbortSignal): Promise<void> {
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
    await this.ensureRoster();
  }

  private async ensureRoster(): Promise<void> {
    try {
      await this.update(
        {
          UpdateExpression: 'SET s = if_not_exists(s, :empty), v = if_not_exists(v, :zero)',
          ExpressionAttributeValues: { ':empty': { M: {} }, ':zero': { N: '0' } },
        },
        false,
      );
    } catch (e) {
      throw this.wrap(e, 'UpdateItem');
    }
  }

  /**
   * Adds a new session's liveness entry (heartbeat 0, the lease duration it gives itself). @returns the roster with
   * it.
   */
  async register(session: string, leaseDurationMs: number): Promise<RosterView> {
    const entry = { h: { N: '0' }, l: { N: String(leaseDurationMs) }, o: { M: {} } };
    const write = () =>
      this.update({
        UpdateExpression: 'SET s.#s = :entry',
        ConditionExpression: 'attribute_exists(s) AND attribute_not_exists(s.#s)',
        ExpressionAttributeNames: { '#s': session },
        ExpressionAttributeValues: { ':entry': { M: entry } },
      });
    try {
      return await write();
    } catch (e) {
      if (!isConditionalFailure(e)) throw this.wrap(e, 'UpdateItem');
    }
    // The roster item is gone (deleted by hand): put it back once.
    await this.ensureRoster();
    try {
      return await write();
    } catch (e) {
      throw this.wrap(e, 'UpdateItem');
    }
  }

  /**
   * Advances the liveness entry from `current` to `current + 1` unless another worker declared it dead. A failed
   * condition is re-read: our own earlier write that landed without an answer (SDK retry) is still a success.
   * The answer carries the whole roster (every peer's heartbeat, the hand-off requests for this session's leases).
   * Each call (the write, the re-read) is aborted after `deadlineMs`. With `leaseDurationMs`, the entry's declared
   * lease duration is set to it in the same write.
   */
  async heartbeat(
    session: string,
    current: number,
    deadlineMs = CALL_DEADLINE_MS,
    leaseDurationMs?: number,
  ): Promise<HeartbeatResult> {
    const values: Record<string, AttributeValue> = {
      ':next': { N: String(current + 1) },
      ':cur': { N: String(current) },
    };
    // A new lease duration for this session (its heartbeat interval changed) travels with the heartbeat.
    if (leaseDurationMs !== undefined) values[':l'] = { N: String(leaseDurationMs) };
    try {
      const view = await this.update(
        {
          UpdateExpression:
            leaseDurationMs === undefined ? 'SET s.#s.h = :next' : 'SET s.#s.h = :next, s.#s.l = :l',
          ConditionExpression: 's.#s.h = :cur AND attribute_not_exists(s.#s.d)',
          ExpressionAttributeNames: { '#s': session },
          ExpressionAttributeValues: values,
        },
        true,
        deadlineMs,
      );
      const own = view.sessions.find((s) => s.session === session);
      return {
        ok: true,
        heartbeat: current + 1,
        handoffs: own?.handoffs ?? {},
        taken: own?.taken ?? {},
        view,
      };
    } catch (e) {
      if (!isConditionalFailure(e)) throw this.wrap(e, 'UpdateItem');
      const view = await this.view(true, deadlineMs);
      const now = view.sessions.find((s) => s.session === session);
      if (now && !now.deadBy && now.heartbeat === current + 1)
        return { ok: true, heartbeat: current + 1, handoffs: now.handoffs, taken: now.taken, view };
      return now?.deadBy ? { ok: false, deadBy: now.deadBy } : { ok: false };
    }
  }

  /**
   * The roster as one GetItem (eventually consistent unless `consistent`: half the price; a stale answer only makes
   * a taker see a heartbeat later, and the fencing write that precedes any take is conditional). A worker table
   * nobody created reads as an empty roster.
   */
  async view(consistent = false, deadlineMs = CALL_DEADLINE_MS): Promise<RosterView> {
    try {
      const r = await this.leases.send(
        new GetItemCommand({ TableName: this.tableName, Key: this.key(), ConsistentRead: consistent }),
        this.deadline(deadlineMs),
      );
      return viewFromItem(r.Item);
    } catch (e) {
      if (errName(e) === 'ResourceNotFoundException') return EMPTY_VIEW;
      throw this.wrap(e, 'GetItem');
    }
  }

  /** One session, read consistently. */
  async get(session: string): Promise<WorkerSession | undefined> {
    return (await this.view(true)).sessions.find((s) => s.session === session);
  }

  /** Every session (see {@link view}). */
  async list(): Promise<WorkerSession[]> {
    return (await this.view()).sessions;
  }

  /**
   * Declares a session dead if its heartbeat is still `seen` (the value that stopped advancing). From then on its
   * heartbeats fail, so its worker stops acting on its leases, and they may be taken.
   * @returns true when the session is dead (by this call or an earlier one).
   */
  async fence(session: string, seen: number, by: string): Promise<boolean> {
    try {
      await this.update(
        {
          UpdateExpression: 'SET s.#s.d = :by',
          ConditionExpression: 's.#s.h = :seen OR attribute_exists(s.#s.d)',
          ExpressionAttributeNames: { '#s': session },
          ExpressionAttributeValues: { ':by': { S: by }, ':seen': { N: String(seen) } },
        },
        false,
      );
      return true;
    } catch (e) {
      if (isConditionalFailure(e)) return false;
      throw this.wrap(e, 'UpdateItem');
    }
  }

  /** Asks a session (on its next heartbeat) to hand `leaseKey` over to worker `to` (a graceful hand-off request). */
  async requestHandoff(session: string, leaseKey: string, to: string): Promise<void> {
    await this.ringDoor(session, leaseKey, { S: to });
  }

  /**
   * Tells a session that worker `by` already took `leaseKey` from it (a forced steal whose take wrote `counter`), so
   * its next heartbeat marks the lease lost, as taken, unless its own last write of the lease is newer.
   */
  async noticeTaken(session: string, leaseKey: string, by: string, counter: number): Promise<void> {
    await this.ringDoor(session, leaseKey, { M: { t: { S: by }, c: { N: String(counter) } } });
  }

  /** Writes an entry at a live session's door (`s.<session>.o.<leaseKey>`); a dead or gone session is left alone. */
  private async ringDoor(session: string, leaseKey: string, entry: AttributeValue): Promise<void> {
    try {
      await this.update(
        {
          UpdateExpression: 'SET s.#s.o.#k = :entry',
          ConditionExpression: 'attribute_exists(s.#s.o) AND attribute_not_exists(s.#s.d)',
          ExpressionAttributeNames: { '#s': session, '#k': leaseKey },
          ExpressionAttributeValues: { ':entry': entry },
        },
        false,
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
      await this.update(
        {
          UpdateExpression: `REMOVE ${leaseKeys.map((_, i) => `s.#s.o.#k${i}`).join(', ')}`,
          ConditionExpression: 'attribute_exists(s.#s.o)',
          ExpressionAttributeNames: { '#s': session, ...names },
        },
        false,
      );
    } catch (e) {
      if (isConditionalFailure(e)) return;
      throw this.wrap(e, 'UpdateItem');
    }
  }

  /**
   * Tells the fleet the lease set changed (leases created, a shard ended, a lease released): every worker sees the
   * new version on its next heartbeat and scans the lease table then, instead of at its periodic scan.
   */
  async announceLeaseSetChange(): Promise<void> {
    try {
      await this.update(
        { UpdateExpression: 'ADD v :one', ExpressionAttributeValues: { ':one': { N: '1' } } },
        false,
      );
    } catch (e) {
      throw this.wrap(e, 'UpdateItem');
    }
  }

  /** Removes a session's entry (clean stop after its leases were released, or cleanup of a dead one). */
  async remove(session: string): Promise<void> {
    try {
      await this.update(
        {
          UpdateExpression: 'REMOVE s.#s',
          ConditionExpression: 'attribute_exists(s)',
          ExpressionAttributeNames: { '#s': session },
        },
        false,
      );
    } catch (e) {
      if (isConditionalFailure(e)) return;
      throw this.wrap(e, 'UpdateItem');
    }
  }
}
