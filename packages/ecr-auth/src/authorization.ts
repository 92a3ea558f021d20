import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import {
  ECRPUBLICClient,
  GetAuthorizationTokenCommand as GetPublicAuthorizationTokenCommand,
} from '@aws-sdk/client-ecr-public';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import {
  type ClientOptions,
  type Clock,
  createClient,
  type Logger,
  noopLogger,
  resolveEndpoint,
  resolveServiceConfig,
  systemClock,
} from '@awskit/core';
import { EcrAuthError, EcrAuthErrorCode, explainAwsError } from './errors';
import {
  ECR_PUBLIC_HOSTS,
  ECR_PUBLIC_REGION,
  formatRegistryHost,
  parseRegistry,
  tryParseRegistry,
} from './registry';
import {
  createDefaultTokenCache,
  identityCacheKey,
  isTokenFresh,
  principalHash,
  type TokenCache,
  type TokenCacheEntry,
  tokenCacheKey,
} from './tokenCache';
import type {
  CallerIdentity,
  EcrAuthorization,
  EcrService,
  RawAuthorizationToken,
  TokenRequest,
  TokenSource,
} from './types';

/** How long an identity (access key → principal ARN) is trusted when the credentials carry no expiry. */
const IDENTITY_TTL_MS = 12 * 60 * 60 * 1000;
/** A cached token this close to its expiry is not used as a fallback when ECR fails. */
const FALLBACK_MARGIN_MS = 60 * 1000;

/** AWS resolution inputs shared by every function here (a subset of core's `ClientOptions`). */
export type EcrClientOptions = Omit<ClientOptions, 'service' | 'logger'>;

/** Options for {@link createSdkTokenSource}. */
export interface SdkTokenSourceOptions extends EcrClientOptions {
  /** Cache for the access-key → principal mapping (skips STS on a warm cache). @default none */
  cache?: TokenCache;
  /** Clock for identity expiry. @default systemClock */
  clock?: Clock;
  /** Logger (no secrets are logged). @default noopLogger */
  logger?: Logger;
  /** Extra SDK config for the ECR / ECR Public clients only (e.g. `useFipsEndpoint`), merged last. */
  ecrClientConfig?: Record<string, unknown>;
}

/** The credential shape the SDK resolves to (kept local so no @smithy/types dependency is needed). */
interface AwsCredentialIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/**
 * The endpoint URL a service's client will use (`undefined` for AWS's own), for cache keys. Resolution failures
 * are left to the real call to report.
 */
async function endpointOf(
  service: 'sts' | 'ecr' | 'ecrpublic',
  options: EcrClientOptions,
  region: string,
): Promise<string | undefined> {
  if (options.endpoint) return options.endpoint;
  return (await resolveEndpoint(service, { ...options, region }).catch(() => undefined))?.url;
}

/** The principal hash of an identity (from the cache, or computed from its ARN). */
function principalOf(identity: CallerIdentity): string {
  if (identity.principal) return identity.principal;
  if (identity.arn) return principalHash(identity.arn);
  throw new EcrAuthError(
    EcrAuthErrorCode.NoAuthorizationData,
    'The caller identity has neither an ARN nor a principal',
  );
}

function isProvider(c: NonNullable<ClientOptions['credentials']>): c is () => Promise<AwsCredentialIdentity> {
  return typeof c === 'function';
}

/**
 * The default {@link TokenSource}: resolves credentials once through `@awskit/core` (profile, env, SSO, local
 * AWS...), then calls STS GetCallerIdentity and ECR / ECR Public GetAuthorizationToken with them. With a `cache`,
 * the principal of an access key is remembered (keyed by a hash of the key id) until the credentials expire.
 */
export function createSdkTokenSource(options: SdkTokenSourceOptions = {}): TokenSource {
  const { cache, clock = systemClock, logger = noopLogger, ecrClientConfig, ...clientOptions } = options;
  let credentials: Promise<AwsCredentialIdentity> | undefined;
  let profile: string | undefined;
  const clients = new Map<string, Promise<unknown>>();

  const resolveCredentials = () => {
    credentials ??= (async () => {
      try {
        const cfg = await resolveServiceConfig('sts', {
          ...clientOptions,
          region: clientOptions.region ?? ECR_PUBLIC_REGION,
        });
        profile = cfg.profile;
        const p = cfg.credentials.provider;
        return isProvider(p) ? await p() : p;
      } catch (e) {
        const p = clientOptions.profile ?? (clientOptions.env ?? process.env).AWS_PROFILE;
        throw explainAwsError(e, { operation: 'resolving AWS credentials', ...(p ? { profile: p } : {}) });
      }
    })();
    return credentials;
  };

  // biome-ignore lint/suspicious/noExplicitAny: SDK client constructors take a service-specific config type.
  const client = <C>(Ctor: new (config: any) => C, region: string): Promise<C> => {
    const key = `${Ctor.name}:${region}`;
    let c = clients.get(key) as Promise<C> | undefined;
    if (!c) {
      const extra =
        Ctor === (STSClient as unknown) || !ecrClientConfig
          ? {}
          : { clientConfig: { ...clientOptions.clientConfig, ...ecrClientConfig } };
      c = resolveCredentials().then((creds) =>
        createClient(Ctor, { ...clientOptions, ...extra, region, credentials: creds, logger }),
      );
      clients.set(key, c);
    }
    return c;
  };

  return {
    async getCallerIdentity(): Promise<CallerIdentity> {
      const creds = await resolveCredentials();
      const region = clientOptions.region ?? ECR_PUBLIC_REGION;
      const key = cache ? identityCacheKey(creds, await endpointOf('sts', clientOptions, region)) : undefined;
      if (cache && key) {
        const hit = await cache.getIdentity(key).catch(() => undefined);
        if (hit && hit.expiresAt > clock.now()) {
          logger.debug('caller identity from cache', { account: hit.account });
          return { principal: hit.principal, account: hit.account };
        }
      }
      let out: { Arn?: string; Account?: string };
      try {
        const sts = await client(STSClient, region);
        out = await sts.send(new GetCallerIdentityCommand({}));
      } catch (e) {
        throw explainAwsError(e, { operation: 'GetCallerIdentity', region, profile });
      }
      if (!out.Arn || !out.Account)
        throw new EcrAuthError(
          EcrAuthErrorCode.NoAuthorizationData,
          'STS GetCallerIdentity returned no ARN/account',
        );
      const identity = { arn: out.Arn, account: out.Account, principal: principalHash(out.Arn) };
      logger.debug('caller identity from STS', { account: identity.account });
      if (cache && key) {
        const now = clock.now();
        const credExpiry = creds.expiration?.getTime() ?? Number.POSITIVE_INFINITY;
        await cache
          .setIdentity(key, {
            principal: identity.principal,
            account: identity.account,
            expiresAt: Math.min(credExpiry, now + IDENTITY_TTL_MS),
          })
          .catch((e: Error) => logger.warn('could not write the ECR token cache', { error: e.message }));
      }
      return identity;
    },

    async getAuthorizationTokens(request: TokenRequest): Promise<RawAuthorizationToken[]> {
      try {
        if (request.service === 'ecr-public') {
          const ecrPublic = await client(ECRPUBLICClient, ECR_PUBLIC_REGION);
          const out = await ecrPublic.send(new GetPublicAuthorizationTokenCommand({}));
          const d = out.authorizationData;
          return d?.authorizationToken
            ? [
                {
                  authorizationToken: d.authorizationToken,
                  ...(d.expiresAt ? { expiresAt: d.expiresAt } : {}),
                },
              ]
            : [];
        }
        const ecr = await client(ECRClient, request.region);
        const out = await ecr.send(
          new GetAuthorizationTokenCommand(
            request.registryIds.length ? { registryIds: request.registryIds } : {},
          ),
        );
        return (out.authorizationData ?? []).flatMap((d) =>
          d.authorizationToken
            ? [
                {
                  authorizationToken: d.authorizationToken,
                  ...(d.expiresAt ? { expiresAt: d.expiresAt } : {}),
                  ...(d.proxyEndpoint ? { proxyEndpoint: d.proxyEndpoint } : {}),
                },
              ]
            : [],
        );
      } catch (e) {
        throw explainAwsError(e, {
          operation:
            request.service === 'ecr-public' ? 'ECR Public GetAuthorizationToken' : 'GetAuthorizationToken',
          region: request.region,
          ...(clientOptions.endpoint ? { endpoint: clientOptions.endpoint } : {}),
          profile,
        });
      }
    },
  };
}

/**
 * Decodes an ECR authorization token (base64 of `user:password`, split at the first colon).
 *
 * @throws EcrAuthError `INVALID_TOKEN` when it is not of that form (the token is never echoed).
 */
export function decodeAuthorizationToken(token: string): { username: string; password: string } {
  const text = Buffer.from(token, 'base64').toString('utf8');
  const i = text.indexOf(':');
  if (i <= 0 || i === text.length - 1)
    throw new EcrAuthError(
      EcrAuthErrorCode.InvalidToken,
      'ECR returned an authorization token that is not base64 "user:password"',
      {
        hint: 'This is unexpected from AWS; check the endpoint (`awskit env`) if you point ECR at an emulator.',
      },
    );
  return { username: text.slice(0, i), password: text.slice(i + 1) };
}

/** Options for {@link getAuthorization}. */
export interface GetAuthorizationOptions extends EcrClientOptions {
  /**
   * Registry (account) ids to get tokens for. @default the caller's account, from STS GetCallerIdentity
   */
  registryIds?: string[];
  /** Get a token for ECR Public (`public.ecr.aws`, API in us-east-1) instead of private registries. @default false */
  public?: boolean;
  /**
   * Token cache, or `false` for none. @default a file cache in `$AWSKIT_CACHE_DIR/ecr` (XDG cache otherwise), none
   * when `AWSKIT_ECR_DISABLE_CACHE` is set
   */
  cache?: TokenCache | false;
  /** Clock for cache freshness. @default systemClock */
  clock?: Clock;
  /** Where tokens come from. @default {@link createSdkTokenSource} with these options */
  tokenSource?: TokenSource;
  /** Logger for cache hits/misses and fallbacks (never secrets). @default noopLogger */
  logger?: Logger;
  /** Extra SDK config for the ECR / ECR Public clients only (e.g. `useFipsEndpoint`). */
  ecrClientConfig?: Record<string, unknown>;
}

type ClientOptionsSubset = EcrClientOptions & { ecrClientConfig?: Record<string, unknown>; logger?: Logger };

/** The keys {@link clientOptionsOf} keeps, in the order they appear in its result. */
const CLIENT_OPTION_KEYS = [
  'region',
  'endpoint',
  'profile',
  'local',
  'credentials',
  'env',
  'maxAttempts',
  'clientConfig',
  'ecrClientConfig',
  'logger',
] as const satisfies readonly (keyof ClientOptionsSubset)[];

/** The AWS resolution options of a larger options object (drops ecr-auth's own keys and undefined values). */
function clientOptionsOf(o: ClientOptionsSubset): ClientOptionsSubset {
  const picked: Record<string, unknown> = {};
  for (const key of CLIENT_OPTION_KEYS) {
    const value = o[key];
    if (value !== undefined) picked[key] = value;
  }
  return picked as ClientOptionsSubset;
}

function validateRegistryIds(ids: string[]): void {
  const bad = ids.filter((id) => !/^\d{12}$/.test(id));
  if (bad.length)
    throw new EcrAuthError(
      EcrAuthErrorCode.InvalidInput,
      `Registry id${bad.length > 1 ? 's' : ''} ${bad.map((b) => `"${b}"`).join(', ')} ${bad.length > 1 ? 'are' : 'is'} not a 12-digit account id`,
      { hint: 'A registry id is the AWS account id that owns the registry, e.g. 123456789012.' },
    );
}

function toAuthorization(
  fields: Omit<EcrAuthorization, 'password' | 'username'>,
  token: string,
): EcrAuthorization {
  const { username, password } = decodeAuthorizationToken(token);
  const auth = { ...fields, username } as Omit<EcrAuthorization, 'password'>;
  // Non-enumerable: JSON.stringify, util.inspect and object spread leave the password out.
  Object.defineProperty(auth, 'password', { value: password, enumerable: false });
  return auth as EcrAuthorization;
}

interface Wanted {
  service: EcrService;
  registryId?: string;
  region: string;
  key: string;
  cached?: TokenCacheEntry;
}

async function resolveRegionOption(options: GetAuthorizationOptions): Promise<string> {
  if (options.region) return options.region;
  try {
    return (await resolveServiceConfig('ecr', options)).region.value;
  } catch (e) {
    throw explainAwsError(e, { operation: 'GetAuthorizationToken', profile: options.profile });
  }
}

/**
 * Gets Docker credentials for ECR registries: `{ registry, username: 'AWS', password, expiresAt }` per registry.
 * The account id comes from STS when `registryIds` is not given. Tokens are cached per principal ARN, registry and
 * region and refreshed at half-life; a token whose expiry is not in the future is used once and not cached. If ECR
 * fails and an unexpired cached token exists, that token is returned (and a warning logged).
 *
 * @throws EcrAuthError with `code` `CREDENTIALS_MISSING`, `SSO_SESSION_EXPIRED`, `CREDENTIALS_EXPIRED`,
 *   `CREDENTIALS_INVALID`, `ACCESS_DENIED`, `WRONG_REGION`, `REGION_MISSING`, `ENDPOINT_UNREACHABLE`,
 *   `INVALID_INPUT`, `INVALID_TOKEN`, `NO_AUTHORIZATION_DATA`.
 * @example
 * const [auth] = await getAuthorization({ region: 'eu-west-1' });
 * console.log(auth.registry, auth.expiresAt); // auth.password is there too, but never printed by console.log
 */
export async function getAuthorization(options: GetAuthorizationOptions = {}): Promise<EcrAuthorization[]> {
  const { clock = systemClock, logger = noopLogger } = options;
  const registryIds = options.registryIds ?? [];
  validateRegistryIds(registryIds);
  const cache =
    options.cache === false
      ? undefined
      : (options.cache ?? createDefaultTokenCache(options.env ?? process.env, logger));
  const region = options.public ? ECR_PUBLIC_REGION : await resolveRegionOption(options);
  const source =
    options.tokenSource ??
    createSdkTokenSource({ ...clientOptionsOf(options), region, ...(cache ? { cache } : {}), clock, logger });

  const identity = await source.getCallerIdentity().catch((e: unknown) => {
    throw explainAwsError(e, { operation: 'GetCallerIdentity', region });
  });
  const principal = principalOf(identity);
  const endpoint = options.tokenSource
    ? options.endpoint
    : await endpointOf(options.public ? 'ecrpublic' : 'ecr', clientOptionsOf(options), region);
  const ids = options.public ? [] : registryIds.length ? [...new Set(registryIds)] : [identity.account];
  const wanted: Wanted[] = options.public
    ? [
        {
          service: 'ecr-public',
          region,
          key: tokenCacheKey({ principal, service: 'ecr-public', region, ...(endpoint ? { endpoint } : {}) }),
        },
      ]
    : ids.map((registryId) => ({
        service: 'ecr' as const,
        registryId,
        region,
        key: tokenCacheKey({
          principal,
          service: 'ecr',
          region,
          registryId,
          ...(endpoint ? { endpoint } : {}),
        }),
      }));

  const results = new Map<Wanted, EcrAuthorization>();
  const now = clock.now();
  for (const w of wanted) {
    if (!cache) break;
    w.cached = await cache.getToken(w.key).catch((e: Error) => {
      logger.warn('could not read the ECR token cache', { error: e.message });
      return undefined;
    });
    if (w.cached && isTokenFresh(w.cached, now)) {
      logger.debug('ECR token from cache', {
        registry: w.cached.registry,
        expiresAt: new Date(w.cached.expiresAt).toISOString(),
      });
      results.set(w, fromEntry(w.cached));
    }
  }

  const missing = wanted.filter((w) => !results.has(w));
  if (missing.length) {
    const request: TokenRequest = options.public
      ? { service: 'ecr-public', region }
      : {
          service: 'ecr',
          region,
          // Only send the (deprecated) registryIds parameter when asking for registries other than the caller's.
          registryIds:
            missing.length === 1 && missing[0]!.registryId === identity.account
              ? []
              : missing.map((w) => w.registryId!),
        };
    let tokens: RawAuthorizationToken[];
    try {
      tokens = await source.getAuthorizationTokens(request);
    } catch (e) {
      const err = explainAwsError(e, { operation: 'GetAuthorizationToken', region });
      const usable = missing.filter((w) => w.cached && w.cached.expiresAt - FALLBACK_MARGIN_MS > clock.now());
      if (usable.length !== missing.length) throw err;
      for (const w of usable) {
        logger.warn('ECR GetAuthorizationToken failed; using the cached token, still valid', {
          registry: w.cached!.registry,
          expiresAt: new Date(w.cached!.expiresAt).toISOString(),
          code: err.code,
        });
        results.set(w, fromEntry(w.cached!));
      }
      tokens = [];
    }
    const requestedAt = clock.now();
    const writes: Promise<unknown>[] = [];
    tokens.forEach((t, i) => {
      const w = matchToken(missing, t, i, results);
      if (!w) return;
      const host = w.service === 'ecr-public' ? ECR_PUBLIC_HOSTS[0] : registryHost(t, w);
      const expiresAt = t.expiresAt?.getTime();
      const auth = toAuthorization(
        {
          service: w.service,
          registry: host,
          serverUrl: `https://${host}`,
          ...(w.registryId ? { registryId: w.registryId } : {}),
          region: w.region,
          ...(t.expiresAt ? { expiresAt: t.expiresAt } : {}),
          fromCache: false,
        },
        t.authorizationToken,
      );
      results.set(w, auth);
      if (!cache) return;
      if (expiresAt === undefined || !(expiresAt > requestedAt)) {
        // Without a future expiry we cannot know when to refresh: use the token once (moto reports 2015).
        logger.debug('ECR token has no future expiry; used once and not cached', { registry: host });
        return;
      }
      const entry: TokenCacheEntry = {
        service: w.service,
        registry: host,
        ...(w.registryId ? { registryId: w.registryId } : {}),
        region: w.region,
        principal,
        authorizationToken: t.authorizationToken,
        requestedAt,
        expiresAt,
      };
      writes.push(
        cache
          .setToken(w.key, entry)
          .catch((e: Error) => logger.warn('could not write the ECR token cache', { error: e.message })),
      );
    });
    await Promise.all(writes);
  }

  const out: EcrAuthorization[] = [];
  for (const w of wanted) {
    const a = results.get(w);
    if (!a)
      throw new EcrAuthError(
        EcrAuthErrorCode.NoAuthorizationData,
        `ECR returned no authorization data for registry ${w.registryId ?? 'public.ecr.aws'} in ${w.region}`,
        { hint: 'Check the registry id; the caller needs ecr:GetAuthorizationToken on it.' },
      );
    out.push(a);
  }
  return out;
}

function registryHost(t: RawAuthorizationToken, w: Wanted): string {
  const parsed = t.proxyEndpoint ? tryParseRegistry(t.proxyEndpoint) : undefined;
  if (parsed) return parsed.host;
  if (t.proxyEndpoint) return t.proxyEndpoint.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  return formatRegistryHost({ registryId: w.registryId!, region: w.region });
}

function matchToken(
  missing: Wanted[],
  t: RawAuthorizationToken,
  index: number,
  done: Map<Wanted, EcrAuthorization>,
): Wanted | undefined {
  const id = t.proxyEndpoint ? tryParseRegistry(t.proxyEndpoint)?.registryId : undefined;
  if (id) {
    const byId = missing.find((w) => w.registryId === id && !done.has(w));
    if (byId) return byId;
  }
  const byIndex = missing[index];
  return byIndex && !done.has(byIndex) ? byIndex : undefined;
}

function fromEntry(e: TokenCacheEntry): EcrAuthorization {
  return toAuthorization(
    {
      service: e.service,
      registry: e.registry,
      serverUrl: `https://${e.registry}`,
      ...(e.registryId ? { registryId: e.registryId } : {}),
      region: e.region,
      expiresAt: new Date(e.expiresAt),
      fromCache: true,
    },
    e.authorizationToken,
  );
}

/** Options for {@link listCachedAuthorizations}. */
export interface ListCachedAuthorizationsOptions extends EcrClientOptions {
  cache?: TokenCache | false;
  clock?: Clock;
  tokenSource?: TokenSource;
  logger?: Logger;
}

/** The caller's cached, unexpired tokens (no ECR call; one STS call unless the identity is cached). */
export async function listCachedAuthorizations(
  options: ListCachedAuthorizationsOptions = {},
): Promise<EcrAuthorization[]> {
  const { clock = systemClock, logger = noopLogger } = options;
  const cache =
    options.cache === false
      ? undefined
      : (options.cache ?? createDefaultTokenCache(options.env ?? process.env, logger));
  if (!cache) return [];
  const source =
    options.tokenSource ?? createSdkTokenSource({ ...clientOptionsOf(options), cache, clock, logger });
  const identity = await source.getCallerIdentity();
  const now = clock.now();
  return (await cache.listTokens(principalOf(identity))).filter((e) => e.expiresAt > now).map(fromEntry);
}

/** Options for {@link resolveDefaultRegistry}. */
export interface ResolveDefaultRegistryOptions extends EcrClientOptions {
  /** FIPS host. @default false */
  fips?: boolean;
  /** Dual-stack host. @default false */
  dualStack?: boolean;
  tokenSource?: TokenSource;
  logger?: Logger;
}

/**
 * The caller's own registry host in the resolved region, e.g. `123456789012.dkr.ecr.us-east-1.amazonaws.com`
 * (account id from STS).
 */
export async function resolveDefaultRegistry(options: ResolveDefaultRegistryOptions = {}): Promise<string> {
  const region = await resolveRegionOption(options);
  const source = options.tokenSource ?? createSdkTokenSource({ ...clientOptionsOf(options), region });
  const identity = await source.getCallerIdentity();
  return formatRegistryHost({
    registryId: identity.account,
    region,
    ...(options.fips ? { fips: true } : {}),
    ...(options.dualStack ? { dualStack: true } : {}),
  });
}

/** Options for {@link resolveRegistryHosts}. */
export interface ResolveRegistryHostsOptions extends ResolveDefaultRegistryOptions {
  /** Registry hosts or URLs, validated with `parseRegistry`. */
  registries?: string[];
  /** Account ids, turned into hosts in the resolved region. */
  registryIds?: string[];
  /** Include `public.ecr.aws`. */
  public?: boolean;
}

/**
 * The registry hosts a command is about: the given hosts (validated), hosts for the given account ids in the
 * resolved region, `public.ecr.aws` when asked; with none of these, the caller's own registry (STS).
 *
 * @throws InvalidRegistryError for a host that is not ECR; EcrAuthError `INVALID_INPUT` for a bad account id.
 */
export async function resolveRegistryHosts(options: ResolveRegistryHostsOptions = {}): Promise<string[]> {
  const hosts: string[] = [];
  for (const r of options.registries ?? []) hosts.push(parseRegistry(r).host);
  if (options.registryIds?.length) {
    validateRegistryIds(options.registryIds);
    const region = await resolveRegionOption(options);
    for (const id of options.registryIds)
      hosts.push(
        formatRegistryHost({
          registryId: id,
          region,
          ...(options.fips ? { fips: true } : {}),
          ...(options.dualStack ? { dualStack: true } : {}),
        }),
      );
  }
  if (options.public) hosts.push(ECR_PUBLIC_HOSTS[0]);
  if (!hosts.length) hosts.push(await resolveDefaultRegistry(options));
  return [...new Set(hosts)];
}
