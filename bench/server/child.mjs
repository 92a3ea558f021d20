#!/usr/bin/env node
// One server for bench/server/run.mjs, in its own process so the load generator does not share its event loop.
// MODE=aws: the local AWS. MODE=awskit: the awskit server (ingest → KinesisProducer → the local AWS). MODE=bare: a bare fastify route that
// parses the same JSON body and answers 202 without doing anything (the baseline).
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '../../..');
const serverDir = join(root, 'packages/server');
const require = createRequire(join(serverDir, 'package.json'));

if (process.env.MODE === 'aws') {
  // The local AWS in its own process: its edge proxy must not share the load generator's event loop.
  const { startLocalAws } = await import(pathToFileURL(join(root, 'packages/local/dist/index.js')).href);
  const aws = await startLocalAws({ port: 0, latencyMs: 10 });
  process.stdout.write(`READY ${aws.endpoint}\n`);
  process.on('SIGTERM', () => aws.stop().then(() => process.exit(0)));
} else if (process.env.MODE === 'bare') {
  const Fastify = (await import(pathToFileURL(require.resolve('fastify')).href)).default;
  const app = Fastify({ logger: false, bodyLimit: 5 * 1024 * 1024 });
  app.post('/v1/streams/:stream/records', async (req, reply) =>
    reply.code(202).send({ accepted: req.body.length }),
  );
  await app.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(`READY http://127.0.0.1:${app.server.address().port}\n`);
} else {
  const { startServer } = await import(pathToFileURL(join(serverDir, 'dist/index.js')).href);
  const server = await startServer({
    port: 0,
    streams: [process.env.STREAM],
    partitionKeyField: 'userId',
    // BENCH_PRODUCER='{"collectionMaxBytes":1048576}' tries other producer tuning.
    ...(process.env.BENCH_PRODUCER ? { producer: JSON.parse(process.env.BENCH_PRODUCER) } : {}),
    clientOptions: {
      endpoint: process.env.ENDPOINT,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      env: {},
    },
  });
  process.stdout.write(`READY ${server.url}\n`);
  process.on('SIGTERM', () => server.close().then(() => process.exit(0)));
}
