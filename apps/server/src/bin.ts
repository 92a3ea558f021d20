#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { createConsoleLogger, isAwskitError } from '@awskit/core';
import { serveFromFlags } from '@awskit/server';
import { serveFlagsFromValues, serveFlagsHelp, serveParseArgsOptions } from '@awskit/server/flags';

const HELP = `awskit-server: HTTP ingest into Kinesis, consumer workers and a live dashboard

Usage: awskit-server [options]          (same as \`awskit serve\`)

${serveFlagsHelp('serve')}
  -h, --help                     this text
`;

function parseFlags() {
  try {
    return parseArgs({
      options: { ...serveParseArgsOptions(), help: { type: 'boolean', short: 'h' } },
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
  const serving = await serveFromFlags(serveFlagsFromValues(values), { logger });
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
  process.exit(isAwskitError(e, 'SERVER_INVALID_OPTIONS') ? 2 : 1);
}
