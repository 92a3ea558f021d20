import { MetricsRegistry } from '@awskit/core';
import { createTestStream } from '@awskit/local/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { type KinesisConsumer, LEASE_TABLE_OPERATIONS } from '../src/index.js';
import { CONSUMER_METRICS as M } from '../src/metrics.js';
import { faultyClients } from './faults.js';
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
      c.dynamoFaults.push({
        after: (input, output) => {
          if (
            (input.TableName !== app && input.TableName !== `${app}-awskit-workers`) ||
            !('Key' in input || 'Item' in input || input.ConsistentRead !== undefined)
          )
            return;
          const cap = (output as { ConsumedCapacity?: { CapacityUnits?: number } }).ConsumedCapacity;
          const op =
            'UpdateExpression' in input
              ? 'UpdateItem'
              : 'Item' in input
                ? 'PutItem'
                : 'Key' in input
                  ? 'Get/Delete'
                  : 'Scan';
          sent.set(op, (sent.get(op) ?? 0) + 1);
          if (op === 'Scan' && input.ConsistentRead === false)
            sent.set('eventual Scan', (sent.get('eventual Scan') ?? 0) + 1);
          reported.set(op, (reported.get(op) ?? 0) + (cap?.CapacityUnits ?? 0));
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
