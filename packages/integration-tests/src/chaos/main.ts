/**
 * `pnpm chaos`: the long chaos runs (minutes, random seed unless `--seed N`), printing the figures of each run.
 * Exits 1 when a run lost a record, reordered a key, redelivered a checkpointed batch, left a shard unprocessed,
 * or a rotation crash point left no working key.
 *
 *   pnpm chaos [--seed N] [--only consumer-polling,consumer-efo,producer,rotation]
 *              [--consumer-seconds 90] [--producer-seconds 60] [--no-proxy]
 *              [--keep-out-of-range]   (workers with dropRecordsOutsideHashRange: false)
 *              [--lease-ms 3000]       (workers' leaseDurationMs)
 *              [--renew-ms 750]        (workers' renewIntervalMs; default a quarter of the lease)
 *              [--lease-mode counter|worker-liveness]  (workers' leaseMode)
 *              [--stretch-heartbeat]   (workers' stretchHeartbeat: heartbeats spaced out at few leases per worker)
 *
 * Uses AWSKIT_TEST_ENDPOINT when set, otherwise starts a local AWS of its own.
 */
import { parseArgs } from 'node:util';
import { startLocalAws } from '@awskit/local';
import { type ConsumerRunResult, runConsumerChaos } from './consumerRun.js';
import { noProxy, startChaosProxy } from './faults.js';
import { type ProducerRunResult, runProducerChaos } from './producerRun.js';
import { consumerTable, formatCounts, markdownTable } from './report.js';
import { randomSeed } from './rng.js';
import { type RotationRunResult, runRotationChaos } from './rotationRun.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    only: { type: 'string' },
    'consumer-seconds': { type: 'string', default: '90' },
    'producer-seconds': { type: 'string', default: '60' },
    'no-proxy': { type: 'boolean', default: false },
    'keep-out-of-range': { type: 'boolean', default: false },
    'lease-ms': { type: 'string' },
    'renew-ms': { type: 'string' },
    'lease-mode': { type: 'string' },
    'stretch-heartbeat': { type: 'boolean', default: false },
  },
});
const seed = values.seed !== undefined ? Number(values.seed) >>> 0 : randomSeed();
const only = new Set(
  (values.only ?? 'consumer-polling,consumer-efo,producer,rotation').split(',').map((s) => s.trim()),
);
const startProxy = values['no-proxy'] ? noProxy : startChaosProxy;
const log = (line: string) => process.stderr.write(`[chaos] ${line}\n`);

console.log(
  `chaos seed ${seed} (replay: pnpm chaos --seed ${seed}${values.only ? ` --only ${values.only}` : ''})`,
);
const startedAt = new Date();
const started = Date.now();
let aws: Awaited<ReturnType<typeof startLocalAws>> | undefined;
let endpoint = process.env.AWSKIT_TEST_ENDPOINT;
if (!endpoint) {
  aws = await startLocalAws({ port: 0, latencyMs: 20 });
  endpoint = aws.endpoint;
}
const consumers: ConsumerRunResult[] = [];
let producer: ProducerRunResult | undefined;
let rotation: RotationRunResult | undefined;
try {
  for (const mode of ['polling', 'efo'] as const) {
    if (!only.has(`consumer-${mode}`)) continue;
    const r = await runConsumerChaos({
      endpoint,
      seed,
      mode,
      durationMs: Number(values['consumer-seconds']) * 1000,
      drainTimeoutMs: 120_000,
      ...(values['keep-out-of-range'] ? { dropRecordsOutsideHashRange: false } : {}),
      ...(values['lease-ms'] ? { leaseDurationMs: Number(values['lease-ms']) } : {}),
      ...(values['renew-ms'] ? { renewIntervalMs: Number(values['renew-ms']) } : {}),
      ...(values['lease-mode'] ? { leaseMode: values['lease-mode'] as 'counter' | 'worker-liveness' } : {}),
      ...(values['stretch-heartbeat'] ? { stretchHeartbeat: true } : {}),
      startProxy,
      log,
    });
    consumers.push(r);
    for (const e of r.figures.evidence) log(`evidence (${mode}): ${e}`);
    for (const e of r.unprocessedShards) log(`unprocessed (${mode}): ${e}`);
    log(`consumer ${mode} logs: ${r.outDir}`);
  }
  if (only.has('producer'))
    producer = await runProducerChaos({
      endpoint,
      seed,
      durationMs: Number(values['producer-seconds']) * 1000,
      startProxy,
      log,
    });
  if (only.has('rotation'))
    rotation = await runRotationChaos({ seed, variants: ['deactivate', 'delete'], log });
} finally {
  await aws?.stop();
}

const out: string[] = [];
out.push(
  `Chaos run of ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC, seed ${seed}, ${((Date.now() - started) / 60_000).toFixed(1)} min in all`,
);
if (consumers.length) out.push('', consumerTable(consumers));
if (producer) {
  const p = producer;
  out.push(
    '',
    markdownTable(
      ['figure', 'producer'],
      [
        ['seed', p.seed],
        ['duration', `${(p.durationMs / 1000).toFixed(1)} s`],
        ['records produced (acknowledged)', p.produced],
        ['found in the stream at their PutResult position', p.inStream - p.wrongAcks],
        ['**lost**', `**${p.lost}**`],
        ['duplicated (extra copies in the stream)', p.duplicated],
        ['**per-key reorders**', `**${p.reorders}**`],
        ['puts that failed', `${p.failed}${p.failed ? ` (${formatCounts(p.failedByCode)})` : ''}`],
        ['retries', p.retries],
        ['faults injected', `${formatCounts(p.faults)} (endpoint gone for ${p.outageMs / 1000} s)`],
        ['result', p.passed ? 'pass' : '**FAIL**'],
      ],
    ),
  );
  for (const e of p.evidence) log(`evidence (producer): ${e}`);
}
if (rotation) {
  const r = rotation;
  const rows = Object.keys(r.steps).map((variant) => {
    const cs = r.crashes.filter((c) => c.variant === variant);
    return [
      variant === 'delete' ? 'rotate-key --delete-old' : 'rotate-key',
      `${cs.length} (every boundary of ${r.steps[variant]!.length} steps)`,
      cs.filter((c) => c.killed).length,
      `${cs.filter((c) => c.action === 'resume').length} / ${cs.filter((c) => c.action === 'rollback').length}${
        cs.some((c) => c.rollbackRefused)
          ? ` (${cs.filter((c) => c.rollbackRefused).length} --rollback refused: old key already deleted; then --resume)`
          : ''
      }`,
      `${cs.filter((c) => c.working).length} / ${cs.length}`,
      `${cs.filter((c) => c.workingAfterCrash).length} / ${cs.length}`,
      cs.filter((c) => c.oldKey === 'deleted').length,
      cs.reduce((a, c) => a + c.orphanKeys, 0),
      cs
        .filter((c) => c.backupLeft)
        .map((c) => `before ${c.killedBefore} (#${c.boundary})`)
        .join(', ') || 'none',
      cs.some((c) => c.problems.length) ? '**FAIL**' : 'pass',
    ];
  });
  out.push(
    '',
    `Key rotation, seed ${r.seed}, ${(r.durationMs / 1000).toFixed(1)} s:`,
    '',
    markdownTable(
      [
        'variant',
        'crash points',
        'SIGKILLs',
        '--resume / --rollback',
        'working key after recovery',
        'working key right after the crash',
        'old key deleted',
        'orphan keys',
        'backup file left behind',
        'result',
      ],
      rows,
    ),
  );
  for (const p of r.problems) log(`rotation problem: ${p}`);
}
console.log(out.join('\n'));
const failed =
  consumers.some((c) => !c.passed) ||
  (producer && !producer.passed) ||
  (rotation && rotation.problems.length > 0);
process.exitCode = failed ? 1 : 0;
