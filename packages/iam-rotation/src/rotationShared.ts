import { access, realpath } from 'node:fs/promises';
import { isAwskitError, type Logger, maskKeyId, noopLogger, toAwskitError } from '@awskit/core';
import { createRotationSteps } from './awsSteps.js';
import { IamRotationError } from './errors.js';
import type { RotationJournal } from './journal.js';
import { acquireLock } from './lock.js';
import type {
  AccessKeyInfo,
  MfaOptions,
  ProfileOptions,
  RotateAccessKeyOptions,
  RotationStepName,
  RotationSteps,
  StaticCredentials,
} from './types.js';

/** Defaults of {@link RotateAccessKeyOptions}, merged once. */
export const ROTATE_DEFAULTS = {
  deleteOld: false,
  pruneInactive: false,
  dryRun: false,
  keepBackup: false,
  verifyAttempts: 10,
  verifyDelayMs: 3_000,
} as const;

/** The profiles a rotation edits: the target first, then those sharing its key. */
export const profilesOf = (journal: RotationJournal) => [journal.profile, ...(journal.alsoUpdates ?? [])];

export const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

/** Extracts the IAM user name from a caller ARN (`arn:aws:iam::123:user/path/alice` → `alice`). */
export function userNameFromArn(arn: string): string | undefined {
  const m = /^arn:aws[\w-]*:iam::\d{12}:user\/(?:.*\/)?([^/]+)$/.exec(arn);
  return m?.[1];
}

export function describeKey(k: AccessKeyInfo): string {
  const used = k.lastUsed?.date
    ? `last used ${k.lastUsed.date.toISOString().slice(0, 10)}${k.lastUsed.serviceName ? ` (${k.lastUsed.serviceName})` : ''}`
    : 'never used';
  return `${maskKeyId(k.accessKeyId)} (${k.status}, ${used})`;
}

/** Tags an error with the step that threw it, so failures name their step. */
export class StepFailure extends Error {
  constructor(
    readonly step: RotationStepName | 'checkFile',
    readonly original: unknown,
  ) {
    super(original instanceof Error ? original.message : String(original));
  }
}

function wrapSteps(steps: RotationSteps, logger: Logger): RotationSteps {
  const wrapped = {} as Record<string, unknown>;
  for (const name of Object.keys(steps) as RotationStepName[]) {
    const fn = steps[name] as (...a: unknown[]) => Promise<unknown>;
    wrapped[name] = async (...args: unknown[]) => {
      try {
        return await fn(...args);
      } catch (e) {
        if (e instanceof StepFailure) throw e;
        logger.debug('rotation step failed', { step: name, error: e instanceof Error ? e.name : String(e) });
        throw new StepFailure(name, e);
      }
    };
  }
  return wrapped as unknown as RotationSteps;
}

export const unwrap = (e: unknown) => (e instanceof StepFailure ? e.original : e);

export const isNoSuchEntity = (e: unknown) =>
  /^NoSuchEntity/.test((unwrap(e) as { name?: string } | undefined)?.name ?? '');

export const stepOf = (e: unknown) => (e instanceof StepFailure ? e.step : undefined);

export const messageOf = (e: unknown) => {
  const u = unwrap(e);
  return u instanceof Error ? `${u.name === 'Error' ? '' : `${u.name}: `}${u.message}` : String(u);
};

export interface Context {
  steps: RotationSteps;
  logger: Logger;
  /** Files whose `<file>.awskit-lock` guards every read–modify–write (the credentials file, the config file). */
  lockFiles: string[];
  /** Signs the IAM calls instead of the old key (an MFA session). */
  iamAuth?: StaticCredentials;
}

/** How long a rotation waits for another one to finish its edit of the same credentials file. */
const FILE_LOCK_WAIT_MS = 60_000;

/**
 * A key created more than this long before the run started is never taken for the run's own orphan, whatever the
 * local clock says (CreateDate comes from AWS's clock).
 */
export const CLOCK_SKEW_MS = 5 * 60_000;

/** The real credentials file and (if it exists) the real config file, in a fixed order so locks never deadlock. */
export async function fileLockTargets(realCredentialsFile: string, configFile: string): Promise<string[]> {
  const config = await realpath(configFile).catch(() => undefined);
  return [...new Set([realCredentialsFile, ...(config ? [config] : [])])].sort();
}

/**
 * Runs `fn` holding the per-file locks (not per profile: two rotations of different profiles of one file must not
 * interleave their read–modify–write). Waits up to {@link FILE_LOCK_WAIT_MS} for another holder.
 */
export async function withFileLocks<T>(ctx: Context, fn: () => Promise<T>): Promise<T> {
  const releases: Array<() => Promise<void>> = [];
  try {
    for (const f of ctx.lockFiles)
      releases.push(await acquireLock(`${f}.awskit-lock`, { waitMs: FILE_LOCK_WAIT_MS, pollMs: 50 }));
    return await fn();
  } finally {
    for (const release of releases.reverse()) await release().catch(() => {});
  }
}

/** True when the error says the signing key is unknown to AWS (deleted). */
export const isRejectedKey = (e: unknown) =>
  /InvalidClientTokenId|UnrecognizedClient/.test((unwrap(e) as { name?: string } | undefined)?.name ?? '');

/** Runs an IAM call with the first signer AWS accepts (a key may already be deleted by an earlier attempt). */
export async function withAnySigner<T>(
  signers: StaticCredentials[],
  call: (c: StaticCredentials) => Promise<T>,
) {
  for (const [i, signer] of signers.entries()) {
    try {
      return await call(signer);
    } catch (e) {
      if (!isRejectedKey(e) || i === signers.length - 1) throw e;
    }
  }
  throw new Error('no signer');
}

/** Credentials for IAM calls: the MFA session if there is one, else the old key. */
export const iamSigner = (ctx: Context, oldCreds: StaticCredentials) => ctx.iamAuth ?? oldCreds;

/** Gets an MFA session with the old key, if asked to. */
export async function startMfaSession(
  ctx: Context,
  mfa: MfaOptions | undefined,
  serialFromProfile: string | undefined,
  oldCreds: StaticCredentials,
): Promise<string | undefined> {
  if (!mfa) return undefined;
  const serial = mfa.serialNumber ?? serialFromProfile;
  if (!serial) {
    throw new IamRotationError(
      'IAM_ROTATION_INVALID_OPTIONS',
      'MFA was requested but no MFA device is known for this profile',
      {
        hint: 'Set mfa_serial in the profile, or pass the device ARN (--mfa-serial).',
      },
    );
  }
  const code = typeof mfa.tokenCode === 'function' ? await mfa.tokenCode() : mfa.tokenCode;
  if (!/^\d{6}$/.test(code.trim())) {
    throw new IamRotationError('IAM_ROTATION_INVALID_OPTIONS', 'The MFA code must be 6 digits');
  }
  try {
    ctx.iamAuth = await ctx.steps.getSessionToken(oldCreds, serial, code.trim(), mfa.durationSeconds ?? 900);
  } catch (e) {
    const u = unwrap(e);
    throw isAwskitError(u) ? u : toAwskitError(u, { service: 'sts', operation: 'GetSessionToken' });
  }
  ctx.logger.debug('MFA session started', { serial });
  return serial;
}

export function buildSteps(
  options: RotateAccessKeyOptions & ProfileOptions,
  profile: string,
  credentialsFile: string,
  configFile: string,
) {
  const env = {
    ...(options.env ?? process.env),
    AWS_SHARED_CREDENTIALS_FILE: credentialsFile,
    AWS_CONFIG_FILE: configFile,
  };
  const real = createRotationSteps({ clientOptions: { ...options.clientOptions, profile, env } });
  const logger = options.logger ?? noopLogger;
  return { steps: wrapSteps({ ...real, ...options.steps }, logger), logger };
}

export function validateOptions(o: RotateAccessKeyOptions): void {
  const problems: string[] = [];
  if (!Number.isInteger(o.verifyAttempts) || (o.verifyAttempts ?? 0) < 1)
    problems.push('verifyAttempts must be an integer >= 1');
  if (typeof o.verifyDelayMs !== 'number' || o.verifyDelayMs < 0) problems.push('verifyDelayMs must be >= 0');
  if (o.deleteKeyId !== undefined && !/^[A-Z0-9]{16,128}$/.test(o.deleteKeyId))
    problems.push('deleteKeyId is not an access key id');
  if (problems.length) {
    throw new IamRotationError(
      'IAM_ROTATION_INVALID_OPTIONS',
      `Invalid rotation options: ${problems.join('; ')}`,
      {
        details: { problems },
      },
    );
  }
}
