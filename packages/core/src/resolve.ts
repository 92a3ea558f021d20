import { homedir } from 'node:os';
import { join } from 'node:path';
import { fromIni, fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { loadSharedConfigFiles } from '@smithy/shared-ini-file-loader';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { AwskitError, CoreErrorCode } from './errors';
import { isLocalEndpoint } from './localEndpoint';
import { SERVICES, type ServiceId } from './services';

/** Where an endpoint came from, in precedence order. */
export const EndpointSource = {
  Option: 'option',
  ServiceEnv: 'env:AWS_ENDPOINT_URL_<SERVICE>',
  GlobalEnv: 'env:AWS_ENDPOINT_URL',
  ProfileServices: 'profile:services',
  ProfileEndpoint: 'profile:endpoint_url',
  Local: 'local',
  Aws: 'aws',
} as const;
export type EndpointSource = (typeof EndpointSource)[keyof typeof EndpointSource];

/** Default endpoint of the awskit local AWS and LocalStack. */
export const DEFAULT_LOCAL_ENDPOINT = 'http://127.0.0.1:4566';
/** Region used against local endpoints when none is configured. */
export const DEFAULT_LOCAL_REGION = 'us-east-1';
/** Dummy credentials accepted by LocalStack, moto and the awskit local AWS. Never used for real AWS. */
export const LOCAL_CREDENTIALS: AwsCredentialIdentity = Object.freeze({
  accessKeyId: 'test',
  secretAccessKey: 'test',
});

/** Inputs to resolution; every field is optional and beats what the environment says. */
export interface ResolveOptions {
  /** AWS region. @default from AWS_REGION, AWS_DEFAULT_REGION, the profile, or `us-east-1` for local endpoints */
  region?: string;
  /** Endpoint URL for this service. @default resolved (see {@link resolveServiceConfig}) */
  endpoint?: string;
  /** Shared config/credentials profile. @default AWS_PROFILE, then `default` */
  profile?: string;
  /** Force the local AWS (same as `AWSKIT_LOCAL=1`). */
  local?: boolean;
  /** Explicit credentials or provider; beats everything else. */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Environment to read instead of `process.env` (tests). */
  env?: NodeJS.ProcessEnv;
}

export interface ResolvedEndpoint {
  /** The URL, or undefined for the SDK's own AWS endpoint. */
  url?: string;
  source: EndpointSource;
  /** True for loopback/LocalStack/plain-HTTP endpoints: dummy credentials and HTTP/1.1 apply. */
  local: boolean;
  /** Why this endpoint was chosen, for `awskit env`. */
  reason: string;
}

export interface ResolvedRegion {
  value: string;
  /** `service-default`: a global service (IAM, ECR Public) that signs in one region whatever is configured. */
  source:
    | 'option'
    | 'env:AWS_REGION'
    | 'env:AWS_DEFAULT_REGION'
    | 'profile'
    | 'local-default'
    | 'service-default';
}

export type CredentialSource = 'option' | 'env' | `profile:${string}` | 'default-chain' | 'local-dummy';

export interface ResolvedCredentials {
  source: CredentialSource;
  /** Why, for `awskit env`. */
  reason: string;
  provider: AwsCredentialIdentity | AwsCredentialIdentityProvider;
}

export interface ResolvedServiceConfig {
  service: ServiceId;
  profile: string;
  endpoint: ResolvedEndpoint;
  region: ResolvedRegion;
  credentials: ResolvedCredentials;
}

type Section = Record<string, string | undefined>;
interface SharedFiles {
  configFile: Record<string, Section>;
  credentialsFile: Record<string, Section>;
}

function filePaths(env: NodeJS.ProcessEnv) {
  const home = env.HOME || env.USERPROFILE || homedir();
  return {
    configFilepath: env.AWS_CONFIG_FILE || join(home, '.aws', 'config'),
    filepath: env.AWS_SHARED_CREDENTIALS_FILE || join(home, '.aws', 'credentials'),
  };
}

/** Reads the shared config and credentials files through the SDK's own loader (no cache, so edits are seen). */
export async function loadSharedFiles(env: NodeJS.ProcessEnv = process.env): Promise<SharedFiles> {
  const files = await loadSharedConfigFiles({ ...filePaths(env), ignoreCache: true });
  return files as unknown as SharedFiles;
}

const truthy = (v: string | undefined) => v !== undefined && /^(1|true|yes|on)$/i.test(v.trim());

function validateUrl(url: string, source: string): string {
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
    return url.replace(/\/+$/, '');
  } catch {
    throw new AwskitError(CoreErrorCode.InvalidEndpoint, `Invalid endpoint URL "${url}" (from ${source})`, {
      hint: 'Use a full URL such as http://127.0.0.1:4566 or https://kinesis.us-east-1.amazonaws.com.',
    });
  }
}

/** The local stack endpoint implied by the environment, if any (`AWSKIT_LOCAL`, `LOCALSTACK_ENDPOINT`, `LOCALSTACK_HOST`). */
export function localEndpointFromEnv(
  env: NodeJS.ProcessEnv,
  force = false,
): { url: string; reason: string } | undefined {
  if (env.AWSKIT_LOCAL_ENDPOINT && (force || truthy(env.AWSKIT_LOCAL)))
    return {
      url: validateUrl(env.AWSKIT_LOCAL_ENDPOINT, 'AWSKIT_LOCAL_ENDPOINT'),
      reason: 'AWSKIT_LOCAL_ENDPOINT',
    };
  if (env.LOCALSTACK_ENDPOINT)
    return {
      url: validateUrl(env.LOCALSTACK_ENDPOINT, 'LOCALSTACK_ENDPOINT'),
      reason: 'LOCALSTACK_ENDPOINT',
    };
  if (env.LOCALSTACK_HOST) {
    const host = env.LOCALSTACK_HOST.includes(':') ? env.LOCALSTACK_HOST : `${env.LOCALSTACK_HOST}:4566`;
    return { url: validateUrl(`http://${host}`, 'LOCALSTACK_HOST'), reason: 'LOCALSTACK_HOST' };
  }
  if (force || truthy(env.AWSKIT_LOCAL))
    return { url: DEFAULT_LOCAL_ENDPOINT, reason: force ? 'local option' : 'AWSKIT_LOCAL=1' };
  return undefined;
}

function profileName(opts: ResolveOptions, env: NodeJS.ProcessEnv): string {
  return opts.profile || env.AWS_PROFILE || 'default';
}

/**
 * Resolves the endpoint for one service. Precedence: `endpoint` option > `local: true` option (an option, so it
 * beats the environment) > `AWS_ENDPOINT_URL_<SERVICE>` > `AWS_ENDPOINT_URL` > the profile's `services` section >
 * the profile's `endpoint_url` > the local stack (`AWSKIT_LOCAL=1`, `LOCALSTACK_ENDPOINT`, `LOCALSTACK_HOST`) > AWS.
 * `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` (or the profile's `ignore_configured_endpoint_urls`) switches off the env
 * and profile sources, as in the SDKs.
 */
export async function resolveEndpoint(
  service: ServiceId,
  opts: ResolveOptions = {},
  files?: SharedFiles,
): Promise<ResolvedEndpoint> {
  const env = opts.env ?? process.env;
  const info = SERVICES[service];
  const mk = (url: string, source: EndpointSource, reason: string): ResolvedEndpoint => ({
    url: validateUrl(url, reason),
    source,
    local: source === EndpointSource.Local || isLocalEndpoint(url),
    reason,
  });
  if (opts.endpoint) return mk(opts.endpoint, EndpointSource.Option, 'endpoint option');
  if (opts.local) {
    const l = localEndpointFromEnv(env, true)!;
    return { url: l.url, source: EndpointSource.Local, local: true, reason: l.reason };
  }
  const f = files ?? (await loadSharedFiles(env));
  const name = profileName(opts, env);
  const profile = f.configFile[name];
  // As in the SDKs: the env variable, when set, wins over the profile's `ignore_configured_endpoint_urls`.
  const ignoreConfigured = env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS
    ? truthy(env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS)
    : truthy(profile?.ignore_configured_endpoint_urls);
  if (!ignoreConfigured) {
    const serviceVar = `AWS_ENDPOINT_URL_${info.envSuffix}`;
    if (env[serviceVar]) return mk(env[serviceVar]!, EndpointSource.ServiceEnv, serviceVar);
    if (env.AWS_ENDPOINT_URL) return mk(env.AWS_ENDPOINT_URL, EndpointSource.GlobalEnv, 'AWS_ENDPOINT_URL');
    if (profile?.services) {
      const section = f.configFile[`services.${profile.services}`];
      // The SDKs fail here too; falling through could send a "local" profile's calls to real AWS.
      if (!section)
        throw new AwskitError(
          CoreErrorCode.InvalidConfig,
          `Profile ${name} uses services section "${profile.services}", which is not in ${filePaths(env).configFilepath}`,
          { hint: `Add a [services ${profile.services}] section or fix the profile's \`services\` setting.` },
        );
      const url = section[`${info.configKey}.endpoint_url`];
      if (url)
        return mk(
          url,
          EndpointSource.ProfileServices,
          `[services ${profile.services}] ${info.configKey}.endpoint_url (profile ${name})`,
        );
    }
    if (profile?.endpoint_url)
      return mk(profile.endpoint_url, EndpointSource.ProfileEndpoint, `endpoint_url of profile ${name}`);
  }
  const l = localEndpointFromEnv(env);
  if (l) return { url: l.url, source: EndpointSource.Local, local: true, reason: l.reason };
  return {
    source: EndpointSource.Aws,
    local: false,
    reason: 'no override: the SDK picks the AWS endpoint for the region',
  };
}

/**
 * Resolves the region: option > AWS_REGION > AWS_DEFAULT_REGION > profile > `us-east-1` for local endpoints.
 * (`resolveServiceConfig` also falls back to the signing region of global services such as IAM.)
 */
export async function resolveRegion(
  opts: ResolveOptions = {},
  local = false,
  files?: SharedFiles,
): Promise<ResolvedRegion | undefined> {
  const env = opts.env ?? process.env;
  if (opts.region) return { value: opts.region, source: 'option' };
  if (env.AWS_REGION) return { value: env.AWS_REGION, source: 'env:AWS_REGION' };
  if (env.AWS_DEFAULT_REGION) return { value: env.AWS_DEFAULT_REGION, source: 'env:AWS_DEFAULT_REGION' };
  const f = files ?? (await loadSharedFiles(env));
  const region = f.configFile[profileName(opts, env)]?.region;
  if (region) return { value: region, source: 'profile' };
  if (local) return { value: DEFAULT_LOCAL_REGION, source: 'local-default' };
  return undefined;
}

/**
 * Resolves credentials: option > `profile` option (shared files) > env keys > the AWS_PROFILE or default profile
 * when it holds credential settings (keys, role, SSO, process, web identity) > the SDK default chain (SSO, process,
 * web identity, container and instance metadata). Local endpoints with nothing configured get the dummy
 * `test`/`test` pair instead of the default chain; real AWS never does.
 */
export async function resolveCredentials(
  opts: ResolveOptions = {},
  local = false,
  files?: SharedFiles,
): Promise<ResolvedCredentials> {
  const env = opts.env ?? process.env;
  if (opts.credentials)
    return {
      source: 'option',
      reason: 'credentials option',
      // The SDK tags credential objects in place; copy so frozen or shared objects survive that.
      provider: typeof opts.credentials === 'function' ? opts.credentials : { ...opts.credentials },
    };
  const paths = filePaths(env);
  const f = files ?? (await loadSharedFiles(env));
  const explicitProfile = opts.profile;
  if (explicitProfile) {
    if (!f.configFile[explicitProfile] && !f.credentialsFile[explicitProfile])
      throw new AwskitError(
        CoreErrorCode.ProfileNotFound,
        `Profile "${explicitProfile}" not found in ${paths.configFilepath} or ${paths.filepath}`,
        {
          hint: 'Check the name (`aws configure list-profiles`) or create it with `aws configure --profile NAME`.',
        },
      );
    return {
      source: `profile:${explicitProfile}`,
      reason: `profile option "${explicitProfile}"`,
      provider: fromIni({ profile: explicitProfile, ...paths, ignoreCache: true }),
    };
  }
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    const creds: AwsCredentialIdentity = {
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    };
    return { source: 'env', reason: 'AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY', provider: creds };
  }
  const name = profileName(opts, env);
  // A profile that only sets `region` (common on dev machines and EC2) must not pin fromIni, which would fail on
  // the first call instead of falling back to the dummy pair (local) or instance/container credentials (AWS).
  if (hasCredentialSettings(f.credentialsFile[name]) || hasCredentialSettings(f.configFile[name]))
    return {
      source: `profile:${name}`,
      reason: env.AWS_PROFILE ? `AWS_PROFILE=${name}` : 'default profile',
      provider: fromIni({ profile: name, ...paths, ignoreCache: true }),
    };
  if (local)
    return {
      source: 'local-dummy',
      reason: 'local endpoint with no credentials configured',
      // A copy: the SDK records `$source` on the credentials object it is given, which throws on a frozen one.
      provider: { ...LOCAL_CREDENTIALS },
    };
  return {
    source: 'default-chain',
    reason: 'SDK default provider chain',
    provider: fromNodeProviderChain({ ...paths, ...(env.AWS_PROFILE ? { profile: env.AWS_PROFILE } : {}) }),
  };
}

/** Profile keys from which the SDK's ini provider can produce credentials. */
const CREDENTIAL_SETTINGS = [
  'aws_access_key_id',
  'role_arn',
  'credential_process',
  'sso_session',
  'sso_start_url',
  'web_identity_token_file',
  'login_session',
];

function hasCredentialSettings(section: Section | undefined): boolean {
  return section !== undefined && CREDENTIAL_SETTINGS.some((k) => Boolean(section[k]));
}

/**
 * Resolves endpoint, region and credentials for one service in one pass, reading the shared files once.
 *
 * @throws AwskitError `REGION_MISSING` when no region is configured for real AWS, `INVALID_ENDPOINT`,
 *   `PROFILE_NOT_FOUND`.
 * @example
 * const cfg = await resolveServiceConfig('kinesis', { profile: 'dev' });
 * console.log(cfg.endpoint.url ?? 'AWS', cfg.endpoint.reason);
 */
export async function resolveServiceConfig(
  service: ServiceId,
  opts: ResolveOptions = {},
): Promise<ResolvedServiceConfig> {
  const env = opts.env ?? process.env;
  const files = await loadSharedFiles(env);
  const endpoint = await resolveEndpoint(service, opts, files);
  const signingRegion = SERVICES[service].signingRegion;
  const region =
    (await resolveRegion(opts, endpoint.local, files)) ??
    (signingRegion ? { value: signingRegion, source: 'service-default' as const } : undefined);
  if (!region)
    throw new AwskitError(CoreErrorCode.RegionMissing, `No AWS region configured for ${service}`, {
      hint: 'Pass --region, set AWS_REGION, or add `region = ...` to your profile in ~/.aws/config.',
    });
  const credentials = await resolveCredentials(opts, endpoint.local, files);
  return { service, profile: profileName(opts, env), endpoint, region, credentials };
}
