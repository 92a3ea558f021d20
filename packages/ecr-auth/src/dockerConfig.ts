import { access, constants, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { writeFileAtomic } from '@awskit/core';
import { DockerConfigError } from './errors';

/** The credential helper's name as Docker knows it (`docker-credential-<name>`). */
export const CREDENTIAL_HELPER_NAME = 'awskit';

/** A Docker config.json, loosely typed: every key we do not touch is kept as is. */
export type DockerConfig = Record<string, unknown> & {
  auths?: Record<string, Record<string, unknown>>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
};

/** `$DOCKER_CONFIG/config.json`, or `~/.docker/config.json`. */
export function resolveDockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker');
  return join(dir, 'config.json');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Reads config.json; a missing file is `{}`.
 *
 * @throws DockerConfigError (`DOCKER_CONFIG_INVALID`) when it is not a JSON object, or `auths`/`credHelpers` are not
 *   objects. Nothing is written in that case.
 */
export async function readDockerConfig(path: string): Promise<DockerConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new DockerConfigError(path, (e as Error).message, e);
  }
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new DockerConfigError(path, `not valid JSON (${(e as Error).message})`, e);
  }
  if (!isObject(parsed)) throw new DockerConfigError(path, 'the top level is not a JSON object');
  for (const k of ['auths', 'credHelpers'] as const)
    if (parsed[k] !== undefined && !isObject(parsed[k]))
      throw new DockerConfigError(path, `"${k}" is not an object`);
  return parsed as DockerConfig;
}

async function writeDockerConfig(path: string, config: DockerConfig): Promise<void> {
  // Docker itself writes config.json tab-indented with mode 0600.
  await writeFileAtomic(path, `${JSON.stringify(config, null, '\t')}\n`, { mode: 0o600, dirMode: 0o700 });
}

/** Keys Docker may have used for a registry in `auths`/`credHelpers`. */
function keysFor(host: string): string[] {
  return [host, `https://${host}`, `http://${host}`];
}

/** One registry's credentials to store in `auths`. */
export interface DockerAuthEntry {
  /** Registry host, e.g. `123456789012.dkr.ecr.us-east-1.amazonaws.com`. */
  registry: string;
  username: string;
  password: string;
}

/** Result of {@link writeDockerAuths} and {@link addCredentialHelpers}. */
export interface DockerConfigUpdate {
  /** The config.json written. */
  path: string;
  /** Registries whose entry was added or changed. */
  changed: string[];
  /** Things that will stop Docker from using what was written (credsStore, credHelpers, stale auths). */
  warnings: string[];
}

/** Options for {@link writeDockerAuths}. */
export interface WriteDockerAuthsOptions {
  entries: DockerAuthEntry[];
  /** Path of config.json. @default resolveDockerConfigPath(env) */
  configPath?: string;
  /** Environment for `DOCKER_CONFIG`/`HOME`. @default process.env */
  env?: NodeJS.ProcessEnv;
}

/**
 * Stores registry credentials in Docker's config.json the way `docker login` does without a credential store
 * (`auths[host].auth = base64(user:password)`), atomically, mode 0600, keeping every other key. Warns when a
 * `credsStore` or a `credHelpers` entry means Docker will not read what was written.
 *
 * @throws DockerConfigError when the existing file cannot be parsed (it is left untouched).
 */
export async function writeDockerAuths(options: WriteDockerAuthsOptions): Promise<DockerConfigUpdate> {
  const path = options.configPath ?? resolveDockerConfigPath(options.env);
  const config = await readDockerConfig(path);
  const auths: Record<string, Record<string, unknown>> = { ...(config.auths ?? {}) };
  const warnings: string[] = [];
  for (const e of options.entries) {
    auths[e.registry] = {
      ...(isObject(auths[e.registry]) ? auths[e.registry] : {}),
      auth: Buffer.from(`${e.username}:${e.password}`).toString('base64'),
    };
    const helper = keysFor(e.registry)
      .map((k) => config.credHelpers?.[k])
      .find(Boolean);
    if (helper)
      warnings.push(
        `credHelpers maps ${e.registry} to docker-credential-${helper}, which Docker asks instead of the auths entry written here; remove that credHelpers entry to use these credentials.`,
      );
    else if (config.credsStore)
      warnings.push(
        `credsStore "${config.credsStore}" is set in ${path}: Docker asks docker-credential-${config.credsStore} for ${e.registry} and ignores the auths entry written here. Use \`awskit ecr configure-helper\` (credHelpers take precedence over credsStore) or remove credsStore.`,
      );
  }
  await writeDockerConfig(path, { ...config, auths });
  return { path, changed: options.entries.map((e) => e.registry), warnings };
}

/** Options for {@link addCredentialHelpers}. */
export interface AddCredentialHelpersOptions {
  /** Registry hosts to route to the helper. */
  registries: string[];
  /** Helper name (`docker-credential-<name>`). @default 'awskit' */
  helperName?: string;
  /** Remove `auths` entries for these registries (left by an earlier `docker login`). @default false */
  removeStaleAuths?: boolean;
  /** Path of config.json. @default resolveDockerConfigPath(env) */
  configPath?: string;
  /** Environment (`DOCKER_CONFIG`, `HOME`, `PATH` for the helper check). @default process.env */
  env?: NodeJS.ProcessEnv;
}

/** Finds an executable on PATH (no shell). */
export async function findOnPath(
  name: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  const exts = process.platform === 'win32' ? (env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';') : [''];
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    for (const ext of exts) {
      const p = join(dir, name + ext);
      try {
        await access(p, constants.X_OK);
        return p;
      } catch {}
    }
  }
  return undefined;
}

/**
 * Adds `credHelpers` entries so Docker asks `docker-credential-<helperName>` for these registries; keeps every
 * other key. Warns about stale `auths` entries for the same hosts, about replaced helpers, and when the helper
 * binary is not on PATH (Docker would fail with "executable file not found").
 *
 * @throws DockerConfigError when the existing file cannot be parsed (it is left untouched).
 */
export async function addCredentialHelpers(
  options: AddCredentialHelpersOptions,
): Promise<DockerConfigUpdate> {
  const env = options.env ?? process.env;
  const name = options.helperName ?? CREDENTIAL_HELPER_NAME;
  const path = options.configPath ?? resolveDockerConfigPath(env);
  const config = await readDockerConfig(path);
  const credHelpers: Record<string, string> = { ...(config.credHelpers ?? {}) };
  const auths = config.auths ? { ...config.auths } : undefined;
  const warnings: string[] = [];
  const changed: string[] = [];
  for (const host of options.registries) {
    const prev = credHelpers[host];
    if (prev && prev !== name)
      warnings.push(`credHelpers for ${host} was "${prev}"; replaced with "${name}".`);
    if (prev !== name) changed.push(host);
    credHelpers[host] = name;
    for (const k of keysFor(host)) {
      if (!auths?.[k]) continue;
      if (options.removeStaleAuths) {
        delete auths[k];
        if (!changed.includes(host)) changed.push(host);
      } else if (Object.keys(auths[k]).length > 0)
        warnings.push(
          `auths has an entry for ${k} (from an earlier docker login); tools that read auths directly may use its stale token. Remove it with --remove-stale-auths or \`docker logout ${host}\`.`,
        );
    }
  }
  if (!(await findOnPath(`docker-credential-${name}`, env)))
    warnings.push(
      `docker-credential-${name} is not on PATH; Docker will fail with "executable file not found" until it is (install the awskit CLI globally).`,
    );
  await writeDockerConfig(path, { ...config, ...(auths ? { auths } : {}), credHelpers });
  return { path, changed, warnings };
}
