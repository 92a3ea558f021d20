import { dirname, join, relative, resolve } from 'node:path';
import { type ClientOptions, isAwskitError } from '@awskit/core';
import type { Command } from 'commander';
import {
  clientOptions,
  cliLogger,
  ExitCode,
  type GlobalFlags,
  globalFlags,
  output,
  UsageError,
} from '../context';

type Hooks = typeof import('@awskit/localstack-hooks');

/** Finds the declaration: --config, else awskit.local.{yaml,yml,json,mjs,js,cjs} in the current directory. */
async function declarationPath(hooks: Hooks, config: string | undefined): Promise<string> {
  if (config) return config;
  const found = await hooks.findDeclarationFile(process.cwd());
  if (!found)
    throw new UsageError(
      `no declaration found (looked for ${hooks.DECLARATION_FILE_NAMES.join(', ')} in ${process.cwd()})`,
      'Pass --config <file>, or start from the example: `awskit localstack init --example`.',
    );
  return found;
}

/**
 * Where plan/apply talk to: --endpoint-url, else AWS_ENDPOINT_URL(_<SERVICE>) from the environment, else the local
 * AWS (127.0.0.1:4566, or LOCALSTACK_HOST/LOCALSTACK_ENDPOINT). `--aws` uses the normal AWS resolution instead.
 */
function targetOptions(flags: GlobalFlags & { aws?: boolean }): ClientOptions {
  const base = clientOptions(flags);
  if (flags.aws) {
    if (flags.local || flags.endpointUrl)
      throw new UsageError('--aws cannot be combined with --local or --endpoint-url');
    return base;
  }
  const envEndpoint = Object.keys(process.env).some(
    (k) => k === 'AWS_ENDPOINT_URL' || k.startsWith('AWS_ENDPOINT_URL_'),
  );
  if (!flags.endpointUrl && !envEndpoint) return { ...base, local: true };
  return base;
}

/** Compose files `validate` checks when present (cwd first, then `init`'s default output next to the declaration). */
const COMPOSE_FILES = [
  'docker-compose.yml',
  'docker-compose.yaml',
  'compose.yml',
  'compose.yaml',
  'localstack/docker-compose.yml',
];

/** The compose files to check: --compose (must exist), else those of {@link COMPOSE_FILES} that exist. */
async function composeFiles(
  explicit: string | undefined,
  declaration: string,
): Promise<Array<{ path: string; text: string }>> {
  const { readFile } = await import('node:fs/promises');
  if (explicit) {
    try {
      return [{ path: explicit, text: await readFile(explicit, 'utf8') }];
    } catch {
      throw new UsageError(`cannot read compose file ${explicit}`, 'Check the path given to --compose.');
    }
  }
  const dirs = [...new Set([process.cwd(), dirname(resolve(declaration))])];
  const paths = [...new Set(dirs.flatMap((d) => COMPOSE_FILES.map((f) => join(d, f))))];
  const found: Array<{ path: string; text: string }> = [];
  for (const p of paths) {
    try {
      found.push({ path: relative(process.cwd(), p) || p, text: await readFile(p, 'utf8') });
    } catch {
      // not there: nothing to check
    }
  }
  return found;
}

const ACTION_MARK = { create: '+', update: '~', 'no-op': '=', blocked: '!' } as const;

function formatPlan(p: import('@awskit/localstack-hooks').Plan, heading: string): string {
  const lines = p.changes.map((c) => {
    const detail = c.action === 'blocked' ? `blocked: ${c.reason}` : c.changes.join('; ') || 'unchanged';
    return `  ${ACTION_MARK[c.action]} ${c.kind.padEnd(16)} ${c.name}  ${detail}`;
  });
  const where = [...new Set(Object.values(p.endpoints))].join(', ') || 'nothing to contact';
  const s = p.summary;
  return [
    `${heading} (${where}, region ${p.region})`,
    ...lines,
    `${s.create} to create, ${s.update} to update, ${s['no-op']} unchanged, ${s.blocked} blocked`,
  ].join('\n');
}

/** Parses `90`, `90s`, `2m`, `1500ms` into milliseconds. */
export function parseDurationMs(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new UsageError(`invalid duration "${text}"`, 'Use e.g. 90s, 2m or 1500ms.');
  const n = Number(m[1]);
  return Math.round(m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000);
}

/** `awskit localstack init | validate | plan | apply | wait`: LocalStack init hooks from one declaration. */
export function registerLocalstack(program: Command): void {
  const ls = program
    .command('localstack')
    .description(
      'LocalStack init hooks, docker-compose, plan/apply and wait-for-ready from one awskit.local.yaml',
    );

  ls.command('init')
    .description(
      'Generate init/ready.d/NN-awskit.sh (0755, LF, idempotent) and docker-compose.yml from the declaration',
    )
    .option('-c, --config <file>', 'declaration file (default: ./awskit.local.yaml, .yml, .json, .mjs, .js)')
    .option('-o, --out <dir>', 'output directory', 'localstack')
    .option('--order <nn>', 'NN prefix of the hook (hooks run in lexicographic order)', '50')
    .option('--no-compose', 'do not write docker-compose.yml')
    .option('--persistence', 'enable LocalStack persistence (PERSISTENCE=1 and a ./volume mount)')
    .option(
      '--bake',
      'copy the hooks into an image (Dockerfile.localstack, COPY --chmod=755) instead of mounting them',
    )
    .option(
      '--image <image>',
      'LocalStack image, or a tag of localstack/localstack (e.g. latest: needs LOCALSTACK_AUTH_TOKEN) (default: localstack/localstack:4.14.0, the last one without an account)',
    )
    .option('--example', 'write the example awskit.local.yaml first when there is no declaration')
    .option('-f, --force', 'replace files in the way that were not generated by awskit')
    .addHelpText(
      'after',
      `
Then: docker compose -f localstack/docker-compose.yml up -d && awskit localstack wait
  or: awskit local up --init-dir localstack/init        (no Docker)
Examples:
  $ awskit localstack init --example
  $ awskit localstack init --config awskit.local.yaml --out .localstack --persistence
  $ awskit localstack init --bake      # Windows/WSL or CI where mounted files lose their exec bit
  $ LOCALSTACK_AUTH_TOKEN=... awskit localstack init --image latest   # the current image (needs an account)
Image: since 23 March 2026 LocalStack images after 4.14.0 (and latest) need LOCALSTACK_AUTH_TOKEN; the compose
file pins 4.14.0 and passes LOCALSTACK_AUTH_TOKEN through from the shell of \`docker compose up\`.`,
    )
    .action(
      async (
        opts: {
          config?: string;
          out: string;
          order: string;
          compose: boolean;
          persistence?: boolean;
          bake?: boolean;
          image?: string;
          example?: boolean;
          force?: boolean;
        },
        cmd: Command,
      ) => {
        const flags = globalFlags(cmd);
        const order = Number(opts.order);
        if (!Number.isInteger(order) || order < 0 || order > 99)
          throw new UsageError(`--order must be 0-99, got "${opts.order}"`);
        const hooks = await import('@awskit/localstack-hooks');
        const logger = cliLogger(flags);
        let config = opts.config;
        if (opts.example && !config && !(await hooks.findDeclarationFile(process.cwd()))) {
          const { writeFile } = await import('node:fs/promises');
          await writeFile('awskit.local.yaml', hooks.EXAMPLE_DECLARATION_YAML, { flag: 'wx' });
          logger.info('wrote awskit.local.yaml (the example: stream my-event-dev, 1 shard, ap-northeast-2)');
          config = 'awskit.local.yaml';
        }
        const file = await declarationPath(hooks, config);
        const resources = await hooks.loadDeclaration(file);
        const result = await hooks.writeInitFiles({
          resources,
          outDir: opts.out,
          order,
          compose: opts.compose
            ? {
                persistence: opts.persistence ?? false,
                ...(opts.image ? { image: opts.image } : {}),
                bake: opts.bake ?? false,
              }
            : false,
          source: relative(process.cwd(), file) || file,
          overwrite: opts.force ?? false,
        });
        for (const w of result.warnings) logger.warn(w);
        output(
          flags,
          () =>
            [
              ...result.files.map(
                (f) => `${f.changed ? 'wrote    ' : 'unchanged'} ${f.path} (${f.mode.toString(8)})`,
              ),
              `init dir: ${result.initDir} (mounted at /etc/localstack/init/ready.d; or awskit local up --init-dir ${result.initDir})`,
            ].join('\n'),
          result,
        );
      },
    );

  ls.command('validate')
    .description(
      'Check the declaration (every problem with its file position and field path) and the LocalStack image of compose files',
    )
    .option('-c, --config <file>', 'declaration file')
    .option(
      '--compose <file>',
      `compose file whose LocalStack image to check (default: ${COMPOSE_FILES.join(', ')} where present)`,
    )
    .action(async (opts: { config?: string; compose?: string }, cmd: Command) => {
      const flags = globalFlags(cmd);
      const hooks = await import('@awskit/localstack-hooks');
      const file = await declarationPath(hooks, opts.config);
      const resources = await hooks.loadDeclaration(file);
      const logger = cliLogger(flags);
      const authToken = process.env.LOCALSTACK_AUTH_TOKEN;
      for (const compose of await composeFiles(opts.compose, file)) {
        for (const w of hooks.composeImageWarnings(compose.text, authToken ? { authToken } : {}))
          logger.warn(`${compose.path}: ${w}`);
      }
      output(
        flags,
        `${file}: ok (${hooks.countResources(resources)} resources in ${resources.region}; services ${hooks.servicesOf(resources).join(', ') || 'none'})`,
        resources,
      );
    });

  const target = (c: Command) =>
    c
      .option('-c, --config <file>', 'declaration file')
      .option('--aws', 'use the normal AWS resolution (profile, env) instead of defaulting to the local AWS')
      .option('--no-shard-update', 'never call UpdateShardCount; report a shard count difference as blocked');

  target(
    ls
      .command('plan')
      .description(
        'Show what apply would do per resource: + create, ~ update, = unchanged, ! blocked (read-only)',
      ),
  )
    .addHelpText(
      'after',
      `
Target: --endpoint-url, else AWS_ENDPOINT_URL, else the local AWS at 127.0.0.1:4566 (--aws: your AWS account).
Region: --region, else the declaration's region.
Examples:
  $ awskit localstack plan
  $ awskit localstack plan --aws --profile staging --json`,
    )
    .action(async (opts: { config?: string; aws?: boolean; shardUpdate: boolean }, cmd: Command) => {
      const flags = globalFlags(cmd);
      const hooks = await import('@awskit/localstack-hooks');
      const file = await declarationPath(hooks, opts.config);
      const p = await hooks.plan({
        declaration: file,
        clientOptions: targetOptions({ ...flags, ...(opts.aws ? { aws: true } : {}) }),
        allowShardCountUpdate: opts.shardUpdate,
        logger: cliLogger(flags),
      });
      output(flags, () => formatPlan(p, `plan for ${file}`), p);
    });

  target(
    ls
      .command('apply')
      .description(
        'Create/update the declared resources through the AWS SDK (no aws CLI needed); idempotent',
      ),
  )
    .option('-y, --yes', 'allow changes at a non-local endpoint (a real AWS account)')
    .addHelpText(
      'after',
      `
Exit code 3 when some resources failed or were blocked (the rest were applied).
Examples:
  $ awskit localstack apply                                   # the local AWS / LocalStack at 127.0.0.1:4566
  $ awskit localstack apply --endpoint-url http://localhost:4566
  $ awskit localstack apply --aws --profile dev --yes          # a real account: check plan first`,
    )
    .action(
      async (opts: { config?: string; aws?: boolean; shardUpdate: boolean; yes?: boolean }, cmd: Command) => {
        const flags = globalFlags(cmd);
        const hooks = await import('@awskit/localstack-hooks');
        const file = await declarationPath(hooks, opts.config);
        const logger = cliLogger(flags);
        try {
          const r = await hooks.apply({
            declaration: file,
            clientOptions: targetOptions({ ...flags, ...(opts.aws ? { aws: true } : {}) }),
            allowShardCountUpdate: opts.shardUpdate,
            allowNonLocal: opts.yes ?? false,
            logger,
          });
          output(
            flags,
            () =>
              `${formatPlan(r.plan, `applied ${file}`)}\n${r.applied.length} change${r.applied.length === 1 ? '' : 's'} made in ${r.elapsedMs} ms`,
            r,
          );
          if (r.blocked.length) process.exitCode = ExitCode.PartialFailure;
        } catch (e) {
          if (isAwskitError(e, 'APPLY_FAILED')) {
            const err = e as import('@awskit/localstack-hooks').ApplyError;
            process.stderr.write(`error: ${err.message}\n`);
            if (err.hint) process.stderr.write(`hint: ${err.hint}\n`);
            process.exitCode = err.applied.length ? ExitCode.PartialFailure : ExitCode.Failure;
            return;
          }
          throw e;
        }
      },
    );

  ls.command('wait')
    .description(
      'Wait until LocalStack (or awskit local) runs the needed services and its ready.d hooks completed',
    )
    .option(
      '-c, --config <file>',
      'take the services from this declaration (default: ./awskit.local.yaml if present)',
    )
    .option(
      '-s, --services <names>',
      'comma-separated services that must be running (overrides the declaration)',
    )
    .option('-t, --timeout <duration>', 'give up after this long (90s, 2m, 1500ms)', '60s')
    .option('--no-init', 'do not wait for the READY init stage (LocalStack without /_localstack/init)')
    .addHelpText(
      'after',
      `
Endpoint: --endpoint-url, else AWS_ENDPOINT_URL, else LOCALSTACK_HOST / LOCALSTACK_ENDPOINT, else 127.0.0.1:4566.
Fails at once when a hook ends in ERROR (naming it); on timeout says what was still missing.
Examples:
  $ docker compose up -d && awskit localstack wait --timeout 2m
  $ awskit localstack wait --services kinesis,dynamodb --endpoint-url http://localhost:4566`,
    )
    .action(
      async (opts: { config?: string; services?: string; timeout: string; init: boolean }, cmd: Command) => {
        const flags = globalFlags(cmd);
        const timeoutMs = parseDurationMs(opts.timeout);
        const hooks = await import('@awskit/localstack-hooks');
        let services: string[] = [];
        if (opts.services)
          services = opts.services
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean);
        else {
          const file = opts.config ?? (await hooks.findDeclarationFile(process.cwd()));
          if (file) services = hooks.servicesOf(await hooks.loadDeclaration(file));
        }
        const state = await hooks.waitForReady({
          ...(flags.endpointUrl ? { endpoint: flags.endpointUrl } : {}),
          services,
          timeoutMs,
          requireInit: opts.init,
          logger: cliLogger(flags),
        });
        output(
          flags,
          `ready: ${state.endpoint} after ${(state.elapsedMs / 1000).toFixed(1)}s${services.length ? ` (${services.join(', ')})` : ''}${
            state.init
              ? `; hooks: ${state.init.scripts.map((s) => `${s.name} ${s.state}`).join(', ') || 'none'}`
              : ''
          }`,
          state,
        );
      },
    );
}
