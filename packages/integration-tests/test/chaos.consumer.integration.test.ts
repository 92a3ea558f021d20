import { localAwsEndpoint } from '@awskit/local/testing';
import { describe, expect, it } from 'vitest';
import { runConsumerChaos } from '../src/chaos/consumerRun.js';
import { consumerTable } from '../src/chaos/report.js';

// The short, fixed-seed version of `pnpm chaos` (seeds replay with `pnpm chaos --seed N --only consumer-<mode>`).
describe('consumer chaos: 3 worker processes, kills, a split, a merge and faults through the proxy', () => {
  for (const [mode, seed, variant] of [
    ['polling', 1, undefined],
    // Stretched heartbeats (the consumer's default when no lease timing is set): few leases per worker here, so
    // heartbeats are spaced out and the lease lengthened, declared through the roster.
    ['efo', 2, 'stretchHeartbeat'],
    ['polling', 3, 'counter'], // the previous default, still supported (mixed fleets with KCL workers)
  ] as const)
    it(`${mode}${variant === 'counter' ? ' with leaseMode counter' : variant ? ` with ${variant}` : ''} (seed ${seed}): nothing lost, no key reordered, only uncheckpointed batches redelivered, every shard processed`, async () => {
      const r = await runConsumerChaos({
        endpoint: localAwsEndpoint(),
        seed,
        mode,
        durationMs: 18_000,
        drainTimeoutMs: 30_000,
        ...(variant === 'counter' ? { leaseMode: variant } : {}),
        ...(variant === 'stretchHeartbeat' ? { stretchHeartbeat: true } : {}),
      });
      console.log(`${consumerTable([r])}\n${r.figures.evidence.join('\n')}`);
      // The chaos really happened.
      expect(r.kills.SIGKILL + r.kills.SIGTERM).toBeGreaterThan(0);
      expect(r.reshards).toHaveLength(2);
      expect(Object.values(r.faults).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      expect(r.figures.produced).toBeGreaterThan(1_000);
      expect(r.figures.foreign).toBe(0);
      // Stretched: some worker spaced its heartbeats out beyond the set renewIntervalMs (a quarter of the 3 s lease).
      if (variant === 'stretchHeartbeat') expect(Math.max(0, ...r.heartbeatIntervalsMs)).toBeGreaterThan(750);
      else expect(r.heartbeatIntervalsMs).toEqual([]);
      // The goal figures, all at once so a failure shows every one of them.
      expect({
        lost: r.figures.lost,
        reorders: r.figures.reorders,
        redeliveredAfterCheckpoint: r.figures.duplicateCauses.afterCheckpoint,
        redeliveredWhileAnotherWorkerHeldTheBatch: r.figures.duplicateCauses.concurrent,
        unprocessedShards: r.unprocessedShards,
        drained: r.drained,
      }).toEqual({
        lost: 0,
        reorders: 0,
        redeliveredAfterCheckpoint: 0,
        redeliveredWhileAnotherWorkerHeldTheBatch: 0,
        unprocessedShards: [],
        drained: true,
      });
    });
});
