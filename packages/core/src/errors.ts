import { isLocalEndpoint } from './localEndpoint';

/**
 * Stable error codes shared by every awskit package. Packages add their own codes on top (a string union), but the
 * codes here are the ones `toAwskitError` produces from AWS SDK and network failures.
 */
export const CoreErrorCode = {
  LocalEndpointUnreachable: 'LOCAL_ENDPOINT_UNREACHABLE',
  EndpointUnreachable: 'ENDPOINT_UNREACHABLE',
  ResourceNotFound: 'RESOURCE_NOT_FOUND',
  CredentialsMissing: 'CREDENTIALS_MISSING',
  CredentialsExpired: 'CREDENTIALS_EXPIRED',
  CredentialsInvalid: 'CREDENTIALS_INVALID',
  AccessDenied: 'ACCESS_DENIED',
  WrongRegion: 'WRONG_REGION',
  RegionMissing: 'REGION_MISSING',
  Throttled: 'THROTTLED',
  InvalidEndpoint: 'INVALID_ENDPOINT',
  InvalidConfig: 'INVALID_CONFIG',
  ProfileNotFound: 'PROFILE_NOT_FOUND',
  Aborted: 'ABORTED',
  Unknown: 'UNKNOWN',
} as const;
export type CoreErrorCode = (typeof CoreErrorCode)[keyof typeof CoreErrorCode];

/** Options for {@link AwskitError}. */
export interface AwskitErrorOptions {
  /** What the user should do about it, in one or two sentences. */
  hint?: string;
  /** The underlying error (usually the AWS SDK's). */
  cause?: unknown;
  /** Extra structured facts (never secrets). */
  details?: Record<string, unknown>;
}

/**
 * The base class of every error awskit throws on purpose: a stable `code` to branch on, a human `message`, and a
 * `hint` saying what to do. Each package derives its own base with its own code union and no constructor:
 * `class KinesisConsumerError extends AwskitError<KinesisConsumerErrorCode> {}`. Code values are unique across
 * packages (core's are unprefixed; a package's new codes start with its name, e.g. `KINESIS_CONSUMER_`).
 *
 * @example
 * throw new AwskitError('STREAM_NOT_FOUND', 'Stream "orders" does not exist in us-east-1', { hint: 'Create it first' });
 */
export class AwskitError<C extends string = string> extends Error {
  /** Marker used by {@link isAwskitError} so errors from a duplicate install of core still match. */
  readonly isAwskitError = true;
  readonly code: C;
  readonly hint?: string;
  readonly details?: Record<string, unknown>;

  constructor(code: C, message: string, options: AwskitErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    if (options.hint !== undefined) this.hint = options.hint;
    if (options.details !== undefined) this.details = options.details;
  }
}

/**
 * True when `e` is an awskit error (optionally with the given code). Matches on the `isAwskitError` marker and
 * `code` as well as `instanceof`, so two copies of `@awskit/core` in one process still agree.
 */
export function isAwskitError(e: unknown, code?: string): e is AwskitError {
  if (!e || typeof e !== 'object') return false;
  const marked = e instanceof AwskitError || (e as { isAwskitError?: unknown }).isAwskitError === true;
  return marked && (code === undefined || (e as { code?: unknown }).code === code);
}

/** What was being done when an error happened; used to write a precise message. */
export interface ErrorContext {
  service?: string;
  endpoint?: string;
  /** Whether the endpoint is a local emulator (changes the hints). @default inferred from `endpoint` */
  local?: boolean;
  region?: string;
  /** The resource involved, e.g. `stream "orders"` or `table "app"`. */
  resource?: string;
  /** The operation, e.g. `PutRecords`. */
  operation?: string;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
]);

function errorName(e: unknown): string {
  if (!e || typeof e !== 'object') return '';
  const o = e as { name?: unknown; Code?: unknown; code?: unknown; __type?: unknown };
  for (const v of [o.name, o.Code, o.__type])
    if (typeof v === 'string' && v !== 'Error') return v.split('#').pop()!;
  return typeof o.code === 'string' ? o.code : '';
}

function networkCode(e: unknown, depth = 0): string | undefined {
  if (!e || typeof e !== 'object' || depth > 4) return undefined;
  const o = e as { code?: unknown; cause?: unknown; errors?: unknown; name?: unknown; message?: unknown };
  if (typeof o.code === 'string' && NETWORK_CODES.has(o.code)) return o.code;
  // NodeHttpHandler's connectionTimeout (set by createClient for local endpoints) rejects without a code.
  if (o.name === 'TimeoutError' && typeof o.message === 'string' && /establish a connection/.test(o.message))
    return 'ETIMEDOUT';
  if (Array.isArray(o.errors))
    for (const x of o.errors) if (networkCode(x, depth + 1)) return networkCode(x, depth + 1);
  return networkCode(o.cause, depth + 1);
}

function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (e && typeof e === 'object' && typeof (e as { message?: unknown }).message === 'string')
    return (e as { message: string }).message;
  return String(e);
}

/**
 * Turns any thrown value (AWS SDK error, network error, anything) into an {@link AwskitError} whose message says
 * what went wrong and whose hint says what to do. AwskitErrors pass through unchanged.
 */
export function toAwskitError(e: unknown, context: ErrorContext = {}): AwskitError {
  if (isAwskitError(e)) return e;
  const ctx: ErrorContext = { ...context, local: context.local ?? isLocalEndpoint(context.endpoint) };
  const name = errorName(e);
  const msg = messageOf(e);
  const where = [ctx.service, ctx.operation].filter(Boolean).join(' ');
  const prefix = where ? `${where}: ` : '';
  const region = ctx.region ? ` in region ${ctx.region}` : '';
  const make = (code: CoreErrorCode, message: string, hint: string) =>
    new AwskitError(code, message, { hint, cause: e, details: { awsErrorName: name || undefined, ...ctx } });

  if (name === 'AbortError')
    return make(CoreErrorCode.Aborted, `${prefix}aborted`, 'The operation was cancelled.');
  const net = networkCode(e);
  if (net) {
    const at = ctx.endpoint ? ` at ${ctx.endpoint}` : '';
    if (ctx.local)
      return make(
        CoreErrorCode.LocalEndpointUnreachable,
        `${prefix}cannot reach the local AWS endpoint${at} (${net})`,
        'Start it with `awskit local up` (or start LocalStack), or unset AWSKIT_LOCAL / AWS_ENDPOINT_URL to use real AWS.',
      );
    return make(
      CoreErrorCode.EndpointUnreachable,
      `${prefix}cannot reach the AWS endpoint${at} (${net})`,
      'Check your network, proxy settings and the endpoint URL (`awskit env` shows where it came from).',
    );
  }
  switch (name) {
    case 'ResourceNotFoundException':
    case 'NoSuchEntity':
    case 'NoSuchEntityException':
    case 'RepositoryNotFoundException':
      return make(
        CoreErrorCode.ResourceNotFound,
        `${prefix}${ctx.resource ?? 'resource'} not found${region}: ${msg}`,
        `Check the name and the region${ctx.local ? ', and create it in the local AWS (an init hook or `awskit localstack apply`)' : ''}; \`awskit env\` shows which region and endpoint are used.`,
      );
    case 'ExpiredToken':
    case 'ExpiredTokenException':
    case 'RequestExpired':
    case 'TokenRefreshRequired':
      return make(
        CoreErrorCode.CredentialsExpired,
        `${prefix}your AWS credentials have expired: ${msg}`,
        'Refresh them (`aws sso login`, re-assume the role, or get new session credentials) and try again.',
      );
    case 'InvalidClientTokenId':
    case 'UnrecognizedClientException':
    case 'SignatureDoesNotMatch':
    case 'InvalidSignatureException':
    case 'IncompleteSignature':
    case 'AuthFailure':
      if (/region/i.test(msg) && /scope|valid region|wrong/i.test(msg))
        return make(
          CoreErrorCode.WrongRegion,
          `${prefix}request signed for the wrong region${region}: ${msg}`,
          'Set the region with --region, AWS_REGION or the profile; `awskit env` shows the resolved region.',
        );
      return make(
        CoreErrorCode.CredentialsInvalid,
        `${prefix}AWS rejected the credentials (${name}): ${msg}`,
        'Check the access key and secret of the profile in use (`awskit env` shows which); a deleted or mistyped key gives this.',
      );
    case 'CredentialsProviderError':
      return make(
        CoreErrorCode.CredentialsMissing,
        `${prefix}no AWS credentials found: ${msg}`,
        'Run `aws configure`, set AWS_PROFILE, or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY. For the local AWS use --local.',
      );
    case 'AccessDenied':
    case 'AccessDeniedException':
    case 'UnauthorizedOperation':
    case 'NotAuthorized':
      return make(
        CoreErrorCode.AccessDenied,
        `${prefix}access denied: ${msg}`,
        'The identity in use lacks a permission for this call; grant it in IAM or use another profile.',
      );
    case 'ThrottlingException':
    case 'Throttling':
    case 'ProvisionedThroughputExceededException':
    case 'LimitExceededException':
    case 'RequestLimitExceeded':
      return make(CoreErrorCode.Throttled, `${prefix}throttled by AWS: ${msg}`, 'Slow down or retry later.');
  }
  if (/Region is missing/i.test(msg))
    return make(
      CoreErrorCode.RegionMissing,
      `${prefix}no AWS region configured`,
      'Pass --region, set AWS_REGION, or add `region = ...` to your profile in ~/.aws/config.',
    );
  return make(CoreErrorCode.Unknown, `${prefix}${msg}`, 'See the cause for details.');
}
