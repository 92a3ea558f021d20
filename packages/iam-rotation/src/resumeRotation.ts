import { realpath } from 'node:fs/promises';
import { isAwskitError, type Logger } from '@awskit/core';
import { readProfileKeys } from './credentialsFile.js';
import { IamRotationError, RotationError } from './errors.js';
import { JournalState, journalPaths, parseJournal, type RotationJournal } from './journal.js';
import { acquireLock } from './lock.js';
import { resolveProfilePaths } from './profile.js';
import { checkLeftoverBackup, finish, forward, rotateAccessKey } from './rotateAccessKey.js';
import { reverifyNewKey, rollback, rollbackAfterFailure } from './rotationRollback.js';
import {
  buildSteps,
  type Context,
  fileLockTargets,
  messageOf,
  ROTATE_DEFAULTS,
  startMfaSession,
  stepOf,
  unwrap,
} from './rotationShared.js';
import type {
  MfaOptions,
  ProfileOptions,
  RotateAccessKeyOptions,
  RotationResult,
  RotationSteps,
} from './types.js';

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
