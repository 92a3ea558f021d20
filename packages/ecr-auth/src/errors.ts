import { AwskitError, CoreErrorCode, toAwskitError } from '@awskit/core';

/** Stable codes of {@link EcrAuthError}, on top of core's codes (which pass through from AWS/network failures). */
export const EcrAuthErrorCode = {
  /** The host is not an Amazon ECR / ECR Public registry (same patterns as amazon-ecr-credential-helper). */
  InvalidRegistry: 'INVALID_REGISTRY',
  /** ECR returned an authorization token that does not decode to `user:password`. */
  InvalidToken: 'INVALID_TOKEN',
  /** ECR returned no authorization data for a requested registry. */
  NoAuthorizationData: 'NO_AUTHORIZATION_DATA',
  /** An SSO session is expired or was never started (`aws sso login`). */
  SsoSessionExpired: 'SSO_SESSION_EXPIRED',
  /** Docker's config.json is not valid JSON (or not an object); it was left untouched. */
  DockerConfigInvalid: 'DOCKER_CONFIG_INVALID',
  /** `docker login` ran and failed for a reason other than an unreachable daemon/registry. */
  DockerLoginFailed: 'DOCKER_LOGIN_FAILED',
  /** `docker` was required (`mode: 'docker'`) but is not on PATH. */
  DockerNotFound: 'DOCKER_NOT_FOUND',
  /** Bad input to a function (e.g. an empty registry id). */
  InvalidInput: 'INVALID_INPUT',
} as const;
export type EcrAuthErrorCode = (typeof EcrAuthErrorCode)[keyof typeof EcrAuthErrorCode] | CoreErrorCode;

/** Base class of every error thrown by `@awskit/ecr-auth`. */
export class EcrAuthError extends AwskitError<EcrAuthErrorCode> {}

/** The host or URL given is not an ECR registry. `code` is `INVALID_REGISTRY`. */
export class InvalidRegistryError extends EcrAuthError {
  /** The input exactly as given. */
  readonly input: string;
  constructor(input: string, reason?: string) {
    super(
      EcrAuthErrorCode.InvalidRegistry,
      `"${input}" is not an Amazon ECR registry${reason ? ` (${reason})` : ''}`,
      {
        hint: 'Use <account-id>.dkr.ecr.<region>.amazonaws.com (or .amazonaws.com.cn, dkr-ecr.<region>.on.aws, ISO partitions) or public.ecr.aws.',
      },
    );
    this.input = input;
  }
}

/** Docker's config.json could not be read or parsed; nothing was written. `code` is `DOCKER_CONFIG_INVALID`. */
export class DockerConfigError extends EcrAuthError {
  constructor(path: string, reason: string, cause?: unknown) {
    super(EcrAuthErrorCode.DockerConfigInvalid, `Cannot use Docker config ${path}: ${reason}`, {
      hint: 'Fix or move the file (it was left untouched), or point DOCKER_CONFIG at another directory.',
      cause,
      details: { path },
    });
  }
}

/** `docker login` failed. `code` is `DOCKER_LOGIN_FAILED` or `DOCKER_NOT_FOUND`. */
export class DockerLoginError extends EcrAuthError {}

const SSO_PATTERN = /\bSSO\b.*(expired|invalid|not found|refresh)|sso login|Token is expired|SSO session/i;

/**
 * Turns anything thrown while resolving credentials or calling STS/ECR into an {@link EcrAuthError} with a reason a
 * user can act on (no credentials, expired SSO session, wrong region, access denied), instead of Docker's generic
 * "no basic auth credentials". The SDK error stays in `cause`.
 */
export function explainAwsError(
  e: unknown,
  ctx: { operation: string; region?: string; endpoint?: string; local?: boolean; profile?: string },
): EcrAuthError {
  if (e instanceof EcrAuthError) return e;
  const service = ctx.operation === 'GetCallerIdentity' ? 'STS' : 'ECR';
  const credentialStep = ctx.operation.startsWith('resolving');
  const base = toAwskitError(e, credentialStep ? { ...ctx } : { service, ...ctx });
  const what = credentialStep ? ctx.operation : `${service} ${ctx.operation}`;
  const message = base.message;
  const profileArg = ctx.profile ? ` --profile ${ctx.profile}` : '';
  if (SSO_PATTERN.test(message) || SSO_PATTERN.test(String((e as { message?: unknown })?.message ?? ''))) {
    return new EcrAuthError(
      EcrAuthErrorCode.SsoSessionExpired,
      `${what}: the AWS SSO session is expired or missing`,
      { hint: `Run \`aws sso login${profileArg}\` and try again.`, cause: e },
    );
  }
  // A DNS failure for AWS's own endpoint of the region (the host name contains the region) means the region does
  // not exist or has no ECR; a DNS failure of a custom endpoint is left to core's ENDPOINT_UNREACHABLE.
  const raw = String((e as { message?: unknown })?.message ?? '');
  if (
    base.code === CoreErrorCode.EndpointUnreachable &&
    !ctx.endpoint &&
    ctx.region &&
    /ENOTFOUND/.test(`${message} ${raw}`) &&
    raw.includes(`.${ctx.region}.`)
  ) {
    return new EcrAuthError(
      CoreErrorCode.WrongRegion,
      `${what}: no ${service} endpoint answers for region "${ctx.region}" (DNS lookup failed)`,
      {
        hint: 'Check the region (for the credential helper it comes from the registry host name) and your network/DNS.',
        cause: e,
      },
    );
  }
  return new EcrAuthError(base.code as EcrAuthErrorCode, message, {
    ...(base.hint !== undefined ? { hint: base.hint } : {}),
    cause: e,
  });
}
