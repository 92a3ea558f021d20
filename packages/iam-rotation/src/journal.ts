import { createHash } from 'node:crypto';
import { IamRotationError } from './errors.js';

/** How far a rotation got. Each state is written before the next side effect starts. */
export const JournalState = {
  /** Backup written; CreateAccessKey may or may not have happened (an orphan key is found by id diff). */
  Creating: 'creating',
  /** New key exists (id and secret recorded); credentials file not yet rewritten. */
  Created: 'created',
  /** Credentials file holds the new key. */
  Written: 'written',
  /** New key answered STS as the same user. */
  Verified: 'verified',
  /**
   * A rollback started (from `rollbackFrom`). Both `--resume` and `--rollback` continue the rollback: going forward
   * from here could retire the old key while the new one is already deleted.
   */
  RollingBack: 'rolling-back',
} as const;
/** One of {@link JournalState}'s values. */
export type JournalState = (typeof JournalState)[keyof typeof JournalState];

/**
 * The on-disk record of a rotation in progress (mode 0600). It holds the new secret between CreateAccessKey and the
 * credentials-file write, so an interrupted run can finish without losing the only copy; it is removed at the end.
 */
export interface RotationJournal {
  version: 1;
  state: JournalState;
  profile: string;
  /** The real (symlink-resolved) credentials file. */
  credentialsFile: string;
  backupFile: string;
  startedAt: string;
  userName: string;
  userArn: string;
  oldAccessKeyId: string;
  /**
   * Key ids that existed right before CreateAccessKey (listed after the confirmation, under the lock), to recognise
   * an orphan if the run died mid-call. A key is only ever taken for ours if it is not listed here and was created
   * at or after `startedAt`.
   */
  keyIdsBefore: string[];
  oldKeyAction: 'deactivate' | 'delete';
  newAccessKeyId?: string;
  newSecretAccessKey?: string;
  /** sha256 of the credentials file text we wrote, to tell our write from a later manual edit. */
  writtenSha256?: string;
  exportCsvFile?: string;
  keepBackup?: boolean;
  /** Other profiles that hold the same key and are updated with the target. */
  alsoUpdates?: string[];
  /** MFA device the rotation used for IAM calls (a resume uses it again). */
  mfaSerial?: string;
  /** The state a rollback started from (set with state `rolling-back`). */
  rollbackFrom?: Exclude<JournalState, 'rolling-back'>;
}

/** Paths of the journal and backup for one profile of one credentials file. */
export function journalPaths(
  realCredentialsFile: string,
  profile: string,
): { journalFile: string; backupFile: string } {
  const safe = profile.replace(
    /[^A-Za-z0-9_.-]/g,
    (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
  return {
    journalFile: `${realCredentialsFile}.awskit-rotate.${safe}.json`,
    backupFile: `${realCredentialsFile}.awskit-backup.${safe}`,
  };
}

/** sha256 hex of a string. */
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Serialises a journal. */
export function serializeJournal(journal: RotationJournal): string {
  return `${JSON.stringify(journal, null, 2)}\n`;
}

/**
 * Parses a journal file's text. Journals of earlier versions (without `rolling-back`) are read as they are.
 * @throws {IamRotationError} `NO_ROTATION_IN_PROGRESS` when it is not a journal this version understands
 */
export function parseJournal(text: string, file: string): RotationJournal {
  let j: Partial<RotationJournal>;
  try {
    j = JSON.parse(text) as Partial<RotationJournal>;
  } catch (e) {
    throw new IamRotationError('NO_ROTATION_IN_PROGRESS', `The rotation journal ${file} is not valid JSON`, {
      hint: 'Inspect it; if the rotation is long over, delete it.',
      cause: e,
    });
  }
  const states = Object.values(JournalState) as string[];
  if (
    j.version !== 1 ||
    !states.includes(j.state as string) ||
    typeof j.profile !== 'string' ||
    typeof j.credentialsFile !== 'string' ||
    typeof j.backupFile !== 'string' ||
    typeof j.oldAccessKeyId !== 'string' ||
    typeof j.userName !== 'string' ||
    !Array.isArray(j.keyIdsBefore) ||
    (j.state === JournalState.RollingBack && !states.includes(j.rollbackFrom as string))
  ) {
    throw new IamRotationError(
      'NO_ROTATION_IN_PROGRESS',
      `The rotation journal ${file} is not one awskit can use`,
      {
        hint: 'Inspect it; if the rotation is long over, delete it.',
      },
    );
  }
  return j as RotationJournal;
}
