/**
 * Counting for the chaos runs: reads the workers' append-only logs, compares them with what the producer got an
 * acknowledgement for, and prints the figures (lost, duplicated and why, per-key reorders, faults, kills, reshards).
 */

import { createHash } from 'node:crypto';
import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ConsumerRunResult } from './consumerRun.js';

/** One record handed to a processor. */
export interface Delivery {
  /** Wall-clock µs when the batch was handed over. */
  t: number;
  worker: string;
  batch: number;
  shard: string;
  sequenceNumber: string;
  subSequenceNumber: number;
  key: string;
  seq: number;
  runId: string;
  /** Order inside its log file (tie-break within one batch). */
  line: number;
}

/** Where the producer was told a record landed. */
export interface Ack {
  shardId: string;
  sequenceNumber: string;
  subSequenceNumber: number;
}

/** `worker/batch` → checkpoint time (µs). */
type Checkpoints = Map<string, number>;

/** Incrementally reads every `*.tsv` worker log of a directory. */
export class DeliveryLog {
  readonly deliveries: Delivery[] = [];
  readonly checkpoints: Checkpoints = new Map();
  readonly checkpointFailures: string[] = [];
  readonly events: { t: number; worker: string; name: string; detail: string }[] = [];
  /** Distinct `key:seq` of this run seen so far. */
  readonly consumed = new Set<string>();
  private readonly offsets = new Map<string, { offset: number; rest: string; lines: number }>();

  constructor(
    private readonly dir: string,
    private readonly runId: string,
  ) {}

  /** Reads what was appended since the last call. */
  poll(): void {
    for (const name of readdirSync(this.dir)) {
      if (!name.endsWith('.tsv')) continue;
      const file = join(this.dir, name);
      const state = this.offsets.get(file) ?? { offset: 0, rest: '', lines: 0 };
      const size = statSync(file).size;
      if (size <= state.offset) {
        this.offsets.set(file, state);
        continue;
      }
      const buf = Buffer.alloc(size - state.offset);
      const fd = openSync(file, 'r');
      try {
        readSync(fd, buf, 0, buf.length, state.offset);
      } finally {
        closeSync(fd);
      }
      state.offset = size;
      const text = state.rest + buf.toString('utf8');
      const parts = text.split('\n');
      state.rest = parts.pop() ?? '';
      for (const line of parts) this.parse(line, state.lines++);
      this.offsets.set(file, state);
    }
  }

  private parse(line: string, lineNo: number): void {
    const f = line.split('\t');
    const t = Number(f[1]);
    switch (f[0]) {
      case 'd': {
        const d: Delivery = {
          t,
          worker: f[2]!,
          batch: Number(f[3]),
          shard: f[4]!,
          sequenceNumber: f[5]!,
          subSequenceNumber: Number(f[6]),
          key: f[7]!,
          seq: Number(f[8]),
          runId: f[9]!,
          line: lineNo,
        };
        this.deliveries.push(d);
        if (d.runId === this.runId) this.consumed.add(`${d.key}:${d.seq}`);
        break;
      }
      case 'c':
        this.checkpoints.set(`${f[2]}/${f[3]}`, t);
        break;
      case 'x':
        this.checkpointFailures.push(line);
        break;
      case 'v':
        this.events.push({ t, worker: f[2]!, name: f[3]!, detail: f[4] ?? '' });
        break;
    }
  }
}

/** A duplicate delivery and why it happened. */
export interface DuplicateClass {
  /** Earlier delivery's batch was never checkpointed (expected at-least-once redelivery). */
  uncheckpointed: number;
  /** Earlier delivery's batch had been checkpointed before this delivery: the checkpoint was not honoured. */
  afterCheckpoint: number;
  /** Earlier batch's checkpoint succeeded only after this delivery started: two workers on one shard at once. */
  concurrent: number;
}

/** The figures of one consumer run. */
export interface ConsumerFigures {
  produced: number;
  consumed: number;
  lost: number;
  /** Of those: aggregated with records of another shard's hash range, and dropped by the consumer as outside it. */
  lostOutsideRange: number;
  /** Deliveries beyond the first of each `key:seq`. */
  duplicated: number;
  /** Of those: the same stream record delivered again. */
  redelivered: number;
  /** Of those: a second copy of a record in the stream (a producer retry after a lost response). */
  streamCopies: number;
  duplicateCauses: DuplicateClass;
  reorders: number;
  /** Records consumed whose put was not acknowledged (written, but the producer saw a failure). */
  unacknowledgedConsumed: number;
  /** Records that were not ours (should be 0). */
  foreign: number;
  checkpointFailures: number;
  evidence: string[];
}

/** Compares the acknowledged records with the deliveries. */
export function analyzeDeliveries(
  log: DeliveryLog,
  acked: ReadonlyMap<string, Ack>,
  runId: string,
  /** Hash key range of each shard, to tell why a record is missing. */
  shardRanges: ReadonlyMap<string, [bigint, bigint]> = new Map(),
  maxEvidence = 20,
): ConsumerFigures {
  const evidence: string[] = [];
  const note = (s: string) => {
    if (evidence.length < maxEvidence) evidence.push(s);
  };
  const ours = log.deliveries.filter((d) => d.runId === runId);
  const foreign = log.deliveries.length - ours.length;
  ours.sort((a, b) => a.t - b.t || a.worker.localeCompare(b.worker) || a.line - b.line);

  // Lost: acknowledged, never delivered.
  let lost = 0;
  let lostOutsideRange = 0;
  for (const [id, ack] of acked)
    if (!log.consumed.has(id)) {
      lost++;
      const key = id.slice(0, id.lastIndexOf(':'));
      const hash = BigInt(`0x${createHash('md5').update(key, 'utf8').digest('hex')}`);
      const range = shardRanges.get(ack.shardId);
      const outside = range !== undefined && (hash < range[0] || hash > range[1]);
      if (outside) lostOutsideRange++;
      note(
        `lost ${id} (acknowledged at ${ack.shardId} ${ack.sequenceNumber}/${ack.subSequenceNumber}${outside ? `; the key's hash is outside ${ack.shardId}'s range: a KPL aggregate built before a reshard landed on the sibling, and the consumer dropped it (dropRecordsOutsideHashRange)` : ''})`,
      );
    }

  // Duplicates: per stream position (redelivery) and per key:seq (copies in the stream).
  const byPosition = new Map<string, Delivery>();
  const firstById = new Map<string, Delivery>();
  const causes: DuplicateClass = { uncheckpointed: 0, afterCheckpoint: 0, concurrent: 0 };
  let redelivered = 0;
  let streamCopies = 0;
  for (const d of ours) {
    const id = `${d.key}:${d.seq}`;
    const pos = `${d.shard}/${d.sequenceNumber}/${d.subSequenceNumber}`;
    const prev = byPosition.get(pos);
    if (prev) {
      redelivered++;
      const cp = log.checkpoints.get(`${prev.worker}/${prev.batch}`);
      if (cp === undefined) causes.uncheckpointed++;
      else if (cp <= d.t) {
        causes.afterCheckpoint++;
        note(
          `redelivered after checkpoint: ${id} at ${pos} first to ${prev.worker} batch ${prev.batch} (checkpointed ${fmtT(cp)}), again to ${d.worker} batch ${d.batch} at ${fmtT(d.t)}`,
        );
      } else {
        causes.concurrent++;
        note(
          `two workers on ${d.shard} at once: ${id} at ${pos} to ${prev.worker} batch ${prev.batch} (${fmtT(prev.t)}, checkpointed ${fmtT(cp)}) and to ${d.worker} batch ${d.batch} at ${fmtT(d.t)}`,
        );
      }
    } else if (firstById.has(id)) streamCopies++;
    byPosition.set(pos, d);
    if (!firstById.has(id)) firstById.set(id, d);
  }

  // Per-key reorders: the first delivery of seq n after the first delivery of some seq m > n of the same key.
  const firsts = [...firstById.values()].sort(
    (a, b) => a.t - b.t || a.worker.localeCompare(b.worker) || a.line - b.line,
  );
  const maxByKey = new Map<string, Delivery>();
  let reorders = 0;
  for (const d of firsts) {
    const max = maxByKey.get(d.key);
    if (max && d.seq < max.seq) {
      reorders++;
      note(
        `reorder on key ${d.key}: seq ${d.seq} (${d.shard} ${d.sequenceNumber}/${d.subSequenceNumber}, ${d.worker} batch ${d.batch} at ${fmtT(d.t)}) after seq ${max.seq} (${max.shard} ${max.sequenceNumber}/${max.subSequenceNumber}, ${max.worker} batch ${max.batch} at ${fmtT(max.t)})`,
      );
    } else maxByKey.set(d.key, d);
  }

  let unacknowledgedConsumed = 0;
  for (const id of log.consumed) if (!acked.has(id)) unacknowledgedConsumed++;

  return {
    produced: acked.size,
    lostOutsideRange,
    consumed: [...acked.keys()].filter((id) => log.consumed.has(id)).length,
    lost,
    duplicated: ours.length - firstById.size,
    redelivered,
    streamCopies,
    duplicateCauses: causes,
    reorders,
    unacknowledgedConsumed,
    foreign,
    checkpointFailures: log.checkpointFailures.length,
    evidence,
  };
}

const fmtT = (us: number) => new Date(us / 1000).toISOString().slice(11, 23);

/** Renders `rows` as a Markdown table (so the README can take it verbatim). */
export function markdownTable(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.map(String).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** `{ latency: 3, throttle: 0, … }` → `latency 3, throttle 2` (zeros left out). */
export function formatCounts(counts: Record<string, number>): string {
  const parts = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`);
  return parts.length ? parts.join(', ') : 'none';
}

/** The consumer runs side by side, one figure per row. */
export function consumerTable(
  runs: (Pick<
    ConsumerRunResult,
    | 'mode'
    | 'seed'
    | 'durationMs'
    | 'figures'
    | 'faults'
    | 'kills'
    | 'reshards'
    | 'drained'
    | 'unprocessedShards'
    | 'passed'
    | 'heartbeatIntervalsMs'
  > & { producer: Pick<ConsumerRunResult['producer'], 'failed'> })[],
): string {
  const row = (name: string, f: (r: (typeof runs)[number]) => string | number) => [name, ...runs.map(f)];
  const dup = (r: (typeof runs)[number]) => {
    const c = r.figures.duplicateCauses;
    const bad = c.afterCheckpoint + c.concurrent;
    return bad === 0
      ? `yes (${c.uncheckpointed} redeliveries, all of uncheckpointed batches)`
      : `**no**: ${c.afterCheckpoint} after a checkpoint, ${c.concurrent} while another worker held the batch`;
  };
  return markdownTable(
    ['figure', ...runs.map((r) => `consumer ${r.mode}`)],
    [
      row('seed', (r) => r.seed),
      row('duration (produce + drain)', (r) => `${(r.durationMs / 1000).toFixed(1)} s`),
      row('records produced (acknowledged)', (r) => r.figures.produced),
      row('records consumed (distinct, acknowledged)', (r) => r.figures.consumed),
      row(
        '**lost**',
        (r) =>
          `**${r.figures.lost}**${r.figures.lostOutsideRange ? ` (${r.figures.lostOutsideRange} in aggregates that landed on the sibling shard and were dropped as outside its hash range)` : ''}`,
      ),
      row(
        'duplicated (deliveries beyond the first)',
        (r) =>
          `${r.figures.duplicated} (${r.figures.redelivered} redelivered, ${r.figures.streamCopies} producer copies)`,
      ),
      row('every redelivery from an uncheckpointed batch', dup),
      row('**per-key reorders**', (r) => `**${r.figures.reorders}**`),
      row('shards left unprocessed after the drain', (r) =>
        r.unprocessedShards.length ? r.unprocessedShards.join('; ') : r.drained ? '0' : 'drain timed out',
      ),
      row('faults injected', (r) => formatCounts(r.faults)),
      row(
        'kills',
        (r) =>
          `${r.kills.SIGKILL} SIGKILL, ${r.kills.SIGTERM} SIGTERM${r.kills.termEscalated ? ` (${r.kills.termEscalated} escalated to SIGKILL)` : ''}${r.kills.unexpectedExits ? `, ${r.kills.unexpectedExits} exits on their own` : ''}`,
      ),
      row('reshards', (r) => r.reshards.join(', ') || 'none'),
      row('stretched heartbeat intervals', (r) =>
        r.heartbeatIntervalsMs.length ? r.heartbeatIntervalsMs.map((ms) => `${ms} ms`).join(', ') : 'none',
      ),
      row('puts that failed (not acknowledged)', (r) => r.producer.failed),
      row('consumed although the put failed', (r) => r.figures.unacknowledgedConsumed),
      row('result', (r) => (r.passed ? 'pass' : '**FAIL**')),
    ],
  );
}
