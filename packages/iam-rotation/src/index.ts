export { type CreateRotationStepsOptions, createRotationSteps } from './awsSteps.js';
export {
  type ChangePasswordOptions,
  type ChangePasswordResult,
  changePassword,
} from './changePassword.js';
export {
  type CredentialsEdit,
  type IniEntry,
  listProfiles,
  type ParsedCredentialsFile,
  type ProfileKeys,
  parseCredentialsFile,
  readProfileKeys,
  replaceProfileKeys,
} from './credentialsFile.js';
export { formatAccessKeyCsv } from './csvExport.js';
export {
  CredentialsFileError,
  IamRotationError,
  IamRotationErrorCode,
  KeyLimitError,
  PasswordChangeError,
  RotationError,
} from './errors.js';
export { JournalState, journalPaths, type RotationJournal } from './journal.js';
export {
  type AccessKeyListing,
  type AccessKeyReport,
  keysOlderThan,
  type ListAccessKeysOptions,
  listAccessKeys,
} from './listAccessKeys.js';
export { checkPasswordAgainstPolicy, describePasswordPolicy, type PasswordRules } from './passwordPolicy.js';
export { type LocatedProfile, locateProfile, resolveProfilePaths } from './profile.js';
export { type ResumeResult, type ResumeRotationOptions, resumeRotation } from './resumeRotation.js';
export { rotateAccessKey } from './rotateAccessKey.js';
export { ROTATE_DEFAULTS } from './rotationShared.js';
export type {
  AccessKeyInfo,
  CallerIdentity,
  KeyLastUsed,
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
