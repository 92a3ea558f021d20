import { maskKeyId, systemClock } from '@awskit/core';
import { loadSharedConfigFiles } from '@smithy/shared-ini-file-loader';
import { readProfileKeys, replaceKeysInProfiles, type replaceProfileKeys } from './credentialsFile.js';
import { formatAccessKeyCsv } from './csvExport.js';
import { CredentialsFileError, IamRotationError, KeyLimitError, RotationError } from './errors.js';
import { JournalState, journalPaths, type RotationJournal, serializeJournal, sha256 } from './journal.js';
import { acquireLock } from './lock.js';
import { type LocatedProfile, locateProfile, resolveProfilePaths } from './profile.js';
import type { resumeRotation } from './resumeRotation.js';
import { forUser, makePlan, planFromJournal } from './rotationPlan.js';
import { rollbackAfterFailure } from './rotationRollback.js';
import {
  buildSteps,
  type Context,
  describeKey,
  exists,
  fileLockTargets,
  iamSigner,
  isNoSuchEntity,
  isRejectedKey,
  messageOf,
  profilesOf,
  ROTATE_DEFAULTS,
  StepFailure,
  startMfaSession,
  stepOf,
  unwrap,
  userNameFromArn,
  validateOptions,
  withFileLocks,
} from './rotationShared.js';
import type {
  AccessKeyInfo,
  NewAccessKey,
  RotateAccessKeyOptions,
  RotationPlan,
  RotationResult,
  RotationSteps,
  StaticCredentials,
} from './types.js';

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

/** Steps 5–6 from a journal in state `created` / `written`: write the file, verify. Returns verify attempts. */
export async function forward(
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
export async function finish(
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
export async function checkLeftoverBackup(
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
