#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { createConsoleLogger, isAwskitError } from '@awskit/core';
import { serveFromFlags } from './serve.js';

const HELP = `awskit-server: HTTP ingest into Kinesis, consumer workers and a live dashboard

Usage: awskit-server [options]          (same as \`awskit serve\`)

  --stream <name>            stream to ingest into (repeatable; env AWSKIT_SERVER_STREAMS=a,b)
  --handler <file>           handler module run by consumer workers (env AWSKIT_SERVER_HANDLER)
  --consume <stream>         stream the workers read (default: the first --stream)
  --workers <n>              consumer workers in this process (default 1)
  --application-name <name>  KCL application / lease table name (default awskit-server-<stream>)
  --initial-position <pos>   LATEST, TRIM_HORIZON or an ISO timestamp (default LATEST)
  --partition-key-field <f>  event field used as partition key (default: random keys)
  --host <addr>              interface (default 127.0.0.1)
  --port <n>                 port (default 8080)
  --token <token>            require Authorization: Bearer <token> (env AWSKIT_SERVER_TOKEN)
  --insecure                 allow a non-loopback --host without --token (prints a loud warning)
  --body-limit <bytes>       largest request body (default 5 MiB)
  --profile, --region, --endpoint-url, --local   AWS resolution as everywhere in awskit
  --demo                     start a local AWS, my-event-dev, a demo handler, two workers and a demo load
  --no-load                  with --demo: no demo load
`;

function parseFlags() {
  try {
    return parseArgs({
      options: {
        stream: { type: 'string', multiple: true },
        handler: { type: 'string' },
        consume: { type: 'string' },
        workers: { type: 'string' },
        'application-name': { type: 'string' },
        'initial-position': { type: 'string' },
        'partition-key-field': { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string' },
        token: { type: 'string' },
        insecure: { type: 'boolean' },
        'body-limit': { type: 'string' },
        profile: { type: 'string' },
        region: { type: 'string' },
        'endpoint-url': { type: 'string' },
        local: { type: 'boolean' },
        demo: { type: 'boolean' },
        'no-load': { type: 'boolean' },
        'load-rate': { type: 'string' },
        'aws-port': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    });
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\nhint: see awskit-server --help\n`);
    process.exit(2);
  }
}
const { values } = parseFlags();

if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

const logger = createConsoleLogger({ level: 'info' });
try {
  const serving = await serveFromFlags(
    {
      ...(values.stream ? { stream: values.stream } : {}),
      ...(values.handler ? { handler: values.handler } : {}),
      ...(values.consume ? { consume: values.consume } : {}),
      ...(values.workers ? { workers: values.workers } : {}),
      ...(values['application-name'] ? { applicationName: values['application-name'] } : {}),
      ...(values['initial-position'] ? { initialPosition: values['initial-position'] } : {}),
      ...(values['partition-key-field'] ? { partitionKeyField: values['partition-key-field'] } : {}),
      ...(values.host ? { host: values.host } : {}),
      ...(values.port ? { port: values.port } : {}),
      ...(values.token ? { token: values.token } : {}),
      ...(values.insecure ? { insecure: true } : {}),
      ...(values['body-limit'] ? { bodyLimit: values['body-limit'] } : {}),
      ...(values.profile ? { profile: values.profile } : {}),
      ...(values.region ? { region: values.region } : {}),
      ...(values['endpoint-url'] ? { endpointUrl: values['endpoint-url'] } : {}),
      ...(values.local ? { local: true } : {}),
      ...(values.demo ? { demo: true } : {}),
      ...(values['no-load'] ? { load: false } : {}),
      ...(values['load-rate'] ? { loadRate: values['load-rate'] } : {}),
      ...(values['aws-port'] ? { awsPort: values['aws-port'] } : {}),
    },
    { logger },
  );
  let stopping = false;
  const stop = () => {
    if (stopping) process.exit(130);
    stopping = true;
    process.stderr.write('stopping (Ctrl-C again to force)...\n');
    serving.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // Announced only once a signal is handled: whoever reads the URL may send Ctrl-C at once.
  process.stdout.write(`dashboard: ${serving.url}\n${serving.details.map((d) => `  ${d}\n`).join('')}`);
} catch (e) {
  process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
  if (isAwskitError(e) && e.hint) process.stderr.write(`hint: ${e.hint}\n`);
  process.exit(isAwskitError(e, 'INVALID_OPTIONS') ? 2 : 1);
}
