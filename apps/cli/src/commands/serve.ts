import type { Command } from 'commander';
import { cliLogger, ExitCode, type GlobalFlags, globalFlags, output, UsageError } from '../context';

/** The part of `@awskit/server` this command uses (loaded lazily: fastify and the SDK stay out of `--help`). */
interface ServerModule {
  serveFromFlags(
    flags: Record<string, unknown>,
    options: { logger: ReturnType<typeof cliLogger> },
  ): Promise<{ url: string; details: string[]; stop(): Promise<void> }>;
}

// `@awskit/server` is private: resolved as a package when installed, else from the monorepo beside the CLI.
const SERVER_PACKAGE = '@awskit/server';
const MONOREPO_CANDIDATES = ['../../server/dist/index.js', '../../../server/dist/index.js'];

async function loadServer(): Promise<ServerModule> {
  try {
    return (await import(SERVER_PACKAGE)) as ServerModule;
  } catch (e) {
    if ((e as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw e;
    for (const rel of MONOREPO_CANDIDATES) {
      try {
        return (await import(new URL(rel, import.meta.url).href)) as ServerModule;
      } catch {}
    }
    const { AwskitError } = await import('@awskit/core');
    throw new AwskitError('SERVER_NOT_FOUND', 'The awskit server (@awskit/server) is not installed here', {
      hint: 'Run it from the awskit repository after `pnpm build`, or use the awskit-server bin of apps/server.',
    });
  }
}

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
  const { serveFromFlags } = await loadServer();
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
    if (err?.code === 'INVALID_OPTIONS') throw new UsageError(err.message ?? String(e), err.hint);
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

function addServeOptions(cmd: Command): Command {
  return cmd
    .option('--host <addr>', 'interface to bind (env AWSKIT_SERVER_HOST)', undefined)
    .option('--port <n>', 'port, 0 = any free port (env AWSKIT_SERVER_PORT; default 8080)')
    .option('--token <token>', 'require Authorization: Bearer <token> (env AWSKIT_SERVER_TOKEN)')
    .option(
      '--insecure',
      'allow a non-loopback --host without --token (anyone on the network can ingest; prints a warning)',
    );
}

/** `awskit serve` (HTTP ingest, consumer workers, dashboard) and `awskit demo` (the same on a local AWS). */
export function registerServe(program: Command): void {
  addServeOptions(
    program
      .command('serve')
      .summary('HTTP ingest into Kinesis, consumer workers and a live dashboard')
      .description(
        'Run the awskit server: HTTP ingest into Kinesis (KPL-style producer, 429 backpressure), consumer workers running your handler, /healthz, /readyz, /metrics and a live dashboard.',
      )
      .option('--stream <name>', 'stream to ingest into (repeatable; env AWSKIT_SERVER_STREAMS=a,b)', collect)
      .option('--handler <file>', 'handler module the consumer workers run (env AWSKIT_SERVER_HANDLER)')
      .option('--consume <stream>', 'stream the workers read (default: the first --stream)')
      .option('--workers <n>', 'consumer workers in this process (default 1)')
      .option(
        '--application-name <name>',
        'KCL application / lease table name (default awskit-server-<stream>)',
      )
      .option('--initial-position <pos>', 'LATEST, TRIM_HORIZON or an ISO timestamp (default LATEST)')
      .option(
        '--partition-key-field <field>',
        'event field (dot path) used as partition key (default: random)',
      )
      .option('--body-limit <bytes>', 'largest request body (default 5 MiB)'),
  )
    .option('--demo', 'start a local AWS, my-event-dev, a demo handler, two workers and a demo load')
    .option('--no-load', 'with --demo: no demo load')
    .option('--load-rate <n>', 'with --demo: average demo events per second (default 200)')
    .option('--aws-port <n>', 'with --demo: port of the local AWS (default 4566)')
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
  )
    .option('--no-load', 'no demo load')
    .option('--load-rate <n>', 'average demo events per second (default 200)')
    .option('--aws-port <n>', 'port of the local AWS (default 4566)')
    .option('--workers <n>', 'consumer workers (default 2)')
    .addHelpText('after', '\nExamples:\n  $ awskit demo\n  $ awskit demo --port 0 --aws-port 4570 --no-load')
    .action(async (opts: ServeOpts, cmd: Command) => run({ ...opts, demo: true }, globalFlags(cmd)));
}
