import { isAwskitError } from '@awskit/core';
import type { Command } from 'commander';
import { clientOptions, cliLogger, globalFlags, output, UsageError } from '../context';

function describeExpiry(expiresAt: Date | undefined, now = Date.now()): string {
  if (!expiresAt) return 'no expiry reported';
  const ms = expiresAt.getTime() - now;
  if (ms <= 0) return `expiry reported as ${expiresAt.toISOString()}, already past (an emulator?)`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  return `token expires ${expiresAt.toISOString()} (in ${h}h${String(m).padStart(2, '0')}m)`;
}

/** `awskit ecr login | configure-helper`: Docker credentials for Amazon ECR. */
export function registerEcr(program: Command): void {
  const ecr = program
    .command('ecr')
    .description('Amazon ECR: log Docker in, or install the docker-credential-awskit helper');

  ecr
    .command('login')
    .description(
      "Get ECR tokens (account id from STS) and log Docker in with `docker login --password-stdin`,\nor write Docker's config.json when there is no docker CLI, no daemon, or --write-config.",
    )
    .option('--registry-id <id...>', 'account ids of the registries (default: your own, from STS)')
    .option('--public', 'ECR Public (public.ecr.aws; its API is in us-east-1)')
    .option(
      '--write-config',
      'write $DOCKER_CONFIG/config.json (or ~/.docker/config.json) instead of running docker login',
    )
    .option(
      '--print-password',
      'print only the password (like `aws ecr get-login-password`) and do nothing else',
    )
    .option('--docker <path>', 'docker executable (default: docker on PATH)')
    .option('--no-cache', 'neither read nor write the token cache (same as AWSKIT_ECR_DISABLE_CACHE=1)')
    .addHelpText(
      'after',
      `
The password is never put on a command line. Tokens are cached per caller (principal ARN), registry and region in
$AWSKIT_CACHE_DIR/ecr (default ~/.cache/awskit/ecr, files 0600) and refreshed at half-life (~6 h of 12 h).
Examples:
  $ awskit ecr login --region eu-west-1
  $ awskit ecr login --registry-id 123456789012 210987654321
  $ awskit ecr login --public
  $ awskit ecr login --print-password | docker login --username AWS --password-stdin 123456789012.dkr.ecr.eu-west-1.amazonaws.com
  $ DOCKER_CONFIG=/tmp/ci-docker awskit ecr login --write-config`,
    )
    .action(
      async (
        opts: {
          registryId?: string[];
          public?: boolean;
          writeConfig?: boolean;
          printPassword?: boolean;
          docker?: string;
          cache: boolean;
        },
        cmd: Command,
      ) => {
        const flags = globalFlags(cmd);
        if (opts.public && opts.registryId?.length)
          throw new UsageError(
            '--public and --registry-id cannot be combined',
            'ECR Public has a single registry.',
          );
        if (opts.printPassword && (opts.registryId?.length ?? 0) > 1)
          throw new UsageError('--print-password prints one password', 'Pass at most one --registry-id.');
        const { ecrLogin, getAuthorization } = await import('@awskit/ecr-auth');
        const logger = cliLogger(flags);
        const common = {
          ...clientOptions(flags),
          ...(opts.registryId ? { registryIds: opts.registryId } : {}),
          ...(opts.public ? { public: true } : {}),
          ...(opts.cache === false ? { cache: false as const } : {}),
          logger,
        };
        if (opts.printPassword) {
          const [auth] = await getAuthorization(common);
          process.stdout.write(`${auth!.password}\n`);
          return;
        }
        const result = await ecrLogin({
          ...common,
          method: opts.writeConfig ? 'config' : 'auto',
          ...(opts.docker ? { dockerPath: opts.docker } : {}),
        });
        for (const w of result.warnings) logger.warn(w);
        output(
          flags,
          () =>
            result.registries
              .map(
                (r) =>
                  `Login Succeeded: ${r.registry} (${r.storedBy === 'docker-login' ? 'docker login' : `written to ${r.configPath}`}${r.fromCache ? ', cached token' : ''}); ${describeExpiry(r.expiresAt)}`,
              )
              .join('\n'),
          {
            registries: result.registries.map((r) => ({ ...r, expiresAt: r.expiresAt?.toISOString() })),
            warnings: result.warnings,
          },
        );
      },
    );

  ecr
    .command('configure-helper')
    .description(
      "Route registries to docker-credential-awskit in Docker's config.json (credHelpers), keeping everything else.\nDocker then asks awskit for a fresh token on every pull/push: no docker login, no 12 h expiry.",
    )
    .option('--registry <host...>', 'registry hosts (e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com)')
    .option('--registry-id <id...>', 'account ids; hosts are built for --region')
    .option('--public', 'also public.ecr.aws')
    .option(
      '--remove-stale-auths',
      'delete auths entries for these registries left by an earlier docker login',
    )
    .addHelpText(
      'after',
      `
With no --registry/--registry-id/--public, configures your own registry (account from STS) in the resolved region.
Examples:
  $ awskit ecr configure-helper --region eu-west-1
  $ awskit ecr configure-helper --registry 123456789012.dkr.ecr.us-east-1.amazonaws.com --public
  $ echo 123456789012.dkr.ecr.us-east-1.amazonaws.com | docker-credential-awskit get   # what Docker will run`,
    )
    .action(
      async (
        opts: { registry?: string[]; registryId?: string[]; public?: boolean; removeStaleAuths?: boolean },
        cmd: Command,
      ) => {
        const flags = globalFlags(cmd);
        const { addCredentialHelpers, resolveRegistryHosts } = await import('@awskit/ecr-auth');
        const logger = cliLogger(flags);
        let hosts: string[];
        try {
          hosts = await resolveRegistryHosts({
            ...clientOptions(flags),
            ...(opts.registry ? { registries: opts.registry } : {}),
            ...(opts.registryId ? { registryIds: opts.registryId } : {}),
            ...(opts.public ? { public: true } : {}),
            logger,
          });
        } catch (e) {
          if (isAwskitError(e, 'INVALID_REGISTRY') || isAwskitError(e, 'INVALID_INPUT')) {
            const err = e as Error & { hint?: string };
            throw new UsageError(err.message, err.hint);
          }
          throw e;
        }
        const update = await addCredentialHelpers({
          registries: hosts,
          ...(opts.removeStaleAuths ? { removeStaleAuths: true } : {}),
        });
        for (const w of update.warnings) logger.warn(w);
        output(
          flags,
          () =>
            `${hosts.map((h) => `credHelpers: ${h} → docker-credential-awskit`).join('\n')}\nwritten to ${update.path}${
              update.changed.length ? '' : ' (no change)'
            }`,
          { registries: hosts, path: update.path, changed: update.changed, warnings: update.warnings },
        );
      },
    );
}
