import { MetricsRegistry } from '@awskit/core';
import { createTestStream } from '@awskit/local/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { type KinesisConsumer, LEASE_TABLE_OPERATIONS } from '../src/index.js';
import { CONSUMER_METRICS as M } from '../src/metrics.js';
import { delay, faultyClients } from './faults.js';
import { appName, Collector, newConsumer, put, records, waitFor } from './helpers.js';

const running: KinesisConsumer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.stop()));
});

describe('lease-table cost', () => {
  it.each(['counter', 'worker-liveness'] as const)(
    '%s: counts every lease-table (and worker-table) call by operation with the capacity DynamoDB reports, in leaseTableCost() and metrics',
    async (leaseMode) => {
      const c = await faultyClients();
      const stream = await createTestStream(c.kinesis, { shardCount: 2 });
      const app = appName();
      // What really went over the wire to this lease table, per command (the SDK middleware sees every call).
      const sent = new Map<string, number>();
      const reported = new Map<string, number>();
      let inFlight = 0;
      const ours = (input: Record<string, unknown>) =>
        (input.TableName === app || input.TableName === `${app}-awskit-workers`) &&
        ('Key' in input || 'Item' in input || input.ConsistentRead !== undefined);
      const opOf = (input: Record<string, unknown>) =>
        'UpdateExpression' in input
          ? 'UpdateItem'
          : 'Item' in input
            ? 'PutItem'
            : 'Key' in input
              ? 'Get/Delete'
              : 'Scan';
      const add = (m: Map<string, number>, k: string, n: number) => m.set(k, (m.get(k) ?? 0) + n);
      c.dynamoFaults.push({
        // Counted when sent, so a call that fails (a write whose condition failed: a lost race is legal) counts too.
        before: async (input) => {
          if (!ours(input)) return;
          add(sent, opOf(input), 1);
          inFlight++;
          if (opOf(input) === 'Scan' && input.ConsistentRead === false) add(sent, 'eventual Scan', 1);
          // Slow roster writes (the lease-set announcements a release sends): stop() must still wait for them.
          if (String(input.UpdateExpression).startsWith('ADD v')) await delay(300);
        },
        after: (input, output) => {
          if (!ours(input)) return;
          inFlight--;
          const cap = (output as { ConsumedCapacity?: { CapacityUnits?: number } }).ConsumedCapacity;
          add(reported, opOf(input), cap?.CapacityUnits ?? 0);
        },
        // DynamoDB charges a write whose condition failed (1 WCU for these small items) but reports no capacity.
        failed: (input, e) => {
          if (ours(input)) inFlight--;
          if (ours(input) && (e as Error).name === 'ConditionalCheckFailedException')
            add(reported, opOf(input), 1);
        },
      });
      const metrics = new MetricsRegistry();
      const col = new Collector();
      const w = newConsumer(c, {
        streamName: stream,
        applicationName: app,
        workerId: 'w',
        leaseMode,
        initialPosition: 'TRIM_HORIZON',
        checkpointIntervalMs: 0,
        metrics,
        processor: (rs) => col.add(rs),
      });
      running.push(w);
      await w.start();
      await put(c.kinesis, stream, records(10, 2));
      await waitFor('processed', () => col.distinct().size === 10);
      await w.stop();
      // stop() waits for every lease-table call it started: none is left in flight (one was, in a CI run).
      expect(inFlight).toBe(0);
      const cost = w.leaseTableCost();
      // Scans (take cycles), PutItem (lease creation), UpdateItem (take, renew, checkpoint, release) all happened.
      expect(cost.calls.Scan).toBeGreaterThan(0);
      expect(cost.calls.PutItem).toBe(2);
      expect(cost.calls.UpdateItem).toBeGreaterThanOrEqual(2 + 2 + 2); // 2 takes, ≥2 checkpoints, 2 releases
      // The counts are the calls that were sent, and write units the ones DynamoDB reported (every write ≥ 1 WCU).
      expect(cost.calls.UpdateItem).toBe(sent.get('UpdateItem'));
      expect(cost.calls.PutItem).toBe(sent.get('PutItem'));
      expect(cost.calls.Scan).toBe(sent.get('Scan'));
      expect(cost.units.UpdateItem).toBe(reported.get('UpdateItem'));
      // A Scan of 2 small leases (< 4 KB): 1 RCU strongly consistent (take cycles), 0.5 eventually consistent (the
      // shard sync at start, whose writes are conditional).
      const eventual = sent.get('eventual Scan') ?? 0;
      expect(eventual).toBeGreaterThan(0);
      expect(cost.units.Scan).toBe(cost.calls.Scan - eventual + 0.5 * eventual);
      expect(cost.units.UpdateItem).toBeGreaterThanOrEqual(cost.calls.UpdateItem);
      expect(cost.readUnits).toBe(cost.units.Scan + cost.units.GetItem + cost.units.Query);
      expect(cost.writeUnits).toBe(cost.units.UpdateItem + cost.units.PutItem + cost.units.DeleteItem);
      for (const operation of LEASE_TABLE_OPERATIONS) {
        expect(metrics.value(M.leaseTableCalls, { worker: 'w', operation })).toBe(cost.calls[operation]);
        expect(metrics.value(M.leaseTableCapacityUnits, { worker: 'w', operation })).toBeCloseTo(
          cost.units[operation],
        );
      }
    },
  );
});
