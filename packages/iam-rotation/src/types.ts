import type { ClientOptions, Clock, Logger } from '@awskit/core';

/** A static IAM user key pair. Never log `secretAccessKey`. */
export interface StaticCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** Only for MFA session credentials (GetSessionToken); a profile's static key never has one. */
  sessionToken?: string;
}

/** Sign the IAM calls of a rotation with an MFA session (for policies that require `aws:MultiFactorAuthPresent`). */
export interface MfaOptions {
  /** MFA device ARN. @default the profile's `mfa_serial` */
  serialNumber?: string;
  /** The current code, or a function asked for it once (e.g. a prompt). */
  tokenCode: string | (() => string | Promise<string>);
  /** Session lifetime. @default 900 */
  durationSeconds?: number;
}

/** STS GetCallerIdentity, trimmed. */
export interface CallerIdentity {
  arn: string;
  account: string;
  userId: string;
}

/** When and where a key was last used (GetAccessKeyLastUsed). */
export interface KeyLastUsed {
  date?: Date;
  serviceName?: string;
  region?: string;
}

/** One access key of an IAM user. */
export interface AccessKeyInfo {
  accessKeyId: string;
  status: 'Active' | 'Inactive';
  createDate?: Date;
  lastUsed?: KeyLastUsed;
}

/** A freshly created key (the only time AWS returns the secret). */
export interface NewAccessKey extends StaticCredentials {
  createDate?: Date;
}

/**
 * The side-effecting operations a rotation performs, injectable so tests can fail any one of them. Every AWS call
 * names the credentials it signs with.
 */
export interface RotationSteps {
  getCallerIdentity(creds: StaticCredentials): Promise<CallerIdentity>;
  /** ListAccessKeys + GetAccessKeyLastUsed for each key. */
  listAccessKeys(creds: StaticCredentials, userName: string): Promise<AccessKeyInfo[]>;
  createAccessKey(creds: StaticCredentials, userName: string): Promise<NewAccessKey>;
  updateAccessKey(
    creds: StaticCredentials,
    userName: string,
    accessKeyId: string,
    status: 'Active' | 'Inactive',
  ): Promise<void>;
  deleteAccessKey(creds: StaticCredentials, userName: string, accessKeyId: string): Promise<void>;
  /** STS GetSessionToken with an MFA code (only called when `mfa` is set). */
  getSessionToken(
    creds: StaticCredentials,
    serialNumber: string,
    tokenCode: string,
    durationSeconds: number,
  ): Promise<StaticCredentials>;
  /** Read a UTF-8 file (bytes that are not UTF-8 are refused with `CREDENTIALS_FILE_INVALID`). */
  readFile(path: string): Promise<string>;
  /** Write a file atomically with mode 0600 (credentials file, backup, CSV). */
  writeFile(path: string, text: string): Promise<void>;
  /** Write the rotation journal atomically with mode 0600. */
  writeJournal(path: string, text: string): Promise<void>;
  /** Remove a file; missing is fine. */
  removeFile(path: string): Promise<void>;
  /** Wait between verification attempts. */
  sleep(ms: number): Promise<void>;
}

/** Names of the injectable steps (for failure injection and error reports). */
export type RotationStepName = keyof RotationSteps;

/** Where the credentials live; shared by every function here. */
export interface ProfileOptions {
  /** Profile to use. @default `AWS_PROFILE`, then `default` */
  profile?: string;
  /** Shared credentials file. @default `AWS_SHARED_CREDENTIALS_FILE`, then `~/.aws/credentials` */
  credentialsFile?: string;
  /** Shared config file (checked to explain SSO/role profiles). @default `AWS_CONFIG_FILE`, then `~/.aws/config` */
  configFile?: string;
  /** Environment to read instead of `process.env` (tests). */
  env?: NodeJS.ProcessEnv;
}

/** Options for {@link rotateAccessKey}. */
export interface RotateAccessKeyOptions extends ProfileOptions {
  /** Delete the old key instead of deactivating it. @default false */
  deleteOld?: boolean;
  /** When the user already has two keys and the other one is Inactive, delete it first. @default false */
  pruneInactive?: boolean;
  /**
   * Delete this other key (even if Active) to make room. Only the exact id given is ever deleted; this is the
   * explicit opt-in for removing an active key. @default undefined
   */
  deleteKeyId?: string;
  /**
   * Other profiles of the same credentials file that hold the same key: `update` them too (retiring the old key
   * would break them), or `leave` them (and be told). @default 'update'
   */
  sameKeyProfiles?: 'update' | 'leave';
  /** Use an MFA session for the IAM calls. @default undefined (sign with the profile's key) */
  mfa?: MfaOptions;
  /** Build and return the plan, change nothing. @default false */
  dryRun?: boolean;
  /**
   * Called with the plan before anything changes; return false to cancel (nothing is changed).
   * @default undefined (no confirmation)
   */
  confirm?: (plan: RotationPlan) => boolean | Promise<boolean>;
  /** Also write the new key as a console-format CSV (`aws configure import`), mode 0600. @default undefined */
  exportCsvFile?: string;
  /** Keep the backup of the credentials file after success. @default false */
  keepBackup?: boolean;
  /** Attempts to verify the new key with STS (IAM propagation). @default 10 */
  verifyAttempts?: number;
  /** Delay between verification attempts. @default 3000 */
  verifyDelayMs?: number;
  /** Endpoint/region options for the IAM and STS clients (credentials are always the profile's keys). */
  clientOptions?: Omit<ClientOptions, 'credentials' | 'profile' | 'env'>;
  /** Replace some side effects (tests inject failures here). @default real AWS + filesystem */
  steps?: Partial<RotationSteps>;
  /** Debug messages (step names, masked key ids; never secrets). @default no-op */
  logger?: Logger;
  /** Time source for the journal's start time. @default systemClock */
  clock?: Clock;
}

/** What a rotation will do (and, after it ran, did). Contains no secrets. */
export interface RotationPlan {
  profile: string;
  credentialsFile: string;
  userArn: string;
  userName: string;
  account: string;
  /** The key in the profile now. */
  oldKey: AccessKeyInfo;
  /** The user's other key, if any. */
  otherKey?: AccessKeyInfo;
  /** Id of a key that will be deleted first to stay within the 2-key limit. */
  deleteFirstKeyId?: string;
  oldKeyAction: 'deactivate' | 'delete';
  /** MFA device used for the IAM calls, if any. */
  mfaSerial?: string;
  /** Other profiles holding the same key that are updated too. */
  alsoUpdates: string[];
  /** Other profiles holding the same key that are left alone (`sameKeyProfiles: 'leave'`). */
  leaves: string[];
  /** The profile's stale session token line(s) will be removed. */
  removesSessionToken: boolean;
  /** 1-based lines of the credentials file that change. */
  changedLines: number[];
  exportCsvFile?: string;
  journalFile: string;
  backupFile: string;
  /** The steps, in order, as sentences (key ids masked). */
  steps: string[];
}

/** Result of {@link rotateAccessKey}. `newKey.secretAccessKey` is present so a caller can choose to show it. */
export interface RotationResult {
  dryRun: boolean;
  plan: RotationPlan;
  /** Set when not a dry run. */
  newKey?: NewAccessKey;
  /** What happened to the old key. */
  oldKeyStatus?: 'Inactive' | 'deleted';
  /** Verification attempts used. */
  verifyAttempts?: number;
  /** Kept backup path, if `keepBackup`. */
  backupFile?: string;
  /** Next steps for the user, as sentences. */
  nextSteps: string[];
}
