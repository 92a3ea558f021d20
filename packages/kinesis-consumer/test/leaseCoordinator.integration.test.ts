import { noopLogger, noopMetrics } from '@awskit/core';
import { uniqueName } from '@awskit/local/testing';
import { describe, expect, it } from 'vitest';
import { LeaseLostError } from '../src/index.js';
import { type HeldLease, LeaseCoordinator, type LeaseLossReason } from '../src/leaseCoordinator.js';
import { LeaseTable } from '../src/leaseTable.js';
import { newLease } from '../src/shardSync.js';
import { clients } from './helpers.js';

async function freshTable(): Promise<LeaseTable> {
  const { dynamo } = await clients();
  const table = new LeaseTable({
    client: dynamo,
    tableName: uniqueName('leases'),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  });
  await table.ensureTable();
  return table;
}

const shard = (i: number) => `shardId-${String(i).padStart(12, '0')}`;

/** A coordinator driven by hand (no loops) on a fake clock. */
function coordinator(
  table: LeaseTable,
  workerId: string,
  clock: { t: number },
  opts: { handoffTimeoutMs?: number } = {},
) {
  const acquired: string[] = [];
  const lost: [string, LeaseLossReason][] = [];
  const handoffs: string[] = [];
  const c = new LeaseCoordinator({
    table,
    workerId,
    clock: { now: () => clock.t },
    sleep: async () => {},
    leaseDurationMs: 10_000,
    renewIntervalMs: 3_000,
    takeIntervalMs: 1_000,
    maxLeasesForWorker: Number.POSITIVE_INFINITY,
    balance: true,
    logger: noopLogger,
    metrics: noopMetrics,
    random: () => 0.5,
    onAcquired: (h: HeldLease) => acquired.push(h.shardId),
    onLost: (h: HeldLease, r) => lost.push([h.shardId, r]),
    handoffTimeoutMs: opts.handoffTimeoutMs ?? 0,
    onHandoffRequested: (h: HeldLease) => handoffs.push(h.shardId),
  });
  return { c, acquired, lost, handoffs };
}

describe('LeaseTable fencing (real DynamoDB API)', () => {
  it('every write is conditional on leaseCounter: a stale owner can neither renew nor checkpoint', async () => {
    const table = await freshTable();
    await table.createLeaseIfNotExists(newLease(shard(0), 'TRIM_HORIZON', []));
    expect(await table.createLeaseIfNotExists(newLease(shard(0), 'LATEST', []))).toBe(false);
    const [seen] = await table.listLeases();
    const a = await table.takeLease(seen!, 'a');
    expect(a!.leaseCounter).toBe(1);
    // b acts on the same (now stale) scan: fenced out.
    expect(await table.takeLease(seen!, 'b')).toBeUndefined();
    // b steals from a fresh read; a's renew and checkpoint then fail.
    const b = await table.takeLease(a!, 'b');
    expect(b!.leaseOwner).toBe('b');
    // Taking the unowned lease was no switch; a → b is one (as in the KCL).
    expect(b!.ownerSwitchesSinceCheckpoint).toBe(1);
    expect(await table.renewLease(shard(0), 'a', a!.leaseCounter)).toBeUndefined();
    await expect(
      table.checkpoint(shard(0), 'a', a!.leaseCounter, { sequenceNumber: '5', subSequenceNumber: 0 }),
    ).rejects.toBeInstanceOf(LeaseLostError);
    expect(await table.renewLease(shard(0), 'b', b!.leaseCounter)).toBe(b!.leaseCounter + 1);
  });

  it('a renewal whose first attempt landed but whose retry failed the condition keeps the lease (KCL #247)', async () => {
    const table = await freshTable();
    await table.createLeaseIfNotExists(newLease(shard(0), 'TRIM_HORIZON', []));
    const [seen] = await table.listLeases();
    const a = await table.takeLease(seen!, 'a');
    const n = a!.leaseCounter;
    expect(await table.renewLease(shard(0), 'a', n)).toBe(n + 1);
    // Same call again = what an SDK retry of a write that succeeded looks like.
    expect(await table.renewLease(shard(0), 'a', n)).toBe(n + 1);
  });
});

describe('LeaseCoordinator', () => {
  it('declares a lease expired only after its counter stood still for the lease duration on its own clock', async () => {
    const table = await freshTable();
    await table.createLeaseIfNotExists(newLease(shard(0), 'TRIM_HORIZON', []));
    // Clocks far apart on purpose: expiry never compares clocks across workers.
    const clockA = { t: 1_000_000 };
    const clockB = { t: 5 };
    const a = coordinator(table, 'a', clockA);
    const b = coordinator(table, 'b', clockB);
    await a.c.takeOnce();
    expect(a.acquired).toEqual([shard(0)]);

    await b.c.takeOnce(); // first sight of a's lease
    clockB.t += 9_000;
    await b.c.takeOnce();
    expect(b.acquired).toEqual([]);
    // a renews (its renewal interval later): b's window restarts.
    clockA.t += 3_000;
    await a.c.renewAll();
    await b.c.takeOnce();
    clockB.t += 9_000;
    await b.c.takeOnce();
    expect(b.acquired).toEqual([]);
    // a stops renewing (dead): 10 s later on b's clock, b takes it.
    clockB.t += 1_500;
    await b.c.takeOnce();
    expect(b.acquired).toEqual([shard(0)]);
    // a's next renewal discovers the loss.
    clockA.t += 3_000;
    await a.c.renewAll();
    expect(a.lost).toEqual([[shard(0), 'taken']]);
  });

  it('a worker whose renewals failed for a lease duration stops processing before anyone can take over', async () => {
    const table = await freshTable();
    await table.createLeaseIfNotExists(newLease(shard(0), 'TRIM_HORIZON', []));
    const clock = { t: 0 };
    const a = coordinator(table, 'a', clock);
    await a.c.takeOnce();
    clock.t += 10_001;
    await a.c.renewAll();
    expect(a.lost).toEqual([[shard(0), 'expired']]);
  });

  it('a joining worker takes its whole share of 8 leases in a single take cycle', async () => {
    const table = await freshTable();
    for (let i = 0; i < 8; i++) await table.createLeaseIfNotExists(newLease(shard(i), 'TRIM_HORIZON', []));
    const clock = { t: 0 };
    const a = coordinator(table, 'a', clock);
    const b = coordinator(table, 'b', clock);
    await a.c.takeOnce();
    expect(a.acquired).toHaveLength(8);
    await b.c.takeOnce();
    expect(b.acquired).toHaveLength(4);
    clock.t += 3_000; // a's next renewal
    await a.c.renewAll();
    expect(a.lost).toHaveLength(4);
    expect(new Set([...a.c.held.keys(), ...b.c.held.keys()]).size).toBe(8);
  });

  it('release() makes a lease takeable by others at once', async () => {
    const table = await freshTable();
    await table.createLeaseIfNotExists(newLease(shard(0), 'TRIM_HORIZON', []));
    const clock = { t: 0 };
    const a = coordinator(table, 'a', clock);
    const b = coordinator(table, 'b', clock);
    await a.c.takeOnce();
    await b.c.takeOnce();
    await a.c.release(a.c.held.get(shard(0))!);
    await b.c.takeOnce();
    expect(b.acquired).toEqual([shard(0)]);
  });
});

describe('LeaseCoordinator.avoid', () => {
  it('does not retake a shard it gave up after a failure until the cool-down passes', async () => {
    const table = await freshTable();
    await table.createLeaseIfNotExists(newLease(shard(0), 'TRIM_HORIZON', []));
    const clock = { t: 0 };
    const a = coordinator(table, 'a', clock);
    a.c.avoid(shard(0), 5_000);
    await a.c.takeOnce();
    expect(a.acquired).toEqual([]);
    clock.t += 5_001;
    await a.c.takeOnce();
    expect(a.acquired).toEqual([shard(0)]);
  });
});

describe('LeaseCoordinator renewals', () => {
  it('skips a renewal right after another write moved the counter, and renews otherwise', async () => {
    const table = await freshTable();
    await table.createLeaseIfNotExists(newLease(shard(0), 'TRIM_HORIZON', []));
    const clock = { t: 0 };
    const a = coordinator(table, 'a', clock); // lease 10 s, renew 3 s
    await a.c.takeOnce();
    const writes = table.calls.writes;
    clock.t += 1_000; // 1 s after the take + 3 s to the next renewal = 4 s ≤ 5 s: skip
    await a.c.renewAll();
    expect(table.calls.writes).toBe(writes);
    clock.t += 2_500;
    await a.c.renewAll();
    expect(table.calls.writes).toBe(writes + 1);
    expect((await table.getLease(shard(0)))!.leaseCounter).toBe(2);
  });
});

describe('LeaseCoordinator graceful hand-off', () => {
  it('asks instead of stealing; the owner is told on its next renewal; the asker takes the lease once released', async () => {
    const table = await freshTable();
    for (let i = 0; i < 4; i++) await table.createLeaseIfNotExists(newLease(shard(i), 'TRIM_HORIZON', []));
    const clock = { t: 0 };
    const a = coordinator(table, 'a', clock, { handoffTimeoutMs: 10_000 });
    const b = coordinator(table, 'b', clock, { handoffTimeoutMs: 10_000 });
    await a.c.takeOnce();
    expect(a.acquired).toHaveLength(4);
    await b.c.takeOnce();
    expect(b.acquired).toEqual([]); // asked, did not steal
    const asked = (await table.listLeases()).filter((l) => l.handoffTo === 'b').map((l) => l.leaseKey);
    expect(asked).toHaveLength(2);
    // b does not ask for more while its requests are pending.
    await b.c.takeOnce();
    expect((await table.listLeases()).filter((l) => l.handoffTo === 'b')).toHaveLength(2);
    clock.t += 3_000;
    await a.c.renewAll();
    expect(a.handoffs.sort()).toEqual(asked.sort());
    expect(a.lost).toEqual([]);
    for (const k of asked) await a.c.release(a.c.held.get(k)!);
    await b.c.takeOnce();
    expect(b.acquired.sort()).toEqual(asked.sort());
    expect((await table.listLeases()).every((l) => l.handoffTo === undefined)).toBe(true);
  });

  it('steals after all when the owner ignores the request for the hand-off timeout', async () => {
    const table = await freshTable();
    for (let i = 0; i < 2; i++) await table.createLeaseIfNotExists(newLease(shard(i), 'TRIM_HORIZON', []));
    const clock = { t: 0 };
    const a = coordinator(table, 'a', clock, { handoffTimeoutMs: 0 }); // an owner that never hands over
    const b = coordinator(table, 'b', clock, { handoffTimeoutMs: 5_000 });
    await a.c.takeOnce();
    await b.c.takeOnce();
    expect(b.acquired).toEqual([]);
    clock.t += 5_001;
    await b.c.takeOnce();
    expect(b.acquired).toHaveLength(1);
    clock.t += 3_000;
    await a.c.renewAll();
    expect(a.lost).toHaveLength(1);
  });
});
