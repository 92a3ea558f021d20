import { createHash } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { type Logger, noopLogger, writeFileAtomic } from '@awskit/core';
import type { EcrService } from './types';

/** A cached ECR token. Files hold a live registry password: they are written 0600 in a 0700 directory. */
export interface TokenCacheEntry {
  service: EcrService;
  /** Registry host. */
  registry: string;
  registryId?: string;
  region: string;
  /** sha256 of the principal ARN (so `list` can filter by caller without storing who the caller is). */
  principal: string;
  /** base64 `AWS:<password>` as ECR returned it. */
  authorizationToken: string;
  /** Epoch ms when it was requested (by the injected clock). */
  requestedAt: number;
  /** Epoch ms when ECR says it expires. */
  expiresAt: number;
}

/**
 * A cached caller identity, keyed by a hash of the endpoint and the access key id (never the key itself). The
 * principal ARN is stored only as its {@link principalHash}.
 */
export interface IdentityCacheEntry {
  /** {@link principalHash} of the principal ARN (the ARN itself is never written). */
  principal: string;
  account: string;
  /** Epoch ms after which the mapping is not trusted (the credentials' expiry, at most 12 h). */
  expiresAt: number;
}

/** Storage for tokens and identities. {@link FileTokenCache} is the default; {@link MemoryTokenCache} for tests/embedding. */
export interface TokenCache {
  getToken(key: string): Promise<TokenCacheEntry | undefined>;
  setToken(key: string, entry: TokenCacheEntry): Promise<void>;
  /** Every stored token whose `principal` matches. */
  listTokens(principal: string): Promise<TokenCacheEntry[]>;
  getIdentity(key: string): Promise<IdentityCacheEntry | undefined>;
  setIdentity(key: string, entry: IdentityCacheEntry): Promise<void>;
}

const CACHE_VERSION = 1;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** sha256 of a principal ARN, as stored in {@link TokenCacheEntry.principal}. */
export function principalHash(principalArn: string): string {
  return sha256(`awskit-ecr-principal\0${principalArn}`);
}

/**
 * The cache key of a token: a sha256 over the endpoint, the principal (hash), service, region and registry id.
 * Keyed by the principal rather than the access key (amazon-ecr-credential-helper #269), so a new session of the
 * same assumed role or SSO user hits the cache; and by the ECR endpoint, so a token from a local emulator is never
 * served for the real registry (or the reverse). Holds no key material and reveals nothing without the inputs.
 */
export function tokenCacheKey(input: {
  /** {@link principalHash} of the caller's ARN. */
  principal: string;
  service: EcrService;
  region: string;
  registryId?: string;
  /** ECR endpoint URL; `undefined` for AWS's own endpoint. */
  endpoint?: string;
}): string {
  return sha256(
    JSON.stringify([
      CACHE_VERSION,
      'token',
      input.endpoint ?? '',
      input.principal,
      input.service,
      input.region,
      input.registryId ?? '',
    ]),
  );
}

/**
 * The cache key of an identity: sha256 of the STS endpoint, the access key id and a hash of the session token. The
 * key id is not recoverable; the endpoint is part of the key because the same key answers as different principals
 * at different endpoints (a real key sent to a local emulator maps to the emulator's account).
 */
export function identityCacheKey(
  credentials: { accessKeyId: string; sessionToken?: string },
  /** STS endpoint URL; `undefined` for AWS's own endpoint. */
  endpoint?: string,
): string {
  return sha256(
    JSON.stringify([
      CACHE_VERSION,
      'identity',
      endpoint ?? '',
      credentials.accessKeyId,
      credentials.sessionToken ? sha256(credentials.sessionToken) : '',
    ]),
  );
}

/**
 * True while a token is inside the first half of its life (`now < requestedAt + (expiresAt - requestedAt) / 2`), the
 * same refresh rule as amazon-ecr-credential-helper: a 12 h token is refreshed after 6 h.
 */
export function isTokenFresh(
  entry: Pick<TokenCacheEntry, 'requestedAt' | 'expiresAt'>,
  now: number,
): boolean {
  if (!(entry.expiresAt > entry.requestedAt)) return false;
  return now < entry.requestedAt + (entry.expiresAt - entry.requestedAt) / 2;
}

const falsy = (v: string) => /^(0|false|no|off)$/i.test(v.trim());

/**
 * True when `AWSKIT_ECR_DISABLE_CACHE` (or amazon-ecr-credential-helper's `AWS_ECR_DISABLE_CACHE`, honoured so
 * existing setups carry over) is set to anything but `0`/`false`/`no`/`off`/empty.
 */
export function isCacheDisabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return [env.AWSKIT_ECR_DISABLE_CACHE, env.AWS_ECR_DISABLE_CACHE].some(
    (v) => v !== undefined && v.trim() !== '' && !falsy(v),
  );
}

/**
 * The cache directory: `$AWSKIT_CACHE_DIR/ecr` > `$XDG_CACHE_HOME/awskit/ecr` > `~/.cache/awskit/ecr`.
 */
export function resolveCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.AWSKIT_CACHE_DIR) return join(env.AWSKIT_CACHE_DIR, 'ecr');
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'awskit', 'ecr');
  return join(env.HOME || homedir(), '.cache', 'awskit', 'ecr');
}

/** Options for {@link FileTokenCache}. */
export interface FileTokenCacheOptions {
  /** Directory of the cache (created 0700). @default resolveCacheDir(process.env) */
  dir?: string;
  /** Where debug/warn lines go (never secrets). @default noopLogger */
  logger?: Logger;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function validToken(v: unknown): v is { version: number; entry: TokenCacheEntry } {
  if (!isObject(v) || v.version !== CACHE_VERSION || !isObject(v.entry)) return false;
  const e = v.entry;
  return (
    (e.service === 'ecr' || e.service === 'ecr-public') &&
    typeof e.registry === 'string' &&
    typeof e.region === 'string' &&
    typeof e.principal === 'string' &&
    typeof e.authorizationToken === 'string' &&
    typeof e.requestedAt === 'number' &&
    typeof e.expiresAt === 'number'
  );
}

function validIdentity(v: unknown): v is { version: number; entry: IdentityCacheEntry } {
  if (!isObject(v) || v.version !== CACHE_VERSION || !isObject(v.entry)) return false;
  const e = v.entry;
  // An entry of the earlier format (clear-text `arn`) fails this and is deleted on first read.
  return typeof e.principal === 'string' && typeof e.account === 'string' && typeof e.expiresAt === 'number';
}

/**
 * A token cache of one small JSON file per entry (`tokens/<key>.json`, `identities/<key>.json`), written atomically
 * (temp file + fsync + rename) with mode 0600 in 0700 directories. One file per entry means concurrent helper
 * processes never lose each other's updates; an unreadable, foreign-version or corrupt file is deleted and treated
 * as a miss.
 */
export class FileTokenCache implements TokenCache {
  /** The cache directory. */
  readonly dir: string;
  readonly #logger: Logger;
  #ready?: Promise<void>;

  constructor(options: FileTokenCacheOptions = {}) {
    this.dir = options.dir ?? resolveCacheDir();
    this.#logger = options.logger ?? noopLogger;
  }

  #ensureDirs(): Promise<void> {
    this.#ready ??= (async () => {
      for (const d of [this.dir, join(this.dir, 'tokens'), join(this.dir, 'identities')]) {
        await mkdir(d, { recursive: true, mode: 0o700 });
        // mkdir's mode only applies to directories it creates (and is narrowed by umask); force ours to 0700.
        await chmod(d, 0o700);
      }
    })();
    return this.#ready;
  }

  async #read(sub: string, key: string): Promise<unknown> {
    const file = join(this.dir, sub, `${key}.json`);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
        this.#logger.debug('ecr token cache: unreadable entry', { error: (e as Error).message });
      return undefined;
    }
    try {
      return JSON.parse(text);
    } catch {
      this.#logger.debug('ecr token cache: corrupt entry removed', { kind: sub });
      await rm(file, { force: true });
      return undefined;
    }
  }

  async #write(sub: string, key: string, entry: object): Promise<void> {
    await this.#ensureDirs();
    await writeFileAtomic(
      join(this.dir, sub, `${key}.json`),
      JSON.stringify({ version: CACHE_VERSION, entry }),
      {
        mode: 0o600,
        dirMode: 0o700,
      },
    );
  }

  async #drop(sub: string, key: string): Promise<void> {
    this.#logger.debug('ecr token cache: entry of another format removed', { kind: sub });
    await rm(join(this.dir, sub, `${key}.json`), { force: true });
  }

  async getToken(key: string): Promise<TokenCacheEntry | undefined> {
    const v = await this.#read('tokens', key);
    if (v === undefined) return undefined;
    if (!validToken(v)) return void (await this.#drop('tokens', key));
    return v.entry;
  }

  async setToken(key: string, entry: TokenCacheEntry): Promise<void> {
    await this.#write('tokens', key, entry);
  }

  async listTokens(principal: string): Promise<TokenCacheEntry[]> {
    let names: string[];
    try {
      names = await readdir(join(this.dir, 'tokens'));
    } catch {
      return [];
    }
    const out: TokenCacheEntry[] = [];
    for (const n of names.sort()) {
      if (!n.endsWith('.json') || n.startsWith('.')) continue;
      const e = await this.getToken(n.slice(0, -'.json'.length));
      if (e && e.principal === principal) out.push(e);
    }
    return out;
  }

  async getIdentity(key: string): Promise<IdentityCacheEntry | undefined> {
    const v = await this.#read('identities', key);
    if (v === undefined) return undefined;
    if (!validIdentity(v)) return void (await this.#drop('identities', key));
    return v.entry;
  }

  async setIdentity(key: string, entry: IdentityCacheEntry): Promise<void> {
    await this.#write('identities', key, entry);
  }
}

/** An in-process cache (for embedding in long-running processes, and tests). */
export class MemoryTokenCache implements TokenCache {
  readonly tokens = new Map<string, TokenCacheEntry>();
  readonly identities = new Map<string, IdentityCacheEntry>();
  async getToken(key: string) {
    return this.tokens.get(key);
  }
  async setToken(key: string, entry: TokenCacheEntry) {
    this.tokens.set(key, { ...entry });
  }
  async listTokens(principal: string) {
    return [...this.tokens.values()].filter((e) => e.principal === principal);
  }
  async getIdentity(key: string) {
    return this.identities.get(key);
  }
  async setIdentity(key: string, entry: IdentityCacheEntry) {
    this.identities.set(key, { ...entry });
  }
}

/**
 * The default cache for an environment: a {@link FileTokenCache} in {@link resolveCacheDir}, or `undefined` when
 * `AWSKIT_ECR_DISABLE_CACHE` is set.
 */
export function createDefaultTokenCache(
  env: NodeJS.ProcessEnv = process.env,
  logger: Logger = noopLogger,
): TokenCache | undefined {
  if (isCacheDisabled(env)) return undefined;
  return new FileTokenCache({ dir: resolveCacheDir(env), logger });
}
