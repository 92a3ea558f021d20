import { maskKeyId } from '@awskit/core';
import { readProfileKeys, replaceKeysInProfiles } from './credentialsFile.js';
import { IamRotationError, RotationError } from './errors.js';
import { JournalState, type RotationJournal, serializeJournal, sha256 } from './journal.js';
import {
  CLOCK_SKEW_MS,
  type Context,
  isNoSuchEntity,
  messageOf,
  profilesOf,
  stepOf,
  unwrap,
  withAnySigner,
  withFileLocks,
} from './rotationShared.js';
import type { StaticCredentials } from './types.js';

/**
 * Undoes a rotation described by a journal: bring the old key back (if it was retired), restore the credentials
 * file, delete the new key (or an orphan this run created before the journal recorded it), remove journal and
 * backup. The journal says `rolling-back` before the first side effect, so an interrupted rollback is continued
 * (never resumed forward) by both `--rollback` and `--resume`. The backup goes last: it holds the old secret until
 * the file holds the old key again.
 */
export async function rollback(
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
export async function reverifyNewKey(
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

export async function rollbackAfterFailure(
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
