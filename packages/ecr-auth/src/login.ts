import { type GetAuthorizationOptions, getAuthorization } from './authorization';
import { findOnPath, writeDockerAuths } from './dockerConfig';
import { type DockerLoginFailureReason, runDockerLogin } from './dockerLogin';
import { DockerLoginError, EcrAuthErrorCode } from './errors';
import type { EcrAuthorization } from './types';

/** How {@link ecrLogin} stores credentials. */
export type EcrLoginMethod =
  /** `docker login` when a docker CLI is found; config.json when not, or when docker can't reach a daemon/registry. */
  | 'auto'
  /** `docker login` only; failures throw. */
  | 'docker'
  /** Write config.json directly (`--write-config`). */
  | 'config';

/** Options for {@link ecrLogin}. */
export interface EcrLoginOptions extends GetAuthorizationOptions {
  /** @default 'auto' */
  method?: EcrLoginMethod;
  /** docker executable. @default `docker` on PATH */
  dockerPath?: string;
  /** config.json to write. @default `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json` */
  dockerConfigPath?: string;
  /** Timeout of each `docker login`. @default 60_000 */
  dockerTimeoutMs?: number;
}

/** What happened for one registry. */
export interface EcrLoginRegistryResult {
  registry: string;
  serverUrl: string;
  expiresAt?: Date;
  /** True when the token came from the cache. */
  fromCache: boolean;
  /** `docker-login`: docker stored it (its credsStore if any); `config-file`: written to `configPath`. */
  storedBy: 'docker-login' | 'config-file';
  configPath?: string;
}

/** Result of {@link ecrLogin}. */
export interface EcrLoginResult {
  registries: EcrLoginRegistryResult[];
  /** Things the user should know (fallbacks, shadowing credsStore/credHelpers). Never secrets. */
  warnings: string[];
}

const FALLBACK_REASONS: DockerLoginFailureReason[] = ['daemon-unavailable', 'registry-unreachable'];

/**
 * Logs Docker in to ECR registries: gets tokens ({@link getAuthorization}) and runs `docker login --password-stdin`
 * for each, or writes config.json itself when there is no docker CLI, when docker cannot reach a daemon or the
 * registry (`method: 'auto'`), or when asked (`method: 'config'`). The password is never put in argv.
 *
 * @throws EcrAuthError from {@link getAuthorization}; DockerLoginError `DOCKER_LOGIN_FAILED` / `DOCKER_NOT_FOUND`;
 *   DockerConfigError when config.json is unreadable.
 * @example
 * const { registries, warnings } = await ecrLogin({ region: 'eu-west-1' });
 */
export async function ecrLogin(options: EcrLoginOptions = {}): Promise<EcrLoginResult> {
  const method = options.method ?? 'auto';
  const env = options.env ?? process.env;
  const auths = await getAuthorization(options);
  const warnings: string[] = [];
  const toWrite: EcrAuthorization[] = [];
  const done: EcrLoginRegistryResult[] = [];
  const base = (a: EcrAuthorization) => ({
    registry: a.registry,
    serverUrl: a.serverUrl,
    ...(a.expiresAt ? { expiresAt: a.expiresAt } : {}),
    fromCache: a.fromCache,
  });

  if (method === 'config') toWrite.push(...auths);
  else {
    const docker = options.dockerPath ?? (await findOnPath('docker', env));
    if (!docker) {
      if (method === 'docker')
        throw new DockerLoginError(EcrAuthErrorCode.DockerNotFound, 'No docker CLI found on PATH', {
          hint: 'Install Docker, pass its path, or use --write-config to write config.json directly.',
        });
      warnings.push("No docker CLI found on PATH; writing the credentials to Docker's config.json instead.");
      toWrite.push(...auths);
    } else {
      for (const a of auths) {
        const r = await runDockerLogin({
          dockerPath: docker,
          registry: a.registry,
          username: a.username,
          password: a.password,
          env,
          ...(options.dockerTimeoutMs ? { timeoutMs: options.dockerTimeoutMs } : {}),
        });
        if (r.ok) {
          done.push({ ...base(a), storedBy: 'docker-login' });
          continue;
        }
        const last = r.output.split('\n').filter(Boolean).pop() ?? `exit code ${r.exitCode}`;
        if (method === 'auto' && r.reason && FALLBACK_REASONS.includes(r.reason)) {
          warnings.push(
            r.reason === 'daemon-unavailable'
              ? `docker login needs a Docker daemon and none is reachable (${last}); writing the credentials to config.json instead.`
              : `docker login could not reach ${a.registry} (${last}); writing the credentials to config.json instead, without verifying them against the registry.`,
          );
          toWrite.push(a);
          continue;
        }
        throw new DockerLoginError(
          EcrAuthErrorCode.DockerLoginFailed,
          `docker login ${a.registry} failed: ${last}`,
          {
            hint:
              r.reason === 'rejected'
                ? 'The registry refused the token: check that the registry id and region match the registry.'
                : 'Run the docker command yourself to see more, or use --write-config to write config.json directly.',
            details: { reason: r.reason, exitCode: r.exitCode },
          },
        );
      }
    }
  }
  if (toWrite.length) {
    const update = await writeDockerAuths({
      entries: toWrite.map((a) => ({ registry: a.registry, username: a.username, password: a.password })),
      ...(options.dockerConfigPath ? { configPath: options.dockerConfigPath } : {}),
      env,
    });
    warnings.push(...update.warnings);
    for (const a of toWrite) done.push({ ...base(a), storedBy: 'config-file', configPath: update.path });
  }
  const order = new Map(auths.map((a, i) => [a.registry, i]));
  done.sort((x, y) => (order.get(x.registry) ?? 0) - (order.get(y.registry) ?? 0));
  return { registries: done, warnings };
}
