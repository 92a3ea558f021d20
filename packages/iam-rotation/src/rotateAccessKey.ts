import { access, realpath } from 'node:fs/promises';
import { isAwskitError, type Logger, maskKeyId, noopLogger, systemClock, toAwskitError } from '@awskit/core';
import { loadSharedConfigFiles } from '@smithy/shared-ini-file-loader';
import { createRotationSteps } from './awsSteps.js';
import { readProfileKeys, replaceKeysInProfiles, type replaceProfileKeys } from './credentialsFile.js';
import { formatAccessKeyCsv } from './csvExport.js';
import { CredentialsFileError, IamRotationError, KeyLimitError, RotationError } from './errors.js';
import {
  JournalState,
  journalPaths,
  parseJournal,
  type RotationJournal,
  serializeJournal,
  sha256,
} from './journal.js';
import { acquireLock } from './lock.js';
import { type LocatedProfile, locateProfile, PROBE_KEYS, resolveProfilePaths } from './profile.js';
import type {
  AccessKeyInfo,
  MfaOptions,
  NewAccessKey,
  ProfileOptions,
  RotateAccessKeyOptions,
  RotationPlan,
  RotationResult,
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
const profilesOf = (journal: RotationJournal) => [journal.profile, ...(journal.alsoUpdates ?? [])];

const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

/** Extracts the IAM user name from a caller ARN (`arn:aws:iam::123:user/path/alice` → `alice`). */
export function userNameFromArn(arn: string): string | undefined {
  const m = /^arn:aws[\w-]*:iam::\d{12}:user\/(?:.*\/)?([^/]+)$/.exec(arn);
  return m?.[1];
}

function describeKey(k: AccessKeyInfo): string {
  const used = k.lastUsed?.date
    ? `last used ${k.lastUsed.date.toISOString().slice(0, 10)}${k.lastUsed.serviceName ? ` (${k.lastUsed.serviceName})` : ''}`
    : 'never used';
  return `${maskKeyId(k.accessKeyId)} (${k.status}, ${used})`;
}

/** Tags an error with the step that threw it, so failures name their step. */
class StepFailure extends Error {
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

const unwrap = (e: unknown) => (e instanceof StepFailure ? e.original : e);
const isNoSuchEntity = (e: unknown) =>
  /^NoSuchEntity/.test((unwrap(e) as { name?: string } | undefined)?.name ?? '');
const stepOf = (e: unknown) => (e instanceof StepFailure ? e.step : undefined);
const messageOf = (e: unknown) => {
  const u = unwrap(e);
  return u instanceof Error ? `${u.name === 'Error' ? '' : `${u.name}: `}${u.message}` : String(u);
};

interface Context {
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
const CLOCK_SKEW_MS = 5 * 60_000;

/** The real credentials file and (if it exists) the real config file, in a fixed order so locks never deadlock. */
async function fileLockTargets(realCredentialsFile: string, configFile: string): Promise<string[]> {
  const config = await realpath(configFile).catch(() => undefined);
  return [...new Set([realCredentialsFile, ...(config ? [config] : [])])].sort();
}

/**
 * Runs `fn` holding the per-file locks (not per profile: two rotations of different profiles of one file must not
 * interleave their read–modify–write). Waits up to {@link FILE_LOCK_WAIT_MS} for another holder.
 */
async function withFileLocks<T>(ctx: Context, fn: () => Promise<T>): Promise<T> {
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
const isRejectedKey = (e: unknown) =>
  /InvalidClientTokenId|UnrecognizedClient/.test((unwrap(e) as { name?: string } | undefined)?.name ?? '');

/** Runs an IAM call with the first signer AWS accepts (a key may already be deleted by an earlier attempt). */
async function withAnySigner<T>(signers: StaticCredentials[], call: (c: StaticCredentials) => Promise<T>) {
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
const iamSigner = (ctx: Context, oldCreds: StaticCredentials) => ctx.iamAuth ?? oldCreds;

/** Gets an MFA session with the old key, if asked to. */
async function startMfaSession(
  ctx: Context,
  mfa: MfaOptions | undefined,
  serialFromProfile: string | undefined,
  oldCreds: StaticCredentials,
): Promise<string | undefined> {
  if (!mfa) return undefined;
  const serial = mfa.serialNumber ?? serialFromProfile;
  if (!serial) {
    throw new IamRotationError(
      'INVALID_OPTIONS',
      'MFA was requested but no MFA device is known for this profile',
      {
        hint: 'Set mfa_serial in the profile, or pass the device ARN (--mfa-serial).',
      },
    );
  }
  const code = typeof mfa.tokenCode === 'function' ? await mfa.tokenCode() : mfa.tokenCode;
  if (!/^\d{6}$/.test(code.trim())) {
    throw new IamRotationError('INVALID_OPTIONS', 'The MFA code must be 6 digits');
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

function buildSteps(
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

function validateOptions(o: RotateAccessKeyOptions): void {
  const problems: string[] = [];
  if (!Number.isInteger(o.verifyAttempts) || (o.verifyAttempts ?? 0) < 1)
    problems.push('verifyAttempts must be an integer >= 1');
  if (typeof o.verifyDelayMs !== 'number' || o.verifyDelayMs < 0) problems.push('verifyDelayMs must be >= 0');
  if (o.deleteKeyId !== undefined && !/^[A-Z0-9]{16,128}$/.test(o.deleteKeyId))
    problems.push('deleteKeyId is not an access key id');
  if (problems.length) {
    throw new IamRotationError('INVALID_OPTIONS', `Invalid rotation options: ${problems.join('; ')}`, {
      details: { problems },
    });
  }
}

/**
 * Rotates the static access key of a profile: create a new key, save it into the credentials file atomically
 * (only the profile's two key lines change), verify it with STS, then deactivate (or delete) the old key. Any
 * failure before the old key is retired rolls back: the new key is deleted and the file restored. A journal and a
 * backup (both 0600) let an interrupted run finish or roll back with {@link resumeRotation}.
 *
 * @throws {CredentialsFileError} before anything is created when the profile or file is unusable
 * @throws {KeyLimitError} when the user has two keys and none may be deleted
 * @throws {RotationError} `ROTATION_ROLLED_BACK`, `ROLLBACK_FAILED`, `OLD_KEY_NOT_RETIRED`, `VERIFY_FAILED`
 * @example
 * const result = await rotateAccessKey({ profile: 'work' });
 * console.log(`now using ${maskKeyId(result.newKey!.accessKeyId)}`);
 */
export async function rotateAccessKey(options: RotateAccessKeyOptions = {}): Promise<RotationResult> {
  const o = { ...ROTATE_DEFAULTS, ...options };
  validateOptions(o);
  const paths = resolveProfilePaths(o);
  const { steps, logger } = buildSteps(o, paths.profile, paths.credentialsFile, paths.configFile);

  // 1. The profile and file must be usable before anything is created.
  const located = await locateProfile(o);
  const ctx: Context = {
    steps,
    logger,
    lockFiles: await fileLockTargets(located.realFile, located.configFile),
  };
  const { journalFile, backupFile } = journalPaths(located.realFile, located.profile);
  const existing = await steps.readFile(journalFile).catch((e) => {
    if ((unwrap(e) as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw unwrap(e);
  });
  if (existing !== undefined) {
    throw new IamRotationError(
      'ROTATION_IN_PROGRESS',
      `An interrupted rotation of profile "${located.profile}" was found (${journalFile})`,
      { hint: 'Run `awskit iam rotate-key --resume` to finish it or `--rollback` to undo it first.' },
    );
  }
  const oldCreds: StaticCredentials = {
    accessKeyId: located.keys.accessKeyId,
    secretAccessKey: located.keys.secretAccessKey,
  };

  // 2. Who am I, and which keys exist.
  const mfaSerial = o.dryRun
    ? (o.mfa?.serialNumber ?? located.mfaSerial)
    : await startMfaSession(ctx, o.mfa, located.mfaSerial, oldCreds);
  // A backup without a journal was left by a killed run: removed if stale, else this run stops before it could
  // overwrite it. Done before the plan so that it happens even when the plan is then refused.
  const leftover = await checkLeftoverBackup(
    ctx,
    { profile: located.profile, journalFile, backupFile },
    oldCreds,
    !o.dryRun,
  );
  const plan = await makePlan(ctx, o, located, oldCreds, journalFile, backupFile, mfaSerial).catch((e) => {
    throw forUser(e, located.profile);
  });
  if (leftover && o.dryRun)
    plan.steps.unshift(`Remove ${backupFile}, a backup left by an interrupted rotation (${leftover})`);
  logger.debug('rotation plan ready', { profile: plan.profile, oldKey: maskKeyId(plan.oldKey.accessKeyId) });
  if (o.dryRun) return { dryRun: true, plan, nextSteps: ['Run again without --dry-run to rotate.'] };
  if (o.confirm && !(await o.confirm(plan))) {
    throw new IamRotationError('CANCELLED', 'Rotation cancelled; nothing was changed');
  }
  const release = await acquireLock(`${journalFile}.lock`);
  try {
    // Re-check under the lock: a rotation that started after our first check has left a journal by now.
    if (await exists(journalFile)) {
      throw new IamRotationError(
        'ROTATION_IN_PROGRESS',
        `Another rotation of profile "${located.profile}" started meanwhile`,
        {
          hint: 'Run `awskit iam rotate-key --resume` (or --rollback) once it has stopped.',
        },
      );
    }
    const result = await executeRotation(ctx, o, located, oldCreds, plan, journalFile, backupFile);
    if (plan.leaves.length) {
      result.nextSteps.unshift(
        `Profiles ${plan.leaves.map((p) => `[${p}]`).join(', ')} still hold the old key, which is now ${result.oldKeyStatus === 'deleted' ? 'deleted' : 'inactive'}: update them.`,
      );
    }
    // Environment keys win over profiles in every SDK: say so if they still hold the old key.
    if ((o.env ?? process.env).AWS_ACCESS_KEY_ID === oldCreds.accessKeyId) {
      result.nextSteps.unshift(
        'AWS_ACCESS_KEY_ID in this environment still holds the old key and overrides the profile: unset or update it.',
      );
    }
    return result;
  } finally {
    await release();
  }
}

/** Steps 3–7 under the lock. */
async function executeRotation(
  ctx: Context,
  o: RotateAccessKeyOptions & { verifyAttempts: number; verifyDelayMs: number; keepBackup: boolean },
  located: LocatedProfile,
  oldCreds: StaticCredentials,
  plan: RotationPlan,
  journalFile: string,
  backupFile: string,
): Promise<RotationResult> {
  const { steps, logger } = ctx;
  // The plan was made before the confirmation prompt: everything it assumed is checked again now.
  const startedAt = (o.clock ?? systemClock).now();
  const keyIdsBefore = await recheckKeys(ctx, o, plan, oldCreds);

  // 3. Make room under the 2-key limit (only a key the caller allowed us to delete).
  if (plan.deleteFirstKeyId && keyIdsBefore.includes(plan.deleteFirstKeyId)) {
    try {
      await steps.deleteAccessKey(iamSigner(ctx, oldCreds), plan.userName, plan.deleteFirstKeyId);
      logger.debug('deleted key to make room', { key: maskKeyId(plan.deleteFirstKeyId) });
    } catch (e) {
      throw new RotationError(
        'ROTATION_ROLLED_BACK',
        `Could not delete ${maskKeyId(plan.deleteFirstKeyId)}: ${messageOf(e)}`,
        {
          rolledBack: true,
          failedStep: 'deleteAccessKey',
          cause: unwrap(e),
          hint: 'Nothing else was changed; your profile still has its old key.',
        },
      );
    }
  }

  const journal: RotationJournal = {
    version: 1,
    state: JournalState.Creating,
    profile: located.profile,
    credentialsFile: located.realFile,
    backupFile,
    startedAt: new Date(startedAt).toISOString(),
    userName: plan.userName,
    userArn: plan.userArn,
    oldAccessKeyId: oldCreds.accessKeyId,
    keyIdsBefore: keyIdsBefore.filter((id) => id !== plan.deleteFirstKeyId),
    oldKeyAction: plan.oldKeyAction,
    ...(plan.mfaSerial ? { mfaSerial: plan.mfaSerial } : {}),
    ...(plan.alsoUpdates.length ? { alsoUpdates: plan.alsoUpdates } : {}),
    ...(o.exportCsvFile ? { exportCsvFile: o.exportCsvFile } : {}),
    keepBackup: o.keepBackup,
  };

  try {
    // 4. Backup + journal first, then the new key (recorded immediately). The file is read again here, under the
    // file lock and after the confirmation: a backup taken before the prompt would be stale.
    await withFileLocks(ctx, async () => {
      const text = await steps.readFile(located.realFile);
      assertHoldsKey(text, profilesOf(journal), oldCreds, located.credentialsFile);
      await steps.writeFile(backupFile, text);
      await steps.writeJournal(journalFile, serializeJournal(journal));
    });
  } catch (e) {
    // Nothing exists in AWS yet: remove whatever part of backup/journal was written.
    await steps.removeFile(journalFile).catch(() => {});
    await steps.removeFile(backupFile).catch(() => {});
    if (unwrap(e) instanceof IamRotationError) throw unwrap(e);
    throw new RotationError(
      'ROTATION_ROLLED_BACK',
      `Could not write the backup/journal next to ${located.credentialsFile}: ${messageOf(e)}`,
      {
        rolledBack: true,
        ...(stepOf(e) ? { failedStep: stepOf(e)! } : {}),
        cause: unwrap(e),
        hint: 'Nothing was created; check free space and permissions of that directory.',
      },
    );
  }
  try {
    const created = await steps.createAccessKey(iamSigner(ctx, oldCreds), plan.userName);
    logger.debug('created new key', { key: maskKeyId(created.accessKeyId) });
    journal.state = JournalState.Created;
    journal.newAccessKeyId = created.accessKeyId;
    journal.newSecretAccessKey = created.secretAccessKey;
    await steps.writeJournal(journalFile, serializeJournal(journal));
    // 5–6. Save, verify.
    const attempts = await forward(ctx, journal, journalFile, o);
    // 7. Retire the old key.
    return await finish(ctx, journal, journalFile, plan, created, attempts);
  } catch (e) {
    if (e instanceof RotationError) throw e;
    return rollbackAfterFailure(ctx, journal, journalFile, oldCreds, e);
  }
}

/**
 * Lists the user's keys again right before acting (the plan's list is from before the prompt) and checks that the
 * plan still holds: the old key exists, a key to prune is still Inactive, and no key appeared that would break the
 * 2-key limit. Returns the ids that exist now (a leftover search never touches them).
 *
 * @throws {KeyLimitError} `KEY_LIMIT_REACHED`; {@link IamRotationError} `KEY_NOT_FOUND`
 */
async function recheckKeys(
  ctx: Context,
  o: RotateAccessKeyOptions,
  plan: RotationPlan,
  oldCreds: StaticCredentials,
): Promise<string[]> {
  let keys: AccessKeyInfo[];
  try {
    keys = await ctx.steps.listAccessKeys(iamSigner(ctx, oldCreds), plan.userName);
  } catch (e) {
    throw new RotationError(
      'ROTATION_ROLLED_BACK',
      `Could not list the keys of ${plan.userName}: ${messageOf(e)}`,
      {
        rolledBack: true,
        failedStep: 'listAccessKeys',
        cause: unwrap(e),
        hint: 'Nothing was changed; your profile still has its old key.',
      },
    );
  }
  if (!keys.some((k) => k.accessKeyId === oldCreds.accessKeyId)) {
    throw new IamRotationError(
      'KEY_NOT_FOUND',
      `Key ${maskKeyId(oldCreds.accessKeyId)} of profile "${plan.profile}" is no longer listed for user ${plan.userName}`,
      {
        hint: 'It was deleted while the rotation waited for confirmation; check `awskit iam keys`. Nothing was changed.',
      },
    );
  }
  const toDelete = keys.find((k) => k.accessKeyId === plan.deleteFirstKeyId);
  if (toDelete && toDelete.status !== 'Inactive' && o.deleteKeyId !== toDelete.accessKeyId) {
    // --prune-inactive only ever deletes an inactive key; it was re-activated since the plan was made.
    throw new KeyLimitError(
      'KEY_LIMIT_REACHED',
      `Key ${maskKeyId(toDelete.accessKeyId)} of ${plan.userName} is Active again, so --prune-inactive will not delete it`,
      {
        hint: 'Someone re-activated it while the rotation waited for confirmation. Nothing was changed; deactivate it (or pass --delete-key <its id>) and run again.',
      },
    );
  }
  const remaining = keys.filter((k) => k.accessKeyId !== plan.deleteFirstKeyId);
  if (remaining.length >= 2) {
    const others = remaining.filter((k) => k.accessKeyId !== oldCreds.accessKeyId);
    throw new KeyLimitError(
      'KEY_LIMIT_REACHED',
      `User ${plan.userName} has two access keys now (${others.map(describeKey).join(', ')} appeared while the rotation waited for confirmation)`,
      {
        hint: 'Nothing was changed. That key is not ours to delete: run again to get a fresh plan (--prune-inactive / --delete-key).',
      },
    );
  }
  return keys.map((k) => k.accessKeyId);
}

/**
 * Checks that every profile in `profiles` still holds `key` (id and secret) in `text`.
 *
 * @throws {CredentialsFileError} `CREDENTIALS_FILE_CHANGED`
 */
function assertHoldsKey(text: string, profiles: string[], key: StaticCredentials, shown: string): void {
  for (const p of profiles) {
    const found = readProfileKeys(text, p);
    if (found?.accessKeyId !== key.accessKeyId || found.secretAccessKey !== key.secretAccessKey) {
      throw new CredentialsFileError(
        'CREDENTIALS_FILE_CHANGED',
        `Profile "${p}" in ${shown} no longer holds ${maskKeyId(key.accessKeyId)}: the file was changed by someone else`,
        { hint: 'Nothing was changed by this run. Check the file and run the rotation again.' },
      );
    }
  }
}

/** Builds the plan: identity, keys, the 2-key decision, what lines change. No side effects. */
async function makePlan(
  ctx: Context,
  o: RotateAccessKeyOptions,
  located: LocatedProfile,
  oldCreds: StaticCredentials,
  journalFile: string,
  backupFile: string,
  mfaSerial: string | undefined,
): Promise<RotationPlan> {
  const { steps } = ctx;
  const identity = await steps.getCallerIdentity(oldCreds);
  const userName = userNameFromArn(identity.arn);
  if (!userName) {
    throw new IamRotationError(
      'NOT_AN_IAM_USER',
      `The key of profile "${located.profile}" belongs to ${identity.arn}, not an IAM user`,
      {
        hint: identity.arn.endsWith(':root')
          ? 'Root access keys should be deleted, not rotated: use an IAM user or IAM Identity Center.'
          : 'Only IAM user access keys can be rotated.',
      },
    );
  }
  const keys = await steps.listAccessKeys(iamSigner(ctx, oldCreds), userName);
  const oldKey = keys.find((k) => k.accessKeyId === oldCreds.accessKeyId);
  if (!oldKey) {
    throw new IamRotationError(
      'KEY_NOT_FOUND',
      `Key ${maskKeyId(oldCreds.accessKeyId)} of profile "${located.profile}" is not listed for user ${userName}`,
      { hint: 'The key may already have been deleted; check `awskit iam keys`.' },
    );
  }
  const others = keys.filter((k) => k.accessKeyId !== oldKey.accessKeyId);
  const otherKey = others[0];
  let deleteFirstKeyId: string | undefined;
  if (others.length > 0 && otherKey) {
    const inUse = `The profile uses ${describeKey(oldKey)}; the other key is ${describeKey(otherKey)}.`;
    if (o.deleteKeyId !== undefined && o.deleteKeyId === otherKey.accessKeyId) {
      deleteFirstKeyId = otherKey.accessKeyId;
    } else if (o.deleteKeyId !== undefined) {
      throw new KeyLimitError(
        'INVALID_OPTIONS',
        `--delete-key ${maskKeyId(o.deleteKeyId)} is not the user's other key`,
        {
          hint: inUse,
        },
      );
    } else if (otherKey.status === 'Inactive' && o.pruneInactive) {
      deleteFirstKeyId = otherKey.accessKeyId;
    } else {
      throw new KeyLimitError(
        'KEY_LIMIT_REACHED',
        `User ${userName} already has two access keys (the AWS limit). ${inUse}`,
        {
          hint:
            otherKey.status === 'Inactive'
              ? 'Re-run with --prune-inactive to delete the inactive key first.'
              : `An active key is never deleted implicitly. If ${maskKeyId(otherKey.accessKeyId)} is unused, deactivate it, or re-run with --delete-key <its full id> to delete it.`,
          details: {
            oldKey: maskKeyId(oldKey.accessKeyId),
            otherKey: maskKeyId(otherKey.accessKeyId),
            otherStatus: otherKey.status,
          },
        },
      );
    }
  }
  const alsoUpdates = o.sameKeyProfiles === 'leave' ? [] : located.sameKeyProfiles;
  const leaves = o.sameKeyProfiles === 'leave' ? located.sameKeyProfiles : [];
  const probe = replaceKeysInProfiles(located.text, [located.profile, ...alsoUpdates], PROBE_KEYS);
  const also = alsoUpdates.length ? ` and ${alsoUpdates.map((p) => `[${p}]`).join(', ')} (same key)` : '';
  const oldKeyAction = o.deleteOld ? 'delete' : 'deactivate';
  const stepsText = [
    ...(mfaSerial ? [`Sign the IAM calls with an MFA session (GetSessionToken, device ${mfaSerial})`] : []),
    ...(deleteFirstKeyId
      ? [
          `Delete ${otherKey?.status.toLowerCase()} key ${maskKeyId(deleteFirstKeyId)} to stay within the 2-key limit`,
        ]
      : []),
    `Back up ${located.credentialsFile} to ${backupFile} (0600) and write a journal ${journalFile}`,
    `Create a new access key for ${userName}`,
    `Write it into [${located.profile}]${also} in ${located.credentialsFile} (lines ${probe.replacedLines.join(', ')}${
      probe.removedLines.length ? `; remove session token line(s) ${probe.removedLines.join(', ')}` : ''
    }; everything else unchanged)`,
    ...(o.exportCsvFile ? [`Write the new key as CSV to ${o.exportCsvFile} (0600)`] : []),
    'Verify the new key with STS GetCallerIdentity (retrying while IAM propagates)',
    `${oldKeyAction === 'delete' ? 'Delete' : 'Deactivate'} the old key ${maskKeyId(oldKey.accessKeyId)}`,
  ];
  return {
    profile: located.profile,
    credentialsFile: located.credentialsFile,
    userArn: identity.arn,
    userName,
    account: identity.account,
    oldKey,
    ...(otherKey ? { otherKey } : {}),
    ...(deleteFirstKeyId ? { deleteFirstKeyId } : {}),
    oldKeyAction,
    ...(mfaSerial ? { mfaSerial } : {}),
    alsoUpdates,
    leaves,
    removesSessionToken: probe.removedLines.length > 0,
    changedLines: [...probe.replacedLines, ...probe.removedLines].sort((a, b) => a - b),
    ...(o.exportCsvFile ? { exportCsvFile: o.exportCsvFile } : {}),
    journalFile,
    backupFile,
    steps: stepsText,
  };
}

/** Errors before anything changed: translate SDK errors into awskit errors with a hint. */
function forUser(e: unknown, profile: string): unknown {
  const u = unwrap(e);
  if (isAwskitError(u)) return u;
  const step = stepOf(e);
  const service = step === 'getCallerIdentity' ? 'sts' : 'iam';
  return toAwskitError(u, {
    service,
    resource: `profile "${profile}"`,
    ...(step ? { operation: step } : {}),
  });
}

/** Steps 5–6 from a journal in state `created` / `written`: write the file, verify. Returns verify attempts. */
async function forward(
  ctx: Context,
  journal: RotationJournal,
  journalFile: string,
  o: { verifyAttempts: number; verifyDelayMs: number },
): Promise<number> {
  const { steps, logger } = ctx;
  const newCreds = { accessKeyId: journal.newAccessKeyId!, secretAccessKey: journal.newSecretAccessKey! };
  if (journal.state === JournalState.Created) {
    // Held from the re-read through the read-back check, for the file (not the profile): another rotation of
    // another profile of this file would otherwise write its edit over ours, or ours over its.
    await withFileLocks(ctx, async () => {
      const current = await steps.readFile(journal.credentialsFile);
      // A run killed between writing the file and journaling `written` left our own write in place: the journaled
      // hash tells it from anyone else's edit, so it is checked and kept, not taken for a foreign change.
      const ourWriteInPlace =
        journal.writtenSha256 !== undefined && sha256(current) === journal.writtenSha256;
      if (!ourWriteInPlace) {
        const backup = await steps.readFile(journal.backupFile);
        if (current !== backup) {
          // Someone else edited the file since the backup: the backup must be the exact text we replace, so that a
          // rollback restoring it undoes our edit and nobody else's. The profile must still hold the old key.
          const old = readProfileKeys(backup, journal.profile);
          try {
            if (!old) throw new Error(`the backup has no profile "${journal.profile}"`);
            assertHoldsKey(current, profilesOf(journal), old, journal.credentialsFile);
          } catch (e) {
            throw new StepFailure('writeFile', e);
          }
          await steps.writeFile(journal.backupFile, current);
        }
        let edit: ReturnType<typeof replaceProfileKeys>;
        try {
          edit = replaceKeysInProfiles(current, profilesOf(journal), newCreds);
        } catch (e) {
          throw new StepFailure('writeFile', e);
        }
        // Journal the hash first: a rollback can then tell our write from anyone else's, even if we die right after.
        journal.writtenSha256 = sha256(edit.text);
        await steps.writeJournal(journalFile, serializeJournal(journal));
        await steps.writeFile(journal.credentialsFile, edit.text);
      }
      // Read back through the SDK's own loader: the profile must now resolve to the new key.
      const check = await steps.readFile(journal.credentialsFile);
      const sdk = await loadSharedConfigFiles({
        filepath: journal.credentialsFile,
        configFilepath: `${journal.credentialsFile}.awskit-none`,
        ignoreCache: true,
      });
      const holdsNewKey = (p: string) =>
        readProfileKeys(check, p)?.accessKeyId === newCreds.accessKeyId &&
        sdk.credentialsFile[p]?.aws_access_key_id === newCreds.accessKeyId;
      if (!profilesOf(journal).every(holdsNewKey)) {
        throw new StepFailure(
          'writeFile',
          new Error('the credentials file does not hold the new key after writing'),
        );
      }
    });
    if (journal.exportCsvFile) {
      await steps.writeFile(journal.exportCsvFile, formatAccessKeyCsv(journal.userName, newCreds));
    }
    journal.state = JournalState.Written;
    await steps.writeJournal(journalFile, serializeJournal(journal));
    logger.debug('credentials file updated', { profile: journal.profile });
  }
  let attempt = 0;
  let verified = false;
  let lastError: unknown;
  while (!verified && attempt < o.verifyAttempts) {
    attempt += 1;
    let id: Awaited<ReturnType<RotationSteps['getCallerIdentity']>>;
    try {
      id = await steps.getCallerIdentity(newCreds);
    } catch (e) {
      lastError = e;
      logger.debug('new key not usable yet', { attempt, error: messageOf(e) });
      if (attempt < o.verifyAttempts) await steps.sleep(o.verifyDelayMs);
      continue;
    }
    if (id.arn !== journal.userArn) {
      // A different principal is not a propagation delay: stop now.
      throw new StepFailure(
        'getCallerIdentity',
        new IamRotationError(
          'VERIFY_FAILED',
          `The new key answered as ${id.arn}, expected ${journal.userArn}`,
        ),
      );
    }
    verified = true;
  }
  if (!verified) {
    throw new StepFailure(
      'getCallerIdentity',
      new IamRotationError(
        'VERIFY_FAILED',
        `The new key did not work after ${attempt} attempt(s): ${messageOf(lastError)}`,
        {
          cause: unwrap(lastError),
        },
      ),
    );
  }
  journal.state = JournalState.Verified;
  await steps.writeJournal(journalFile, serializeJournal(journal));
  logger.debug('new key verified', { attempts: attempt });
  return attempt;
}

/** Step 7 and cleanup, from a journal in state `verified`. */
async function finish(
  ctx: Context,
  journal: RotationJournal,
  journalFile: string,
  plan: RotationPlan | undefined,
  newKey: NewAccessKey,
  attempts: number | undefined,
): Promise<RotationResult> {
  const { steps, logger } = ctx;
  const backupText = await steps.readFile(journal.backupFile).catch(() => undefined);
  const oldKeys = backupText ? readProfileKeys(backupText, journal.profile) : undefined;
  // Sign with the old key while it is still active (no propagation wait for IAM). If it is rejected as unknown (a
  // resumed run whose earlier attempt already deleted it), the verified new key signs instead.
  const signers: StaticCredentials[] = ctx.iamAuth
    ? [ctx.iamAuth, newKey]
    : oldKeys && oldKeys.accessKeyId === journal.oldAccessKeyId
      ? [{ accessKeyId: oldKeys.accessKeyId, secretAccessKey: oldKeys.secretAccessKey }, newKey]
      : [newKey];
  try {
    for (const [i, signer] of signers.entries()) {
      try {
        if (journal.oldKeyAction === 'delete')
          await steps.deleteAccessKey(signer, journal.userName, journal.oldAccessKeyId);
        else await steps.updateAccessKey(signer, journal.userName, journal.oldAccessKeyId, 'Inactive');
        break;
      } catch (e) {
        // Already gone: that is the goal.
        if (journal.oldKeyAction === 'delete' && isNoSuchEntity(e)) break;
        const rejected = /InvalidClientTokenId|UnrecognizedClient/.test(
          (unwrap(e) as { name?: string })?.name ?? '',
        );
        if (!rejected || i === signers.length - 1) throw e;
      }
    }
  } catch (e) {
    throw new RotationError(
      'OLD_KEY_NOT_RETIRED',
      `The new key ${maskKeyId(newKey.accessKeyId)} is saved and works, but the old key ${maskKeyId(journal.oldAccessKeyId)} could not be ${
        journal.oldKeyAction === 'delete' ? 'deleted' : 'deactivated'
      }: ${messageOf(e)}`,
      {
        rolledBack: false,
        failedStep: stepOf(e) ?? 'updateAccessKey',
        journalFile,
        cause: unwrap(e),
        hint: 'Run `awskit iam rotate-key --resume` to retry retiring the old key (your profile already works with the new key).',
      },
    );
  }
  logger.debug('old key retired', { key: maskKeyId(journal.oldAccessKeyId), action: journal.oldKeyAction });
  // A backup kept on purpose is a copy under its own name: the working backup is always removed below, so a backup
  // found later without a journal is always a killed run's leftover (see checkLeftoverBackup).
  let keptBackup: string | undefined;
  if (journal.keepBackup && backupText !== undefined) {
    const kept = keptBackupPath(journal.backupFile, new Date());
    await steps.writeFile(kept, backupText).then(
      () => {
        keptBackup = kept;
      },
      (e) => logger.warn('could not keep a copy of the backup', { file: kept, error: messageOf(e) }),
    );
  }
  // Cleanup failures must not turn a finished rotation into an error. If the journal stays, the backup stays too,
  // so a later --resume (which then only repeats the idempotent retire step) still has everything it needs.
  const journalRemoved = await steps.removeFile(journalFile).then(
    () => true,
    (e) => {
      logger.warn('could not remove the rotation journal', { file: journalFile, error: messageOf(e) });
      return false;
    },
  );
  if (journalRemoved && (!journal.keepBackup || keptBackup)) {
    await steps
      .removeFile(journal.backupFile)
      .catch((e) =>
        logger.warn('could not remove the backup', { file: journal.backupFile, error: messageOf(e) }),
      );
  }
  const nextSteps = [
    journal.oldKeyAction === 'delete'
      ? `The old key ${maskKeyId(journal.oldAccessKeyId)} is deleted.`
      : `The old key ${maskKeyId(journal.oldAccessKeyId)} is inactive (it can be re-activated if something still needs it). Once nothing does, delete it (awskit iam rotate-key --prune-inactive does that on the next rotation).`,
    'Update any other place that uses the old key (CI secrets, other machines, other profiles).',
  ];
  return {
    dryRun: false,
    plan: plan ?? planFromJournal(journal, journalFile),
    newKey,
    oldKeyStatus: journal.oldKeyAction === 'delete' ? 'deleted' : 'Inactive',
    ...(attempts !== undefined ? { verifyAttempts: attempts } : {}),
    ...(journal.keepBackup ? { backupFile: keptBackup ?? journal.backupFile } : {}),
    nextSteps,
  };
}

/** Where a backup kept on purpose goes: `<backup>.kept-<UTC time>` (0600), never overwritten by a later run. */
const keptBackupPath = (backupFile: string, at: Date) =>
  `${backupFile}.kept-${at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}`;

/** What a backup with no journal is: safe to remove (and why), or possibly needed (why, and what to do). */
type LeftoverVerdict = { stale: true; reason: string } | { stale: false; reason: string; hint: string };

/**
 * Judges a backup that has no journal. It is stale when its key for the profile is the one the profile holds now
 * (the file itself has that secret), when AWS no longer knows its key (deleted), or when its key is inactive and
 * the profile's key works. Otherwise it may hold the only copy of a working secret, and it is kept.
 */
async function judgeLeftoverBackup(
  ctx: Context,
  profile: string,
  backupFile: string,
  current: StaticCredentials | undefined,
): Promise<LeftoverVerdict> {
  const { steps } = ctx;
  const unsure = (reason: string): LeftoverVerdict => ({
    stale: false,
    reason,
    hint: `Compare ${backupFile} with the credentials file: if you need a key it holds, copy its two lines back into [${profile}]; otherwise delete the file. Then run the command again.`,
  });
  const found = await steps
    .readFile(backupFile)
    .then((t) => readProfileKeys(t, profile))
    .catch(() => undefined);
  if (!found) return unsure(`it has no readable key for profile "${profile}"`);
  const backup = { accessKeyId: found.accessKeyId, secretAccessKey: found.secretAccessKey };
  if (current?.accessKeyId === backup.accessKeyId && current.secretAccessKey === backup.secretAccessKey)
    return { stale: true, reason: 'it holds the key the profile uses now' };
  const masked = maskKeyId(backup.accessKeyId);
  let backupArn: string;
  try {
    backupArn = (await steps.getCallerIdentity(backup)).arn;
  } catch (e) {
    if (isRejectedKey(e)) return { stale: true, reason: `AWS no longer accepts its key ${masked}` };
    return unsure(`its key ${masked} could not be checked (${messageOf(e)})`);
  }
  // The key is known to AWS. Real AWS rejects inactive keys but moto does not, so the status is listed too.
  if (current) {
    try {
      const userName = userNameFromArn(backupArn);
      const currentArn = (await steps.getCallerIdentity(current)).arn;
      if (userName && currentArn === backupArn) {
        const keys = await steps.listAccessKeys(iamSigner(ctx, current), userName);
        const status = (id: string) => keys.find((k) => k.accessKeyId === id)?.status;
        if (status(current.accessKeyId) === 'Active' && status(backup.accessKeyId) !== 'Active')
          return { stale: true, reason: `its key ${masked} is inactive and the profile's key works` };
      }
    } catch (e) {
      return unsure(`its key ${masked} could not be checked (${messageOf(e)})`);
    }
  }
  return {
    stale: false,
    reason: `its key ${masked} still works and is not the key of [${profile}], so it may be the only copy of that secret`,
    hint: `If you still need key ${masked}, copy its two lines from ${backupFile} back into [${profile}]; if not, deactivate or delete that key (\`awskit iam keys\` lists it) and delete ${backupFile}. Then run the command again.`,
  };
}

/**
 * Finds the backup a killed rotation left without a journal (killed after the backup and before the first journal
 * write, or after the journal was removed and before the backup was). A stale one is removed (`remove`) with one
 * log line; one that may still be needed is kept and reported. Runs under the profile's lock, which a live rotation
 * holds from before its backup until after its cleanup.
 *
 * @returns why it was stale, or undefined when there was none
 * @throws {IamRotationError} `LEFTOVER_BACKUP` when it may still be needed (nothing changed)
 */
async function checkLeftoverBackup(
  ctx: Context,
  where: { profile: string; journalFile: string; backupFile: string },
  current: StaticCredentials | undefined,
  remove: boolean,
): Promise<string | undefined> {
  const { journalFile, backupFile, profile } = where;
  if (!(await exists(backupFile))) return undefined;
  const release = await acquireLock(`${journalFile}.lock`);
  try {
    if ((await exists(journalFile)) || !(await exists(backupFile))) return undefined;
    const verdict = await judgeLeftoverBackup(ctx, profile, backupFile, current);
    if (!verdict.stale) {
      throw new IamRotationError(
        'LEFTOVER_BACKUP',
        `Kept ${backupFile}, a backup left by an interrupted rotation of profile "${profile}": ${verdict.reason}`,
        { hint: verdict.hint },
      );
    }
    if (remove) {
      await ctx.steps.removeFile(backupFile);
      ctx.logger.info(`Removed ${backupFile}, a backup left by an interrupted rotation: ${verdict.reason}.`);
    }
    return verdict.reason;
  } finally {
    await release();
  }
}

function planFromJournal(journal: RotationJournal, journalFile: string): RotationPlan {
  return {
    profile: journal.profile,
    credentialsFile: journal.credentialsFile,
    userArn: journal.userArn,
    userName: journal.userName,
    account: journal.userArn.split(':')[4] ?? '',
    oldKey: { accessKeyId: journal.oldAccessKeyId, status: 'Active' },
    oldKeyAction: journal.oldKeyAction,
    alsoUpdates: journal.alsoUpdates ?? [],
    leaves: [],
    removesSessionToken: false,
    changedLines: [],
    ...(journal.exportCsvFile ? { exportCsvFile: journal.exportCsvFile } : {}),
    journalFile,
    backupFile: journal.backupFile,
    steps: [`Resume the rotation recorded in ${journalFile} (state ${journal.state})`],
  };
}

/**
 * Undoes a rotation described by a journal: bring the old key back (if it was retired), restore the credentials
 * file, delete the new key (or an orphan this run created before the journal recorded it), remove journal and
 * backup. The journal says `rolling-back` before the first side effect, so an interrupted rollback is continued
 * (never resumed forward) by both `--rollback` and `--resume`. The backup goes last: it holds the old secret until
 * the file holds the old key again.
 */
async function rollback(
  ctx: Context,
  journal: RotationJournal,
  journalFile: string,
  oldCreds: StaticCredentials,
): Promise<void> {
  const { steps, logger } = ctx;
  const from = journal.state === JournalState.RollingBack ? journal.rollbackFrom : journal.state;
  const newCreds =
    journal.newAccessKeyId && journal.newSecretAccessKey
      ? { accessKeyId: journal.newAccessKeyId, secretAccessKey: journal.newSecretAccessKey }
      : undefined;
  // The old key signs while it works; the new one when the old is inactive (AWS rejects inactive keys).
  const signers = ctx.iamAuth ? [ctx.iamAuth] : [oldCreds, ...(newCreds ? [newCreds] : [])];
  let reactivate = false;
  if (from === JournalState.Verified && newCreds) {
    // The old key may already be retired (we died during cleanup): it must exist to be brought back.
    const keys = await withAnySigner(signers, (c) => steps.listAccessKeys(c, journal.userName));
    const oldInfo = keys.find((k) => k.accessKeyId === journal.oldAccessKeyId);
    if (!oldInfo) {
      throw new IamRotationError(
        'CANNOT_ROLLBACK',
        `The old key ${maskKeyId(journal.oldAccessKeyId)} is already deleted, so the rotation cannot be undone`,
        { hint: 'Keep the new key (the profile already uses it) and run --resume to finish the cleanup.' },
      );
    }
    reactivate = oldInfo.status === 'Inactive';
  }
  if (journal.state !== JournalState.RollingBack) {
    journal.rollbackFrom = journal.state;
    journal.state = JournalState.RollingBack;
    await steps.writeJournal(journalFile, serializeJournal(journal));
  }
  if (reactivate) {
    await withAnySigner([...signers].reverse(), (c) =>
      steps.updateAccessKey(c, journal.userName, journal.oldAccessKeyId, 'Active'),
    );
    logger.debug('reactivated the old key', { key: maskKeyId(journal.oldAccessKeyId) });
  }
  // The file first: once it holds the old (active) key again, the profile works whatever happens next.
  await withFileLocks(ctx, async () => {
    const backup = await steps.readFile(journal.backupFile);
    const current = await steps.readFile(journal.credentialsFile);
    if (current === backup) return;
    const holdsOld = (text: string) =>
      readProfileKeys(text, journal.profile)?.accessKeyId === oldCreds.accessKeyId;
    const restored =
      journal.writtenSha256 !== undefined && sha256(current) === journal.writtenSha256
        ? backup // exactly our write: the backup is its pre-image (taken under the same lock), put it back
        : holdsOld(current)
          ? current // our write never happened, or someone put the old key back: leave their edits alone
          : replaceKeysInProfiles(current, profilesOf(journal), oldCreds).text; // edited since: only the keys
    if (restored === current) return;
    await steps.writeFile(journal.credentialsFile, restored);
    if (!holdsOld(await steps.readFile(journal.credentialsFile)))
      throw new Error('the credentials file does not hold the old key after restoring it');
  });
  let newId = journal.newAccessKeyId;
  if (!newId) {
    // Died between CreateAccessKey and recording it. Ours is a key that was not listed right before the call and
    // was created after the run started; a key someone else created is never touched.
    const keys = await withAnySigner(signers, (c) => steps.listAccessKeys(c, journal.userName));
    const since = Date.parse(journal.startedAt) - CLOCK_SKEW_MS;
    const candidates = keys.filter(
      (k) =>
        k.accessKeyId !== journal.oldAccessKeyId &&
        !journal.keyIdsBefore.includes(k.accessKeyId) &&
        k.createDate !== undefined &&
        k.createDate.getTime() >= since,
    );
    if (candidates.length === 1) newId = candidates[0]!.accessKeyId;
    else if (candidates.length > 1)
      logger.warn('more than one key could be the one this run created; none was deleted', {
        keys: candidates.map((k) => maskKeyId(k.accessKeyId)),
      });
  }
  if (newId) {
    const id = newId;
    try {
      await withAnySigner(signers, (c) => steps.deleteAccessKey(c, journal.userName, id));
    } catch (e) {
      if (!isNoSuchEntity(e)) throw e;
    }
    logger.debug('deleted the new key', { key: maskKeyId(newId) });
  }
  if (journal.exportCsvFile && newId) {
    // Remove the CSV only if it is ours (it holds the deleted key); never a file that was there before.
    const csv = await steps.readFile(journal.exportCsvFile).catch(() => '');
    if (csv.includes(newId)) await steps.removeFile(journal.exportCsvFile);
  }
  await steps.removeFile(journalFile);
  await steps.removeFile(journal.backupFile);
  logger.debug('rotation rolled back', { profile: journal.profile });
}

/**
 * Before `--resume` retires the old key: the file must still hold the new key and the new key must still work.
 * Otherwise (an interrupted rollback of an older version, a hand edit) retiring the old key would lock the profile
 * out, and the backup would be deleted while it holds the only working secret.
 *
 * @throws {IamRotationError} `RESUME_UNSAFE`
 */
async function reverifyNewKey(
  ctx: Context,
  journal: RotationJournal,
  newKey: StaticCredentials,
  o: { verifyAttempts: number; verifyDelayMs: number },
): Promise<void> {
  const { steps } = ctx;
  const text = await steps.readFile(journal.credentialsFile);
  const holds = (p: string) => {
    try {
      return readProfileKeys(text, p)?.accessKeyId === newKey.accessKeyId;
    } catch {
      return false;
    }
  };
  const missing = profilesOf(journal).filter((p) => !holds(p));
  const hint =
    'Nothing was changed; the old key was left as it is. Run `awskit iam rotate-key --rollback` to undo the rotation.';
  if (missing.length) {
    throw new IamRotationError(
      'RESUME_UNSAFE',
      `Profile${missing.length > 1 ? 's' : ''} ${missing.map((p) => `[${p}]`).join(', ')} no longer hold${missing.length > 1 ? '' : 's'} the new key ${maskKeyId(newKey.accessKeyId)}, so the old key ${maskKeyId(journal.oldAccessKeyId)} will not be retired`,
      { hint },
    );
  }
  let lastError: unknown;
  for (let attempt = 1; attempt <= o.verifyAttempts; attempt++) {
    try {
      const id = await steps.getCallerIdentity(newKey);
      if (id.arn === journal.userArn) return;
      lastError = new Error(`it answered as ${id.arn}`);
      break;
    } catch (e) {
      lastError = e;
      if (attempt < o.verifyAttempts) await steps.sleep(o.verifyDelayMs);
    }
  }
  throw new IamRotationError(
    'RESUME_UNSAFE',
    `The new key ${maskKeyId(newKey.accessKeyId)} does not work (${messageOf(lastError)}), so the old key ${maskKeyId(journal.oldAccessKeyId)} will not be retired`,
    { hint, cause: unwrap(lastError) },
  );
}

async function rollbackAfterFailure(
  ctx: Context,
  journal: RotationJournal,
  journalFile: string,
  oldCreds: StaticCredentials,
  failure: unknown,
): Promise<never> {
  const step = stepOf(failure);
  const original = unwrap(failure);
  // Failing to write the very first backup/journal means nothing was created: nothing to undo but stray files.
  try {
    await rollback(ctx, journal, journalFile, oldCreds);
  } catch (rollbackError) {
    throw new RotationError(
      'ROLLBACK_FAILED',
      `Rotation failed at ${step ?? 'an unknown step'} (${messageOf(failure)}) and the rollback failed too (${messageOf(rollbackError)})`,
      {
        rolledBack: false,
        ...(step ? { failedStep: step } : {}),
        journalFile,
        cause: original,
        hint: 'Run `awskit iam rotate-key --rollback` (or --resume) once the problem is fixed; the journal and backup were kept.',
      },
    );
  }
  const code =
    original instanceof IamRotationError && original.code === 'VERIFY_FAILED'
      ? 'VERIFY_FAILED'
      : 'ROTATION_ROLLED_BACK';
  throw new RotationError(
    code,
    `Rotation failed at ${step ?? 'an unknown step'}: ${messageOf(failure)}. It was rolled back`,
    {
      rolledBack: true,
      ...(step ? { failedStep: step } : {}),
      cause: original,
      hint: 'The new key was deleted and the credentials file restored; your old key still works.',
    },
  );
}

/** Options for {@link resumeRotation}. */
export interface ResumeRotationOptions extends ProfileOptions {
  /** `resume` finishes the rotation, `rollback` undoes it. @default 'resume' */
  action?: 'resume' | 'rollback';
  /** Attempts to verify the new key with STS. @default 10 */
  verifyAttempts?: number;
  /** Delay between verification attempts. @default 3000 */
  verifyDelayMs?: number;
  /** Endpoint/region options for the IAM and STS clients. */
  clientOptions?: RotateAccessKeyOptions['clientOptions'];
  /** Replace some side effects (tests). @default real AWS + filesystem */
  steps?: Partial<RotationSteps>;
  /** @default no-op */
  logger?: Logger;
  /** Use an MFA session for the IAM calls (device: this option, else the one the rotation used). */
  mfa?: MfaOptions;
}

/** Result of {@link resumeRotation}. */
export type ResumeResult =
  | ({ action: 'resume' } & RotationResult)
  | { action: 'rollback'; profile: string; deletedKeyId?: string };

/**
 * Finishes (`resume`) or undoes (`rollback`) a rotation that was interrupted, from its journal. A journal that
 * stopped before the new key was recorded can only be rolled back (its secret was never saved), so `resume` rolls
 * it back and says so.
 *
 * @throws {IamRotationError} `NO_ROTATION_IN_PROGRESS`, `CANNOT_ROLLBACK`
 * @throws {RotationError} as {@link rotateAccessKey}
 */
export async function resumeRotation(options: ResumeRotationOptions = {}): Promise<ResumeResult> {
  const o = {
    verifyAttempts: ROTATE_DEFAULTS.verifyAttempts,
    verifyDelayMs: ROTATE_DEFAULTS.verifyDelayMs,
    action: 'resume' as const,
    ...options,
  };
  const paths = resolveProfilePaths(o);
  const { steps, logger } = buildSteps(o, paths.profile, paths.credentialsFile, paths.configFile);
  const ctx: Context = { steps, logger, lockFiles: [] };
  const realFile = await realpath(paths.credentialsFile).catch(() => paths.credentialsFile);
  const { journalFile } = journalPaths(realFile, paths.profile);
  ctx.lockFiles = await fileLockTargets(realFile, paths.configFile);
  const text = await steps.readFile(journalFile).catch(() => undefined);
  if (text === undefined) {
    // No journal, but maybe the backup of a run killed before its first journal write or after its last one.
    const { backupFile } = journalPaths(realFile, paths.profile);
    const current = await steps
      .readFile(realFile)
      .then((t) => readProfileKeys(t, paths.profile))
      .catch(() => undefined);
    const removed = await checkLeftoverBackup(
      ctx,
      { profile: paths.profile, journalFile, backupFile },
      current ? { accessKeyId: current.accessKeyId, secretAccessKey: current.secretAccessKey } : undefined,
      true,
    );
    throw new IamRotationError(
      'NO_ROTATION_IN_PROGRESS',
      `No interrupted rotation for profile "${paths.profile}" (${journalFile})`,
      {
        hint: 'Nothing to resume; run `awskit iam rotate-key` to rotate.',
        ...(removed ? { details: { removedBackup: backupFile } } : {}),
      },
    );
  }
  const journal = parseJournal(text, journalFile);
  const release = await acquireLock(`${journalFile}.lock`);
  try {
    return await resumeFromJournal(ctx, o, journal, journalFile);
  } finally {
    await release();
  }
}

async function resumeFromJournal(
  ctx: Context,
  o: { action: 'resume' | 'rollback'; verifyAttempts: number; verifyDelayMs: number; mfa?: MfaOptions },
  journal: RotationJournal,
  journalFile: string,
): Promise<ResumeResult> {
  const { steps } = ctx;
  const newKey = journal.newAccessKeyId
    ? { accessKeyId: journal.newAccessKeyId, secretAccessKey: journal.newSecretAccessKey ?? '' }
    : undefined;
  // An interrupted rollback is only ever continued: going forward could retire the old key after the new one was
  // already deleted.
  const wantsRollback = o.action === 'rollback' || !newKey || journal.state === JournalState.RollingBack;
  // Only a verified rotation can finish without the backup (the new key signs the retire call).
  if (!wantsRollback && journal.state === JournalState.Verified && newKey) {
    await startMfaSession(ctx, o.mfa, journal.mfaSerial, newKey);
    await reverifyNewKey(ctx, journal, newKey, o);
    const result = await finish(ctx, journal, journalFile, undefined, newKey, undefined);
    return { action: 'resume', ...result };
  }
  const backupText = await steps.readFile(journal.backupFile).catch((e) => {
    throw new IamRotationError(
      'CANNOT_ROLLBACK',
      `The backup ${journal.backupFile} is missing: ${messageOf(e)}`,
      {
        hint: 'Inspect the journal and the credentials file by hand.',
      },
    );
  });
  const old = readProfileKeys(backupText, journal.profile);
  if (!old) {
    throw new IamRotationError(
      'CANNOT_ROLLBACK',
      `The backup ${journal.backupFile} has no profile "${journal.profile}"`,
    );
  }
  const oldCreds = { accessKeyId: old.accessKeyId, secretAccessKey: old.secretAccessKey };
  await startMfaSession(ctx, o.mfa, journal.mfaSerial, oldCreds);
  if (wantsRollback) {
    const deleted = journal.newAccessKeyId;
    try {
      await rollback(ctx, journal, journalFile, oldCreds);
    } catch (e) {
      if (isAwskitError(unwrap(e), 'CANNOT_ROLLBACK')) throw unwrap(e);
      throw new RotationError('ROLLBACK_FAILED', `Rollback failed: ${messageOf(e)}`, {
        rolledBack: false,
        ...(stepOf(e) ? { failedStep: stepOf(e)! } : {}),
        journalFile,
        cause: unwrap(e),
        hint: 'Fix the problem and run --rollback again; the journal and backup were kept.',
      });
    }
    return { action: 'rollback', profile: journal.profile, ...(deleted ? { deletedKeyId: deleted } : {}) };
  }
  let attempts: number;
  try {
    attempts = await forward(ctx, journal, journalFile, o);
  } catch (e) {
    return rollbackAfterFailure(ctx, journal, journalFile, oldCreds, e);
  }
  const result = await finish(ctx, journal, journalFile, undefined, newKey!, attempts);
  return { action: 'resume', ...result };
}
