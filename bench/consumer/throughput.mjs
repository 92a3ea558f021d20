#!/usr/bin/env node
// Consumer throughput and latency on the local AWS, side by side (issue 5):
//  - end-to-end records/s draining the same pre-filled stream: a bare GetRecords loop (the limit for polling),
//    awskit polling, a bare SubscribeToShard reader (the limit for enhanced fan-out), awskit EFO, lifion-kinesis
//    (polling; its EFO mode is tried and the reason it cannot run is printed);
//  - put → handler latency p50/p99 at a steady 200 records/s, each awskit mode next to a bare reader of the same
//    API at the same poll interval (the emulator pushes EFO events about once a second, so EFO is compared with
//    the bare subscriber, not with AWS's ~70 ms).
// Run alone (`node bench/consumer/throughput.mjs`, starts its own local AWS) or from run.mjs (shares its AWS).
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ensureStreamConsumer, KinesisConsumer } from '../../packages/kinesis-consumer/dist/index.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const require = createRequire(join(here, '../../packages/kinesis-consumer/package.json'));
const K = require('@aws-sdk/client-kinesis');
const D = require('@aws-sdk/client-dynamodb');
const { NodeHttpHandler } = require('@smithy/node-http-handler');

const RECORDS = Number(process.env.BENCH_CONSUMER_RECORDS ?? 10_000);
const ROUNDS = Number(process.env.BENCH_CONSUMER_ROUNDS ?? 3);
const LEASE_MODE = process.env.BENCH_CONSUMER_LEASE_MODE;
const FAILOVER_RUNS = Number(process.env.BENCH_EFO_FAILOVER_RUNS ?? 3);
const SHARDS = 4;
const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 10);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const creds = { accessKeyId: 'test', secretAccessKey: 'test' };
let seq = 0;
const unique = (p) => `${p}-${Date.now().toString(36)}-${seq++}`;
const text = (d) => (typeof d === 'string' ? d : Buffer.from(d).toString());
const pct = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))] : Number.NaN;
};

export async function runThroughputBench({ endpoint }) {
  const kinesis = new K.KinesisClient({
    endpoint,
    region: 'us-east-1',
    credentials: creds,
    requestHandler: new NodeHttpHandler(),
  });
  const dynamo = new D.DynamoDBClient({ endpoint, region: 'us-east-1', credentials: creds });
  const clientOptions = { endpoint, region: 'us-east-1', credentials: creds, env: {} };

  async function createStream(shards) {
    const name = unique('bench');
    await kinesis.send(new K.CreateStreamCommand({ StreamName: name, ShardCount: shards }));
    await K.waitUntilStreamExists(
      { client: kinesis, maxWaitTime: 60, minDelay: 0.1, maxDelay: 0.5 },
      { StreamName: name },
    );
    const list = (await kinesis.send(new K.ListShardsCommand({ StreamName: name }))).Shards;
    return { name, shards: list.map((s) => s.ShardId) };
  }

  async function putBatch(stream, entries) {
    for (let attempt = 0; ; attempt++) {
      const r = await kinesis.send(new K.PutRecordsCommand({ StreamName: stream, Records: entries }));
      if (!r.FailedRecordCount) return;
      entries = entries.filter((_, i) => r.Records[i].ErrorCode);
      await sleep(50 * (attempt + 1));
    }
  }

  // ---- readers: each calls onRecords(dataStrings[]) and stops when the signal aborts ----

  function bareGetRecords(stream, position, onRecords, signal, { minGapMs = 200, idleMs = 250 } = {}) {
    return Promise.all(
      stream.shards.map(async (shardId) => {
        let it = (
          await kinesis.send(
            new K.GetShardIteratorCommand({
              StreamName: stream.name,
              ShardId: shardId,
              ShardIteratorType: position,
            }),
          )
        ).ShardIterator;
        let last = Number.NEGATIVE_INFINITY;
        while (it && !signal.aborted) {
          const wait = last + minGapMs - performance.now();
          if (wait > 0) await sleep(wait);
          last = performance.now();
          const r = await kinesis.send(new K.GetRecordsCommand({ ShardIterator: it, Limit: 10_000 }));
          if (r.Records.length) onRecords(r.Records.map((x) => text(x.Data)));
          else if (!r.MillisBehindLatest) await sleep(idleMs);
          it = r.NextShardIterator;
        }
      }),
    );
  }

  async function bareSubscribe(stream, consumerName, position, onRecords, signal) {
    const consumerARN = await ensureStreamConsumer(kinesis, { streamName: stream.name, consumerName });
    return Promise.all(
      stream.shards.map(async (shardId) => {
        let cont;
        while (!signal.aborted) {
          try {
            const sub = await kinesis.send(
              new K.SubscribeToShardCommand({
                ConsumerARN: consumerARN,
                ShardId: shardId,
                StartingPosition: cont
                  ? { Type: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: cont }
                  : { Type: position },
              }),
              { abortSignal: signal },
            );
            for await (const ev of sub.EventStream) {
              const e = ev.SubscribeToShardEvent;
              if (!e) continue;
              if (e.Records.length) onRecords(e.Records.map((x) => text(x.Data)));
              cont = e.ContinuationSequenceNumber;
            }
          } catch {
            if (signal.aborted) return;
            await sleep(1_000);
          }
        }
      }),
    );
  }

  function awskit(stream, mode, position, onRecords) {
    const c = new KinesisConsumer({
      streamName: stream.name,
      applicationName: unique(`awskit-${mode}`),
      initialPosition: position,
      clientOptions,
      mode,
      // BENCH_CONSUMER_LEASE_MODE=counter measures the other lease mode (default: the consumer's default).
      ...(LEASE_MODE ? { leaseMode: LEASE_MODE } : {}),
      processor: (records) => onRecords(records.map((r) => text(r.data))),
    });
    return c;
  }

  let lifionStateTable = false;
  async function lifion(stream, position, onRecords, efo, onProblem) {
    if (!lifionStateTable) {
      // lifion creates this table itself, but then waits with the SDK v2 waiter (first poll after 20 s).
      await dynamo.send(
        new D.CreateTableCommand({
          TableName: 'lifion-kinesis-state',
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [
            { AttributeName: 'consumerGroup', AttributeType: 'S' },
            { AttributeName: 'streamName', AttributeType: 'S' },
          ],
          KeySchema: [
            { AttributeName: 'consumerGroup', KeyType: 'HASH' },
            { AttributeName: 'streamName', KeyType: 'RANGE' },
          ],
        }),
      );
      await D.waitUntilTableExists(
        { client: dynamo, maxWaitTime: 30, minDelay: 0.1, maxDelay: 0.2 },
        { TableName: 'lifion-kinesis-state' },
      );
      lifionStateTable = true;
    }
    const Lifion = require('lifion-kinesis');
    const problem = (...args) =>
      onProblem?.(
        args
          .map((a) => (a instanceof Error ? a.message : String(a)))
          .join(' ')
          .split('\n')
          .slice(0, 2)
          .join(' '),
      );
    const l = new Lifion({
      streamName: stream.name,
      endpoint,
      region: 'us-east-1',
      ...creds,
      dynamoDb: { endpoint, region: 'us-east-1', ...creds },
      consumerGroup: unique('lifion'),
      initialPositionInStream: position,
      createStreamIfNeeded: false,
      shouldParseJson: false,
      useEnhancedFanOut: efo,
      logger: { debug: () => {}, warn: problem, error: problem },
    });
    l.on('data', (chunk) => onRecords(chunk.records.map((r) => text(r.data))));
    l.on('error', (e) => problem(e));
    return l;
  }

  // ---- throughput: drain one pre-filled stream ----

  const filled = await createStream(SHARDS);
  const payload = 'x'.repeat(80);
  const t0 = performance.now();
  for (let i = 0; i < RECORDS; i += 500)
    await putBatch(
      filled.name,
      Array.from({ length: Math.min(500, RECORDS - i) }, (_, j) => ({
        PartitionKey: `k${(i + j) % 1000}`,
        Data: Buffer.from(`${i + j}:${payload}`),
      })),
    );
  console.log(
    `pre-filled ${RECORDS} records of ~90 bytes on ${SHARDS} shards in ${((performance.now() - t0) / 1000).toFixed(1)} s; node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? '?'})`,
  );

  async function drain(name, run) {
    const seen = new Set();
    let first;
    let lastAt;
    const ac = new AbortController();
    const started = performance.now();
    let done;
    const all = new Promise((r) => {
      done = r;
    });
    const onRecords = (datas) => {
      const now = performance.now();
      first ??= now;
      for (const d of datas) seen.add(d.slice(0, d.indexOf(':')));
      if (seen.size >= RECORDS && !lastAt) {
        lastAt = now;
        done();
      }
    };
    const stop = await run(onRecords, ac.signal);
    const timeout = sleep(120_000).then(() => 'timeout');
    const r = await Promise.race([all, timeout]);
    ac.abort();
    await stop?.();
    if (r === 'timeout') return { name, error: `timed out with ${seen.size}/${RECORDS} records` };
    return {
      name,
      totalS: (lastAt - started) / 1000,
      drainRate: RECORDS / ((lastAt - first) / 1000),
      e2eRate: RECORDS / ((lastAt - started) / 1000),
    };
  }

  const readers = [
    {
      name: 'bare GetRecords loop (5 reads/s/shard)',
      run: async (on, signal) => {
        const p = bareGetRecords(filled, 'TRIM_HORIZON', on, signal);
        return () => p;
      },
    },
    {
      name: 'awskit polling (defaults)',
      run: async (on) => {
        const c = awskit(filled, 'polling', 'TRIM_HORIZON', on);
        await c.start();
        return () => c.stop();
      },
    },
    {
      name: 'bare SubscribeToShard reader',
      run: async (on, signal) => {
        const p = bareSubscribe(filled, unique('bare'), 'TRIM_HORIZON', on, signal);
        return () => p;
      },
    },
    {
      name: 'awskit EFO (defaults)',
      run: async (on) => {
        const c = awskit(filled, 'efo', 'TRIM_HORIZON', on);
        await c.start();
        return () => c.stop();
      },
    },
    {
      name: 'lifion-kinesis 1.3.3 polling (defaults)',
      run: async (on) => {
        const l = await lifion(filled, 'TRIM_HORIZON', on, false);
        await l.startConsumer();
        return async () => {
          l.stopConsumer();
        };
      },
    },
  ];
  // Rounds interleave the readers so a slow moment of the emulator does not land on one reader only.
  const results = new Map(readers.map((r) => [r.name, []]));
  for (let round = 0; round < ROUNDS; round++)
    for (const r of readers) results.get(r.name).push(await drain(r.name, r.run));
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const rows = readers.map(({ name }) => {
    const rs = results.get(name);
    const bad = rs.find((r) => r.error);
    if (bad) return bad;
    return {
      name,
      drainRate: median(rs.map((r) => r.drainRate)),
      e2eRate: median(rs.map((r) => r.e2eRate)),
      totalS: median(rs.map((r) => r.totalS)),
    };
  });

  // lifion EFO: give it 15 s to deliver anything; report the first problem it logged.
  {
    let got = 0;
    let problem;
    const l = await lifion(
      filled,
      'TRIM_HORIZON',
      (d) => {
        got += d.length;
      },
      true,
      (p) => {
        problem ??= p;
      },
    );
    const end = performance.now() + 15_000;
    l.startConsumer().catch((e) => {
      problem ??= String(e?.message ?? e);
    });
    while (got === 0 && !problem && performance.now() < end) await sleep(200);
    await sleep(500);
    l.stopConsumer();
    rows.push({
      name: 'lifion-kinesis 1.3.3 EFO',
      error:
        got > 0
          ? `delivered ${got} records before stopping${problem ? ` (it also logged: ${problem})` : ''}`
          : `cannot run against the local AWS: no record delivered; first error it logged: ${problem ?? 'none within 15 s'}`,
    });
  }

  const by = (n) => rows.find((r) => r.name.startsWith(n));
  const lif = by('lifion-kinesis 1.3.3 polling');
  const barePoll = by('bare GetRecords');
  const bareEfo = by('bare SubscribeToShard');
  const x = (a, b, k) => (a?.[k] && b?.[k] ? `${(a[k] / b[k]).toFixed(2)}×` : 'n/a');
  console.log(
    `\nThroughput: drain ${RECORDS} pre-filled records (${SHARDS} shards), handler counts records; median of ${ROUNDS} rounds`,
  );
  console.log(
    '| reader | records/s, start → last record | ÷ lifion | ÷ bare reader, same API | records/s, first → last record | ÷ lifion | ÷ bare reader, same API |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    if (r.error) {
      console.log(`| ${r.name} | ${r.error} | | | | | |`);
      continue;
    }
    const bare = r.name.includes('EFO') || r.name.includes('SubscribeToShard') ? bareEfo : barePoll;
    console.log(
      `| ${r.name} | ${Math.round(r.e2eRate)} (${r.totalS.toFixed(2)} s) | ${x(r, lif, 'e2eRate')} | ${x(r, bare, 'e2eRate')} | ${Math.round(r.drainRate)} | ${x(r, lif, 'drainRate')} | ${x(r, bare, 'drainRate')} |`,
    );
  }

  // ---- latency: put → handler at a steady rate; the readers of a group read the same stream at the same time ----

  async function latencyGroup(group) {
    const stream = await createStream(SHARDS);
    const samples = group.map(() => []);
    const window = { from: Number.POSITIVE_INFINITY, to: Number.POSITIVE_INFINITY };
    const ac = new AbortController();
    const stops = [];
    for (const [i, g] of group.entries())
      stops.push(
        await g.run(
          stream,
          (datas) => {
            const now = Date.now();
            for (const d of datas) {
              // Only records put inside the window, so every reader of the group is measured on the same set.
              const sent = Number(d.slice(0, d.indexOf(':')));
              if (sent >= window.from && sent < window.to) samples[i].push(now - sent);
            }
          },
          ac.signal,
        ),
      );
    await sleep(2_000); // subscriptions and iterators in place
    let n = 0;
    const end = Date.now() + LATENCY_SECONDS * 1000;
    window.from = Date.now() + 1_000;
    window.to = end;
    while (Date.now() < end) {
      const sentAt = Date.now();
      await putBatch(
        stream.name,
        Array.from({ length: 20 }, () => ({ PartitionKey: `k${n++}`, Data: Buffer.from(`${sentAt}:lat`) })),
      );
      await sleep(Math.max(0, 100 - (Date.now() - sentAt)));
    }
    await sleep(2_500); // let the last events arrive
    ac.abort();
    for (const stop of stops) await stop?.();
    return group.map((g, i) => ({
      name: g.name,
      n: samples[i].length,
      p50: pct(samples[i], 0.5),
      p99: pct(samples[i], 0.99),
    }));
  }

  const polling = await latencyGroup([
    {
      name: 'bare GetRecords loop (same 200 ms min gap, 250 ms idle wait)',
      run: async (s, on, signal) => {
        const p = bareGetRecords(s, 'LATEST', on, signal);
        return () => p;
      },
    },
    {
      name: 'awskit polling (defaults)',
      run: async (s, on) => {
        const c = awskit(s, 'polling', 'LATEST', on);
        await c.start();
        return () => c.stop();
      },
    },
    {
      name: 'lifion-kinesis 1.3.3 polling (defaults: 250 ms, 1 s when idle)',
      run: async (s, on) => {
        const l = await lifion(s, 'LATEST', on, false);
        await l.startConsumer();
        return async () => {
          l.stopConsumer();
        };
      },
    },
  ]);
  const efo = await latencyGroup([
    {
      name: 'bare SubscribeToShard reader',
      run: async (s, on, signal) => {
        const p = bareSubscribe(s, unique('bare'), 'LATEST', on, signal);
        return () => p;
      },
    },
    {
      name: 'awskit EFO (defaults)',
      run: async (s, on) => {
        const c = awskit(s, 'efo', 'LATEST', on);
        await c.start();
        return () => c.stop();
      },
    },
  ]);
  console.log(
    `\nLatency: put → handler, 200 records/s for ${LATENCY_SECONDS} s on ${SHARDS} shards (first second dropped); readers of one group read the same stream at the same time`,
  );
  console.log('| reader | samples | p50 ms | p99 ms | p50 overhead vs the bare reader of the same API |');
  console.log('|---|---:|---:|---:|---:|');
  for (const [group, bare] of [
    [polling, polling[0]],
    [efo, efo[0]],
  ])
    for (const r of group) {
      const over = r === bare || r.name.startsWith('lifion') ? '' : `${Math.round(r.p50 - bare.p50)} ms`;
      console.log(`| ${r.name} | ${r.n} | ${Math.round(r.p50)} | ${Math.round(r.p99)} | ${over} |`);
    }

  // ---- failover with enhanced fan-out: two worker processes on 4 shards, SIGKILL one ----

  function worker(stream, app, id, mode) {
    const child = spawn(
      process.execPath,
      [join(here, 'modeWorker.mjs'), endpoint, stream.name, app, id, mode],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, NODE_NO_WARNINGS: '1' },
      },
    );
    const w = { child, shards: new Set(), firstAfter: new Map(), killedAt: Number.POSITIVE_INFINITY };
    createInterface({ input: child.stdout }).on('line', (l) => {
      try {
        const m = JSON.parse(l);
        if (m.event === 'acquired') w.shards.add(m.shardId);
        if (m.event === 'lost') w.shards.delete(m.shardId);
        if (m.event === 'records' && !w.firstAfter.has(m.shardId))
          for (const v of m.values)
            if (Number(v.slice(0, v.indexOf(':'))) >= w.killedAt) {
              w.firstAfter.set(m.shardId, m.at);
              break;
            }
      } catch {}
    });
    return w;
  }

  async function failover(mode) {
    const stream = await createStream(SHARDS);
    const app = unique(`failover-${mode}`);
    const a = worker(stream, app, 'doomed', mode);
    const until = async (what, cond, ms = 60_000) => {
      const end = performance.now() + ms;
      while (!cond()) {
        if (performance.now() > end) throw new Error(`timed out: ${what}`);
        await sleep(20);
      }
    };
    try {
      await until('first worker holds all shards', () => a.shards.size === SHARDS);
      const b = worker(stream, app, 'survivor', mode);
      try {
        await until('2/2', () => a.shards.size === SHARDS / 2 && b.shards.size === SHARDS / 2);
        // Subscriptions in place; then a random point of the heartbeat cycle (failover depends on the phase).
        await sleep(2_000 + Math.random() * 2_000);
        const orphaned = [...a.shards];
        const killedAt = Date.now();
        b.killedAt = killedAt;
        a.child.kill('SIGKILL');
        let producing = true;
        const producer = (async () => {
          while (producing) {
            const t = Date.now();
            await putBatch(
              stream.name,
              stream.shards.map((_, i) => ({
                PartitionKey: 'p',
                ExplicitHashKey: String((2n ** 128n / BigInt(SHARDS)) * BigInt(i)),
                Data: Buffer.from(`${t}:failover`),
              })),
            );
            await sleep(50);
          }
        })();
        await until('orphaned shards processed by the survivor', () =>
          orphaned.every((s) => b.firstAfter.has(s)),
        );
        if (process.env.BENCH_WORKER_LOG)
          console.error(
            `killed at ${new Date(killedAt).toISOString()}; orphaned ${orphaned.join(' ')}; first after: ${orphaned.map((s) => `${s} +${b.firstAfter.get(s) - killedAt} ms`).join(', ')}`,
          );
        producing = false;
        await producer;
        return (Math.max(...orphaned.map((s) => b.firstAfter.get(s))) - killedAt) / 1000;
      } finally {
        b.child.kill('SIGKILL');
      }
    } finally {
      a.child.kill('SIGKILL');
    }
  }

  const fo = [];
  for (let i = 0; i < FAILOVER_RUNS; i++) fo.push(await failover('efo'));
  console.log(
    `\nFailover with enhanced fan-out (defaults, lease 3 s): two worker processes on ${SHARDS} shards, SIGKILL one`,
  );
  console.log('| measure | median | max | runs |');
  console.log('|---|---:|---:|---:|');
  console.log(
    `| SIGKILL → a record put after the kill processed by the survivor on every orphaned shard (EFO) | ${median(fo).toFixed(2)} s | ${Math.max(...fo).toFixed(2)} s | ${fo.length} |`,
  );

  kinesis.destroy();
  dynamo.destroy();
}

/**
 * Starts the local AWS in a child process: in-process, dynalite and the edge would share the event loop with the
 * readers being measured and add their own delays to every reader's latency.
 */
export async function startLocalAwsProcess() {
  const local = join(here, '../../packages/local/dist/index.js');
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { startLocalAws } from ${JSON.stringify(local)};
       process.removeAllListeners('warning');
       const aws = await startLocalAws({ port: 0 });
       console.log(JSON.stringify({ endpoint: aws.endpoint }));
       process.on('SIGTERM', async () => { await aws.stop(); process.exit(0); });`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_NO_WARNINGS: '1' } },
  );
  const endpoint = await new Promise((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`local AWS exited with ${code}`)));
    createInterface({ input: child.stdout }).once('line', (l) => resolve(JSON.parse(l).endpoint));
  });
  return {
    endpoint,
    stop: async () => {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
      clearTimeout(killer);
    },
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.removeAllListeners('warning');
  const aws = await startLocalAwsProcess();
  try {
    await runThroughputBench({ endpoint: aws.endpoint });
  } finally {
    await aws.stop();
  }
  process.exit(0);
}
