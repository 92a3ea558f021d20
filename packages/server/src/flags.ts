import type { ServeFlags } from './serve.js';

/** Which command line shows a flag: `awskit serve`, `awskit demo` (the CLI) and the `awskit-server` bin. */
export type ServeCommand = 'serve' | 'demo';

/** One flag of `awskit serve` / `awskit demo` / `awskit-server`, declared once for every command line. */
export interface ServeFlagSpec {
  /** The long flag without dashes (`stream`, `no-load`). */
  readonly flag: string;
  /** The {@link ServeFlags} key it sets. */
  readonly key: keyof ServeFlags;
  /** The value placeholder (`<name>`); absent for a boolean switch. */
  readonly value?: string;
  /** May be given more than once (values collect into a list). */
  readonly multiple?: boolean;
  /** `--no-x` switch: sets `key` to `false`. */
  readonly negate?: boolean;
  /** Help text. */
  readonly description: string;
  /** Help text for `awskit demo` when it differs. */
  readonly demoDescription?: string;
  /** Commands that take it (`demo` implies the `--demo` mode of `serve`). */
  readonly commands: readonly ServeCommand[];
  /** An awskit-wide flag (`--profile`...): the CLI declares it globally, the bin declares it itself. */
  readonly global?: boolean;
}

const BOTH = ['serve', 'demo'] as const;
const SERVE = ['serve'] as const;

/**
 * Every flag of the server's command lines, in help order. The CLI (`awskit serve`, `awskit demo`) builds its
 * commander options from this list and the `awskit-server` bin its `parseArgs` options, so the three agree.
 */
export const SERVE_FLAGS: readonly ServeFlagSpec[] = [
  {
    flag: 'stream',
    key: 'stream',
    value: '<name>',
    multiple: true,
    description: 'stream to ingest into (repeatable; env AWSKIT_SERVER_STREAMS=a,b)',
    commands: SERVE,
  },
  {
    flag: 'handler',
    key: 'handler',
    value: '<file>',
    description: 'handler module the consumer workers run (env AWSKIT_SERVER_HANDLER)',
    commands: SERVE,
  },
  {
    flag: 'consume',
    key: 'consume',
    value: '<stream>',
    description: 'stream the workers read (default: the first --stream)',
    commands: SERVE,
  },
  {
    flag: 'workers',
    key: 'workers',
    value: '<n>',
    description: 'consumer workers in this process (default 1; 2 with --demo)',
    demoDescription: 'consumer workers (default 2)',
    commands: BOTH,
  },
  {
    flag: 'application-name',
    key: 'applicationName',
    value: '<name>',
    description: 'KCL application / lease table name (default awskit-server-<stream>)',
    commands: SERVE,
  },
  {
    flag: 'initial-position',
    key: 'initialPosition',
    value: '<pos>',
    description: 'LATEST, TRIM_HORIZON or an ISO timestamp (default LATEST)',
    commands: SERVE,
  },
  {
    flag: 'partition-key-field',
    key: 'partitionKeyField',
    value: '<field>',
    description: 'event field (dot path) used as partition key (default: random)',
    commands: SERVE,
  },
  {
    flag: 'body-limit',
    key: 'bodyLimit',
    value: '<bytes>',
    description: 'largest request body (default 5 MiB)',
    commands: SERVE,
  },
  {
    flag: 'host',
    key: 'host',
    value: '<addr>',
    description: 'interface to bind (env AWSKIT_SERVER_HOST; default 127.0.0.1)',
    commands: BOTH,
  },
  {
    flag: 'port',
    key: 'port',
    value: '<n>',
    description: 'port, 0 = any free port (env AWSKIT_SERVER_PORT; default 8080)',
    commands: BOTH,
  },
  {
    flag: 'token',
    key: 'token',
    value: '<token>',
    description: 'require Authorization: Bearer <token> (env AWSKIT_SERVER_TOKEN)',
    commands: BOTH,
  },
  {
    flag: 'insecure',
    key: 'insecure',
    description:
      'allow a non-loopback --host without --token (anyone on the network can ingest; prints a warning)',
    commands: BOTH,
  },
  {
    flag: 'demo',
    key: 'demo',
    description: 'start a local AWS, my-event-dev, a demo handler, two workers and a demo load',
    commands: SERVE,
  },
  {
    flag: 'no-load',
    key: 'load',
    negate: true,
    description: 'with --demo: no demo load',
    demoDescription: 'no demo load',
    commands: BOTH,
  },
  {
    flag: 'load-rate',
    key: 'loadRate',
    value: '<n>',
    description: 'with --demo: average demo events per second (default 200)',
    demoDescription: 'average demo events per second (default 200)',
    commands: BOTH,
  },
  {
    flag: 'aws-port',
    key: 'awsPort',
    value: '<n>',
    description: 'with --demo: port of the local AWS (default 4566)',
    demoDescription: 'port of the local AWS (default 4566)',
    commands: BOTH,
  },
  {
    flag: 'profile',
    key: 'profile',
    value: '<name>',
    description: 'shared config profile',
    commands: SERVE,
    global: true,
  },
  {
    flag: 'region',
    key: 'region',
    value: '<region>',
    description: 'AWS region',
    commands: SERVE,
    global: true,
  },
  {
    flag: 'endpoint-url',
    key: 'endpointUrl',
    value: '<url>',
    description: 'AWS endpoint for every service',
    commands: SERVE,
    global: true,
  },
  {
    flag: 'local',
    key: 'local',
    description: 'use the local AWS (http://127.0.0.1:4566)',
    commands: SERVE,
    global: true,
  },
];

/** The flags of one command, optionally without the awskit-wide ones. */
export function serveFlagsFor(
  command: ServeCommand,
  { global = true }: { global?: boolean } = {},
): ServeFlagSpec[] {
  return SERVE_FLAGS.filter((f) => f.commands.includes(command) && (global || !f.global));
}

/** `node:util` `parseArgs` options for the flags of `serve` (as the `awskit-server` bin takes them). */
export function serveParseArgsOptions(): Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> {
  const out: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {};
  for (const f of serveFlagsFor('serve'))
    out[f.flag] = { type: f.value ? 'string' : 'boolean', ...(f.multiple ? { multiple: true } : {}) };
  return out;
}

/** Turns `parseArgs` values (keyed by flag) into {@link ServeFlags}. */
export function serveFlagsFromValues(values: Record<string, unknown>): ServeFlags {
  const out: Record<string, unknown> = {};
  for (const f of serveFlagsFor('serve')) {
    const v = values[f.flag];
    if (v === undefined || v === false) continue;
    out[f.key] = f.negate ? false : v;
  }
  return out as ServeFlags;
}

/** Help lines (`  --stream <name>   stream to ...`) for a command's flags. */
export function serveFlagsHelp(command: ServeCommand): string {
  const flags = serveFlagsFor(command);
  const left = flags.map((f) => `--${f.flag}${f.value ? ` ${f.value}` : ''}`);
  const width = Math.max(...left.map((l) => l.length)) + 2;
  return flags
    .map((f, i) => {
      const text = command === 'demo' ? (f.demoDescription ?? f.description) : f.description;
      return `  ${left[i]!.padEnd(width)}${text}`;
    })
    .join('\n');
}
