import { AwskitError, type AwskitErrorOptions } from '@awskit/core';

/** Stable codes of every error `@awskit/iam-rotation` throws on purpose. */
export const IamRotationErrorCode = {
  /** The profile is in neither the credentials file nor the config file. */
  ProfileNotFound: 'IAM_ROTATION_PROFILE_NOT_FOUND',
  /** The profile uses SSO, a role, credential_process… (or its key lives in the config file). */
  ProfileNotStatic: 'PROFILE_NOT_STATIC',
  /** The profile holds temporary (ASIA…) credentials, which cannot be rotated. */
  TemporaryCredentials: 'TEMPORARY_CREDENTIALS',
  /** The credentials file does not exist. */
  CredentialsFileNotFound: 'CREDENTIALS_FILE_NOT_FOUND',
  /** The credentials file (or its directory) cannot be rewritten safely. */
  CredentialsFileNotWritable: 'CREDENTIALS_FILE_NOT_WRITABLE',
  /** A key is set twice in the profile; we would not know which one to edit. */
  CredentialsFileAmbiguous: 'CREDENTIALS_FILE_AMBIGUOUS',
  /** The file cannot be parsed the way the SDK parses it. */
  CredentialsFileInvalid: 'CREDENTIALS_FILE_INVALID',
  /** Our parse and the SDK's disagree about the profile's key; editing would be unsafe. */
  CredentialsFileMismatch: 'CREDENTIALS_FILE_MISMATCH',
  /** A new key contained characters that are unsafe in an ini file. */
  InvalidKeyValue: 'INVALID_KEY_VALUE',
  /** The caller is not an IAM user (root, assumed role, federated). */
  NotAnIamUser: 'NOT_AN_IAM_USER',
  /** The user already has two access keys and nothing may be deleted. */
  KeyLimitReached: 'KEY_LIMIT_REACHED',
  /** The key in the profile is not one of the user's keys (ListAccessKeys). */
  KeyNotFound: 'KEY_NOT_FOUND',
  /** A journal from an interrupted rotation exists for this profile. */
  RotationInProgress: 'ROTATION_IN_PROGRESS',
  /** `--resume` / `--rollback` without a journal. */
  NoRotationInProgress: 'NO_ROTATION_IN_PROGRESS',
  /**
   * A backup of the credentials file with no journal (left by a killed rotation) may still be needed: its key still
   * works and is not the profile's, or it could not be checked. It was kept and nothing was changed.
   */
  LeftoverBackup: 'LEFTOVER_BACKUP',
  /** The new key never worked within the retry budget. */
  VerifyFailed: 'VERIFY_FAILED',
  /** A step failed; the rotation was rolled back and the old key is in place. */
  RotationRolledBack: 'ROTATION_ROLLED_BACK',
  /** A step failed and the rollback failed too; the journal was kept for `--resume` / `--rollback`. */
  RollbackFailed: 'ROLLBACK_FAILED',
  /** The new key is saved and works, but the old key could not be deactivated/deleted. */
  OldKeyNotRetired: 'OLD_KEY_NOT_RETIRED',
  /** The journal cannot be rolled back (e.g. the old key is already deleted). */
  CannotRollback: 'CANNOT_ROLLBACK',
  /** The credentials file changed under us (the profile no longer holds the key being rotated); nothing was changed. */
  CredentialsFileChanged: 'CREDENTIALS_FILE_CHANGED',
  /** `--resume` found that finishing would lock the profile out (the new key is gone or not in the file). */
  ResumeUnsafe: 'RESUME_UNSAFE',
  /** The export CSV cannot be written for this user name. */
  CsvExportFailed: 'CSV_EXPORT_FAILED',
  /** The new password breaks the account password policy. */
  PasswordPolicyViolation: 'PASSWORD_POLICY_VIOLATION',
  /** The current password is wrong. */
  PasswordIncorrect: 'PASSWORD_INCORRECT',
  /** Any other password-change failure. */
  PasswordChangeFailed: 'PASSWORD_CHANGE_FAILED',
  /** The confirmation callback (or prompt) said no; nothing was changed. */
  Cancelled: 'CANCELLED',
  /** Bad input (options). */
  InvalidOptions: 'IAM_ROTATION_INVALID_OPTIONS',
} as const;
/** One of {@link IamRotationErrorCode}'s values. */
export type IamRotationErrorCode = (typeof IamRotationErrorCode)[keyof typeof IamRotationErrorCode];

/** Base class of every error this package throws. */
export class IamRotationError extends AwskitError<IamRotationErrorCode> {}

/** The credentials file cannot be read, parsed or safely rewritten. */
export class CredentialsFileError extends IamRotationError {}

/** The user already has two keys and the rotation may not delete one. */
export class KeyLimitError extends IamRotationError {}

/**
 * A rotation step failed. `rolledBack` tells whether the old state was restored; `journalFile` is set when a
 * journal was kept for `--resume` / `--rollback`.
 */
export class RotationError extends IamRotationError {
  readonly rolledBack: boolean;
  readonly failedStep?: string;
  readonly journalFile?: string;
  constructor(
    code: IamRotationErrorCode,
    message: string,
    options: AwskitErrorOptions & { rolledBack: boolean; failedStep?: string; journalFile?: string },
  ) {
    super(code, message, options);
    this.rolledBack = options.rolledBack;
    if (options.failedStep !== undefined) this.failedStep = options.failedStep;
    if (options.journalFile !== undefined) this.journalFile = options.journalFile;
  }
}

/** ChangePassword failed (policy violation, wrong current password, …). */
export class PasswordChangeError extends IamRotationError {}
