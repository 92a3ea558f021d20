// A consumer worker process for the EFO failover benchmark (the parent SIGKILLs it).
// argv: endpoint stream app workerId mode. Prints JSON lines: acquired/lost/records (with the time handled).
import { KinesisConsumer } from '../../packages/kinesis-consumer/dist/index.js';

process.removeAllListeners('warning');
const [endpoint, stream, app, workerId, mode] = process.argv.slice(2);
const out = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const consumer = new KinesisConsumer({
  streamName: stream,
  applicationName: app,
  workerId,
  mode,
  initialPosition: 'TRIM_HORIZON',
  // BENCH_WORKER_LOG=1: the consumer's log lines on stderr, timestamped (where a failover's time goes).
  ...(process.env.BENCH_WORKER_LOG
    ? {
        logger: Object.fromEntries(
          ['debug', 'info', 'warn', 'error'].map((level) => [
            level,
            (msg, fields) =>
              process.stderr.write(
                `${new Date().toISOString()} ${workerId} ${level} ${msg} ${JSON.stringify(fields ?? {})}\n`,
              ),
          ]),
        ),
      }
    : {}),
  clientOptions: {
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    env: {},
  },
  processor: (records, ctx) => {
    out({
      event: 'records',
      shardId: ctx.shardId,
      at: Date.now(),
      values: records.map((r) => Buffer.from(r.data).toString()),
    });
  },
});
consumer.on('leaseAcquired', (shardId) => out({ event: 'acquired', shardId, at: Date.now() }));
consumer.on('leaseLost', (shardId) => out({ event: 'lost', shardId }));
// Balancing hands leases over gracefully (released, not lost): also "no longer held".
consumer.on('leaseReleased', (shardId) => out({ event: 'lost', shardId }));
await consumer.start();
