// A consumer worker process for failover.mjs (the parent SIGKILLs one of two). Defaults except the lease mode.
// argv: endpoint stream app workerId leaseMode. Prints JSON lines with wall-clock ms `t` (comparable across the
// processes of one machine): acquired, lost, GetShardIterator/GetRecords sent and answered (per shard), marker.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KinesisConsumer } from '../../packages/kinesis-consumer/dist/index.js';

process.removeAllListeners('warning');
const here = fileURLToPath(new URL('.', import.meta.url));
const require = createRequire(join(here, '../../packages/kinesis-consumer/package.json'));
const { KinesisClient } = require('@aws-sdk/client-kinesis');
const { NodeHttpHandler } = require('@smithy/node-http-handler');

const [endpoint, stream, app, workerId, leaseMode] = process.argv.slice(2);
const now = () => performance.timeOrigin + performance.now();
const out = (o) => process.stdout.write(`${JSON.stringify({ t: now(), ...o })}\n`);
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

// Which shard an iterator belongs to, so GetRecords calls (which only carry the iterator) can be attributed.
const shardOfIterator = new Map();
const firstRecordsSeen = new Set();
const kinesis = new KinesisClient({
  endpoint,
  region: 'us-east-1',
  credentials,
  requestHandler: new NodeHttpHandler({ requestTimeout: 30_000, connectionTimeout: 5_000 }),
});
kinesis.middlewareStack.add(
  (next, context) => async (args) => {
    const name = String(context.commandName ?? '').replace(/Command$/, '');
    const input = args.input ?? {};
    const shardId = name === 'GetShardIterator' ? input.ShardId : shardOfIterator.get(input.ShardIterator);
    const sent = now();
    const r = await next(args);
    if (name === 'GetShardIterator') {
      shardOfIterator.set(r.output.ShardIterator, shardId);
      out({ event: 'GetShardIterator', shardId, sent });
    } else if (name === 'GetRecords' && shardId) {
      if (r.output.NextShardIterator) shardOfIterator.set(r.output.NextShardIterator, shardId);
      shardOfIterator.delete(input.ShardIterator);
      if (!firstRecordsSeen.has(shardId)) {
        firstRecordsSeen.add(shardId);
        out({ event: 'firstGetRecords', shardId, sent, records: r.output.Records?.length ?? 0 });
      }
    }
    return r;
  },
  { step: 'initialize', name: 'benchTiming' },
);

const consumer = new KinesisConsumer({
  streamName: stream,
  applicationName: app,
  workerId,
  initialPosition: 'TRIM_HORIZON',
  kinesisClient: kinesis,
  clientOptions: { endpoint, region: 'us-east-1', credentials, env: {} },
  ...(leaseMode ? { leaseMode } : {}),
  // BENCH_LEASE_MS / BENCH_RENEW_MS: other lease timings than the defaults (lease 3 s, renew/heartbeat 1 s).
  ...(process.env.BENCH_LEASE_MS ? { leaseDurationMs: Number(process.env.BENCH_LEASE_MS) } : {}),
  ...(process.env.BENCH_RENEW_MS ? { renewIntervalMs: Number(process.env.BENCH_RENEW_MS) } : {}),
  processor: (records, ctx) => {
    for (const r of records) {
      const text = new TextDecoder().decode(r.data);
      if (text.startsWith('marker')) out({ event: 'marker', shardId: ctx.shardId, marker: text });
    }
  },
});
consumer.on('leaseAcquired', (shardId) => {
  firstRecordsSeen.delete(shardId);
  out({ event: 'acquired', shardId });
});
consumer.on('leaseLost', (shardId) => out({ event: 'lost', shardId }));
consumer.on('leaseReleased', (shardId) => out({ event: 'lost', shardId }));
await consumer.start();
out({ event: 'started' });
