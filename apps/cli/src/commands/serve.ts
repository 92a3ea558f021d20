import { type ServeCommand, serveFlagsFor } from '@awskit/server/flags';
import type { Command } from 'commander';
import { cliLogger, ExitCode, type GlobalFlags, globalFlags, output, UsageError } from '../context';

interface ServeOpts {
  stream?: string[];
  handler?: string;
  consume?: string;
  workers?: string;
  applicationName?: string;
  initialPosition?: string;
  partitionKeyField?: string;
  host?: string;
  port?: string;
  token?: string;
  insecure?: boolean;
  bodyLimit?: string;
  demo?: boolean;
  load: boolean;
  loadRate?: string;
  awsPort?: string;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

async function run(opts: ServeOpts, flags: GlobalFlags): Promise<void> {
  // A real dependency, loaded lazily: fastify and the SDK stay out of `--help`.
  const { serveFromFlags } = await import('@awskit/server');
  const serving = await serveFromFlags(
    {
      ...opts,
      ...(flags.profile ? { profile: flags.profile } : {}),
      ...(flags.region ? { region: flags.region } : {}),
      ...(flags.endpointUrl ? { endpointUrl: flags.endpointUrl } : {}),
      ...(flags.local ? { local: true } : {}),
    },
    { logger: cliLogger(flags) },
  ).catch((e: unknown) => {
    // Bad flags (including a non-loopback --host without --token) are usage errors: exit 2.
    const err = e as { code?: string; message?: string; hint?: string };
    if (err?.code === 'SERVER_INVALID_OPTIONS') throw new UsageError(err.message ?? String(e), err.hint);
    throw e;
  });
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (why: string) => {
      if (stopping) return;
      stopping = true;
      if (!flags.quiet) process.stderr.write(`\n${why}: stopping (consumers release their leases)...\n`);
      serving.stop().then(
        () => resolve(),
        (e: unknown) => {
          process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
          process.exitCode = ExitCode.Failure;
          resolve();
        },
      );
    };
    process.once('SIGINT', () => stop('interrupted'));
    process.once('SIGTERM', () => stop('terminated'));
    // Announced only once a signal is handled: whoever reads the URL may send Ctrl-C at once.
    output(
      flags,
      () =>
        [`dashboard: ${serving.url}`, ...serving.details.map((d) => `  ${d}`), '  Ctrl-C stops it.'].join(
          '\n',
        ),
      { url: serving.url, details: serving.details },
    );
  });
}

/** Declares a command's flags from `@awskit/server/flags` (the awskit-server bin reads the same list). */
function addServeOptions(cmd: Command, command: ServeCommand): Command {
  for (const f of serveFlagsFor(command, { global: false })) {
    const text = command === 'demo' ? (f.demoDescription ?? f.description) : f.description;
    const spec = `--${f.flag}${f.value ? ` ${f.value}` : ''}`;
    if (f.multiple) cmd.option(spec, text, collect);
    else cmd.option(spec, text);
  }
  return cmd;
}

/** `awskit serve` (HTTP ingest, consumer workers, dashboard) and `awskit demo` (the same on a local AWS). */
export function registerServe(program: Command): void {
  addServeOptions(
    program
      .command('serve')
      .summary('HTTP ingest into Kinesis, consumer workers and a live dashboard')
      .description(
        'Run the awskit server: HTTP ingest into Kinesis (KPL-style producer, 429 backpressure), consumer workers running your handler, /healthz, /readyz, /metrics and a live dashboard.',
      ),
    'serve',
  )
    .addHelpText(
      'after',
      `
Examples:
  $ awskit serve --demo                                   # local AWS + my-event-dev + 2 workers + load
  $ awskit serve --stream orders --profile prod --partition-key-field customerId
  $ awskit serve --stream orders --handler ./handler.js --workers 2 --initial-position TRIM_HORIZON
  $ curl -X POST localhost:8080/v1/streams/orders/records -H 'content-type: application/json' \\
      -d '[{"customerId":"c1","total":12}]'

A handler module exports \`default async function (records, ctx) {}\`; the batch is checkpointed after it resolves.
Ingest answers 202 (queued), 200 with ?wait=1 (written), 429/503 with Retry-After, 413 over the body limit.`,
    )
    .action(async (opts: ServeOpts, cmd: Command) => run(opts, globalFlags(cmd)));

  addServeOptions(
    program
      .command('demo')
      .summary('local AWS + my-event-dev + server with two workers and a demo load')
      .description(
        'The main demo: start the local AWS, apply the example declaration (my-event-dev), run the server with a demo handler, two consumer workers and a demo load, and print the dashboard URL.',
      ),
    'demo',
  )
    .addHelpText('after', '\nExamples:\n  $ awskit demo\n  $ awskit demo --port 0 --aws-port 4570 --no-load')
    .action(async (opts: ServeOpts, cmd: Command) => run({ ...opts, demo: true }, globalFlags(cmd)));
}
