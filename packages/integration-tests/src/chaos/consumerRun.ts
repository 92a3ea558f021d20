/**
 * Consumer chaos: a producer writes keyed, sequenced records through the fault proxy while three consumer worker
 * processes (the built `@awskit/kinesis-consumer`, polling or enhanced fan-out) read through it. Every few seconds
 * a random worker gets SIGKILL or SIGTERM and is restarted; one shard is split and two are merged mid-run. Then
 * production stops, the workers drain, and every acknowledged record is looked for in the workers' logs.
 */
import type { ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  KinesisClient,
  MergeShardsCommand,
  type Shard,
  SplitShardCommand,
  waitUntilStreamExists,
} from '@aws-sdk/client-kinesis';
import { createClient } from '@awskit/core';
import { listShards } from '@awskit/kinesis-aggregation';
import { KinesisProducer } from '@awskit/kinesis-producer';
import { type ChaosProxy, consumerFaultRules, type StartProxy, startChaosProxy } from './faults.js';
import { SequencedLoad } from './load.js';
import { spawnTs } from './proc.js';
import { type Ack, analyzeDeliveries, type ConsumerFigures, DeliveryLog } from './report.js';
import { createRng } from './rng.js';
import type { WorkerArgs } from './worker.js';

/** Options of {@link runConsumerChaos}. */
export interface ConsumerRunOptions {
  /** The local AWS (real emulators); the run puts its fault proxy in front of it. */
  endpoint: string;
  seed: number;
  mode: 'polling' | 'efo';
  /** How long records are produced (kills, reshards and faults happen meanwhile). */
  durationMs: number;
  /** How long the workers get afterwards to consume every acknowledged record. @default 60_000 */
  drainTimeoutMs?: number;
  /** @default 3 */
  workers?: number;
  /** @default 4 */
  shards?: number;
  /** Distinct partition keys. @default 24 */
  keys?: number;
  /** @default 150 */
  recordsPerSecond?: number;
  /** A kill every [min, max] ms. @default [3_000, 6_000] */
  killIntervalMs?: [number, number];
  /** Probability of each fault kind per call (a few percent). @default 0.03 */
  faultProbability?: number;
  /** Split one shard and merge two mid-run. @default true */
  reshard?: boolean;
  /** Workers' lease duration (the consumer's default). @default 3_000 */
  leaseDurationMs?: number;
  /** The workers' `renewIntervalMs` (heartbeat interval). @default a quarter of `leaseDurationMs` */
  renewIntervalMs?: number;
  /** The workers' `leaseMode`. @default the consumer's default */
  leaseMode?: 'counter' | 'worker-liveness';
  /** The workers' `stretchHeartbeat`. @default false (the lease timing is set, so the consumer's default is off) */
  stretchHeartbeat?: boolean;
  /** The workers' `dropRecordsOutsideHashRange`. @default the consumer's default (true) */
  dropRecordsOutsideHashRange?: boolean;
  /** @default the `@awskit/local` fault proxy */
  startProxy?: StartProxy;
  /** Where the worker logs go. @default a fresh temp dir */
  outDir?: string;
  log?: (line: string) => void;
}

/** What one run saw. */
export interface ConsumerRunResult {
  seed: number;
  mode: 'polling' | 'efo';
  runId: string;
  durationMs: number;
  figures: ConsumerFigures;
  faults: Record<string, number>;
  kills: { SIGKILL: number; SIGTERM: number; termEscalated: number; unexpectedExits: number };
  reshards: string[];
  drained: boolean;
  /** Shards whose lease does not show them fully processed after the drain, with the reason. */
  unprocessedShards: string[];
  producer: { sent: number; failed: number; failedByCode: Record<string, number>; retries: number };
  outDir: string;
  /** The heartbeat intervals (ms) workers switched to with `stretchHeartbeat`, distinct, ascending; empty when none did. */
  heartbeatIntervalsMs: number[];
  /** 0 lost, 0 reorders, duplicates only from uncheckpointed batches, every shard processed. */
  passed: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CREDS = { accessKeyId: 'test', secretAccessKey: 'test' };

interface Slot {
  index: number;
  incarnation: number;
  child?: ChildProcess;
  workerId?: string;
  exited?: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  expectingExit: boolean;
}

function comparePos(a: { s: string; sub: number }, b: { s: string; sub: number }): number {
  const x = BigInt(a.s);
  const y = BigInt(b.s);
  return x < y ? -1 : x > y ? 1 : a.sub - b.sub;
}

/** Runs one consumer chaos scenario and counts what was lost, doubled and reordered. */
export async function runConsumerChaos(options: ConsumerRunOptions): Promise<ConsumerRunResult> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const rng = createRng(options.seed);
  const killRng = rng.fork('kills');
  const reshardRng = rng.fork('reshards');
  const region = 'us-east-1';
  const runId = `${options.mode}-${options.seed}-${Date.now().toString(36)}`;
  const streamName = `chaos-${runId}`;
  const applicationName = `chaos-app-${runId}`;
  const outDir = options.outDir ?? (await mkdtemp(join(tmpdir(), `awskit-chaos-${options.mode}-`)));
  const leaseDurationMs = options.leaseDurationMs ?? 3_000;
  const [killMin, killMax] = options.killIntervalMs ?? [3_000, 6_000];

  const direct = { endpoint: options.endpoint, region, credentials: CREDS, env: {} };
  const kinesis = await createClient(KinesisClient, direct);
  const dynamo = await createClient(DynamoDBClient, direct);
  await kinesis.send(
    new CreateStreamCommand({
      StreamName: streamName,
      ShardCount: options.shards ?? 4,
    }),
  );
  await waitUntilStreamExists(
    { client: kinesis, maxWaitTime: 60, minDelay: 0.2, maxDelay: 1 },
    { StreamName: streamName },
  );

  const proxy: ChaosProxy = await (options.startProxy ?? startChaosProxy)({
    target: options.endpoint,
    rules: consumerFaultRules(options.faultProbability ?? 0.03),
    seed: rng.fork('proxy').int(0, 0xffff_fff0),
  });
  log(
    `consumer ${options.mode} seed ${options.seed}: stream ${streamName}, proxy ${proxy.endpoint}, logs ${outDir}`,
  );

  // --- workers ---
  const kills = { SIGKILL: 0, SIGTERM: 0, termEscalated: 0, unexpectedExits: 0 };
  const slots: Slot[] = Array.from({ length: options.workers ?? 3 }, (_, index) => ({
    index,
    incarnation: 0,
    expectingExit: false,
  }));
  let shuttingDown = false;
  const startWorker = (slot: Slot) => {
    slot.incarnation++;
    const workerId = `w${slot.index}.${slot.incarnation}`;
    const args: WorkerArgs = {
      endpoint: proxy.endpoint,
      region,
      streamName,
      applicationName,
      mode: options.mode,
      workerId,
      logFile: join(outDir, `${workerId}.tsv`),
      leaseDurationMs,
      ...(options.renewIntervalMs ? { renewIntervalMs: options.renewIntervalMs } : {}),
      ...(options.leaseMode ? { leaseMode: options.leaseMode } : {}),
      ...(options.stretchHeartbeat ? { stretchHeartbeat: true } : {}),
      ...(options.dropRecordsOutsideHashRange !== undefined
        ? { dropRecordsOutsideHashRange: options.dropRecordsOutsideHashRange }
        : {}),
    };
    const child = spawnTs('worker.ts', [JSON.stringify(args)]);
    const stderr = createWriteStream(join(outDir, `${workerId}.stderr`));
    child.stderr?.pipe(stderr);
    child.stdout?.pipe(stderr);
    slot.child = child;
    slot.workerId = workerId;
    slot.expectingExit = false;
    slot.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    void slot.exited.then(({ code, signal }) => {
      if (slot.child !== child || slot.expectingExit || shuttingDown) return;
      kills.unexpectedExits++;
      log(`worker ${workerId} exited on its own (code ${code}, ${signal}); restarting`);
      startWorker(slot);
    });
  };
  for (const slot of slots) startWorker(slot);

  const stopWorker = async (slot: Slot, signal: 'SIGKILL' | 'SIGTERM') => {
    const child = slot.child;
    if (!child || !slot.exited) return;
    slot.expectingExit = true;
    child.kill(signal);
    if (signal === 'SIGTERM') {
      const timedOut = await Promise.race([slot.exited.then(() => false), sleep(20_000).then(() => true)]);
      if (timedOut) {
        kills.termEscalated++;
        log(`worker ${slot.workerId} did not stop within 20 s of SIGTERM: SIGKILL`);
        child.kill('SIGKILL');
      }
    }
    await slot.exited;
  };

  // --- producer ---
  const producer = new KinesisProducer({
    streamName,
    clientOptions: { endpoint: proxy.endpoint, region, credentials: CREDS, env: {} },
    ordered: true,
  });
  const load = new SequencedLoad(producer, rng.fork('load'), runId, options.keys ?? 24);

  // --- chaos: kills ---
  let producing = true;
  const killer = (async () => {
    while (producing) {
      await sleep(killRng.int(killMin, killMax));
      if (!producing) break;
      const slot = killRng.pick(slots);
      const signal = killRng.chance(0.5) ? 'SIGKILL' : 'SIGTERM';
      const restartDelay = killRng.int(0, 1_000);
      kills[signal]++;
      log(`${((Date.now() - started) / 1000).toFixed(1)}s ${signal} ${slot.workerId}`);
      await stopWorker(slot, signal);
      await sleep(restartDelay);
      startWorker(slot);
    }
  })();

  // --- chaos: reshards ---
  const reshards: string[] = [];
  const openShards = () => listShards(kinesis, { streamName });
  const resharder = (async () => {
    if (options.reshard === false) return;
    const d = options.durationMs;
    const splitAt = reshardRng.int(Math.round(d * 0.2), Math.round(d * 0.35));
    const mergeAt = reshardRng.int(Math.round(d * 0.5), Math.round(d * 0.65));
    await sleep(splitAt);
    const open = (await openShards()).filter((s) => !s.SequenceNumberRange?.EndingSequenceNumber);
    const victim = reshardRng.pick(open);
    const mid =
      (BigInt(victim.HashKeyRange!.StartingHashKey!) + BigInt(victim.HashKeyRange!.EndingHashKey!)) / 2n;
    await kinesis.send(
      new SplitShardCommand({
        StreamName: streamName,
        ShardToSplit: victim.ShardId!,
        NewStartingHashKey: String(mid),
      }),
    );
    reshards.push(`split ${victim.ShardId} at ${((Date.now() - started) / 1000).toFixed(1)}s`);
    log(reshards.at(-1)!);
    await waitUntilStreamExists(
      { client: kinesis, maxWaitTime: 60, minDelay: 0.2, maxDelay: 1 },
      { StreamName: streamName },
    );
    await sleep(Math.max(0, mergeAt - splitAt));
    const now = (await openShards()).filter((s) => !s.SequenceNumberRange?.EndingSequenceNumber);
    now.sort((a, b) =>
      BigInt(a.HashKeyRange!.StartingHashKey!) < BigInt(b.HashKeyRange!.StartingHashKey!) ? -1 : 1,
    );
    const pairs: [Shard, Shard][] = [];
    for (let i = 0; i + 1 < now.length; i++)
      if (
        BigInt(now[i]!.HashKeyRange!.EndingHashKey!) + 1n ===
        BigInt(now[i + 1]!.HashKeyRange!.StartingHashKey!)
      )
        pairs.push([now[i]!, now[i + 1]!]);
    const [a, b] = reshardRng.pick(pairs);
    await kinesis.send(
      new MergeShardsCommand({
        StreamName: streamName,
        ShardToMerge: a.ShardId!,
        AdjacentShardToMerge: b.ShardId!,
      }),
    );
    reshards.push(`merge ${a.ShardId}+${b.ShardId} at ${((Date.now() - started) / 1000).toFixed(1)}s`);
    log(reshards.at(-1)!);
  })();

  // --- produce ---
  await load.run(options.durationMs, options.recordsPerSecond ?? 150);
  producing = false;
  await producer.close();
  await load.settled();
  await resharder;
  await killer;
  log(
    `produced ${load.sent} (acknowledged ${load.acked.size}, failed ${load.failed}) in ${((Date.now() - started) / 1000).toFixed(1)}s; draining`,
  );

  // --- drain: until every acknowledged record is consumed and every shard's lease shows it processed ---
  const deliveries = new DeliveryLog(outDir, runId);
  const lastAckedByShard = new Map<string, Ack>();
  for (const ack of load.acked.values()) {
    const cur = lastAckedByShard.get(ack.shardId);
    if (
      !cur ||
      comparePos(
        { s: ack.sequenceNumber, sub: ack.subSequenceNumber },
        { s: cur.sequenceNumber, sub: cur.subSequenceNumber },
      ) > 0
    )
      lastAckedByShard.set(ack.shardId, ack);
  }
  const unprocessed = async (): Promise<string[]> => {
    const shards = await openShards();
    const items =
      (await dynamo.send(new ScanCommand({ TableName: applicationName, ConsistentRead: true }))).Items ?? [];
    const leases = new Map(items.map((i) => [i.leaseKey?.S ?? '', i]));
    const problems: string[] = [];
    for (const s of shards) {
      const id = s.ShardId!;
      const lease = leases.get(id);
      const closed = Boolean(s.SequenceNumberRange?.EndingSequenceNumber);
      if (!lease) {
        problems.push(`${id}: no lease`);
        continue;
      }
      const cp = lease.checkpoint?.S ?? '';
      if (closed) {
        if (cp !== 'SHARD_END') problems.push(`${id}: closed, checkpoint ${cp} (not SHARD_END)`);
        continue;
      }
      const last = lastAckedByShard.get(id);
      if (!last) continue;
      const sub = Number(lease.checkpointSubSequenceNumber?.N ?? 0);
      if (
        !/^\d+$/.test(cp) ||
        comparePos({ s: cp, sub }, { s: last.sequenceNumber, sub: last.subSequenceNumber }) < 0
      )
        problems.push(
          `${id}: checkpoint ${cp}/${sub} before the last acknowledged record ${last.sequenceNumber}/${last.subSequenceNumber}`,
        );
    }
    return problems;
  };
  const drainUntil = Date.now() + (options.drainTimeoutMs ?? 60_000);
  let drained = false;
  let shardProblems: string[] = [];
  while (Date.now() < drainUntil) {
    deliveries.poll();
    // Done when every shard's lease is past its last acknowledged record (closed ones at SHARD_END): nothing more
    // will be delivered after that, so whatever is still missing then is lost.
    shardProblems = await unprocessed().catch((e) => [`lease check failed: ${String(e)}`]);
    if (shardProblems.length === 0) {
      drained = true;
      break;
    }
    await sleep(1_000);
  }
  if (!drained) shardProblems = await unprocessed().catch((e) => [`lease check failed: ${String(e)}`]);
  log(`drain ${drained ? 'complete' : 'TIMED OUT'} after ${((Date.now() - started) / 1000).toFixed(1)}s`);

  // --- stop everything, then count ---
  shuttingDown = true;
  await Promise.all(slots.map((s) => stopWorker(s, 'SIGTERM')));
  const faults = proxy.counts();
  await proxy.close();
  deliveries.poll();
  const ranges = new Map(
    (await openShards()).map((sh) => [
      sh.ShardId!,
      [BigInt(sh.HashKeyRange!.StartingHashKey!), BigInt(sh.HashKeyRange!.EndingHashKey!)] as [
        bigint,
        bigint,
      ],
    ]),
  );
  const figures = analyzeDeliveries(deliveries, load.acked, runId, ranges);
  await kinesis
    .send(new DeleteStreamCommand({ StreamName: streamName, EnforceConsumerDeletion: true }))
    .catch(() => {});
  const c = figures.duplicateCauses;
  const passed =
    figures.lost === 0 &&
    figures.reorders === 0 &&
    c.afterCheckpoint === 0 &&
    c.concurrent === 0 &&
    shardProblems.length === 0 &&
    drained;
  return {
    seed: options.seed,
    mode: options.mode,
    runId,
    durationMs: Date.now() - started,
    figures,
    faults,
    kills,
    reshards,
    drained,
    unprocessedShards: shardProblems,
    heartbeatIntervalsMs: [
      ...new Set(
        deliveries.events.filter((e) => e.name === 'heartbeatInterval').map((e) => Number(e.detail)),
      ),
    ].sort((a, b) => a - b),
    producer: {
      sent: load.sent,
      failed: load.failed,
      failedByCode: load.failedByCode,
      retries: producer.stats.retries,
    },
    outDir,
    passed,
  };
}
