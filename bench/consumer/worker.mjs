// A consumer worker process with default settings (for the failover benchmark; the parent SIGKILLs it).
// argv: endpoint stream app workerId. Prints JSON lines: {"event":"acquired"|"records", ...}.
import { KinesisConsumer } from '../../packages/kinesis-consumer/dist/index.js';

process.removeAllListeners('warning');
const [endpoint, stream, app, workerId] = process.argv.slice(2);
const out = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const consumer = new KinesisConsumer({
  streamName: stream,
  applicationName: app,
  workerId,
  initialPosition: 'TRIM_HORIZON',
  clientOptions: {
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    env: {},
  },
  processor: () => {},
});
consumer.on('leaseAcquired', (shardId) => out({ event: 'acquired', shardId }));
consumer.on('leaseLost', (shardId) => out({ event: 'lost', shardId }));
consumer.on('leaseReleased', (shardId) => out({ event: 'lost', shardId }));
await consumer.start();
