import { constants } from 'node:fs';
import { access, readFile, realpath, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadSharedConfigFiles } from '@smithy/shared-ini-file-loader';
import {
  decodeFileText,
  describeNonStaticProfile,
  type ProfileKeys,
  profilesWithKey,
  readProfileKeys,
  replaceProfileKeys,
} from './credentialsFile.js';
import { CredentialsFileError } from './errors.js';
import type { ProfileOptions } from './types.js';

/** Stand-in keys (AWS's documented example pair) for dry-running an edit before any real key exists. */
export const PROBE_KEYS = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
} as const;

/** Where a profile's key lives and what it is. */
export interface LocatedProfile {
  profile: string;
  /** The credentials file as configured (may be a symlink). */
  credentialsFile: string;
  /** The file we actually rewrite (symlinks resolved, so the link stays a link). */
  realFile: string;
  configFile: string;
  /** File contents when read. */
  text: string;
  keys: ProfileKeys;
  /** The profile's `mfa_serial` (config or credentials file), if any. */
  mfaSerial?: string;
  /** Other profiles of the file that hold the same access key id. */
  sameKeyProfiles: string[];
}

/**
 * Resolves the profile name and file paths. Order: option > environment variable > default.
 */
export function resolveProfilePaths(options: ProfileOptions = {}): {
  profile: string;
  credentialsFile: string;
  configFile: string;
} {
  const env = options.env ?? process.env;
  const home = env.HOME || env.USERPROFILE || homedir();
  return {
    profile: options.profile || env.AWS_PROFILE || 'default',
    credentialsFile:
      options.credentialsFile || env.AWS_SHARED_CREDENTIALS_FILE || join(home, '.aws', 'credentials'),
    configFile: options.configFile || env.AWS_CONFIG_FILE || join(home, '.aws', 'config'),
  };
}

async function explainMissing(profile: string, credentialsFile: string, configFile: string): Promise<never> {
  const files = await loadSharedConfigFiles({
    filepath: join(dirname(credentialsFile), '.awskit-nonexistent'),
    configFilepath: configFile,
    ignoreCache: true,
  }).catch(() => ({ configFile: {} as Record<string, Record<string, string | undefined>> }));
  const section = files.configFile[profile];
  if (section) {
    if (section.aws_access_key_id) {
      throw new CredentialsFileError(
        'PROFILE_NOT_STATIC',
        `Profile "${profile}" keeps its access key in the config file (${configFile}), not the credentials file`,
        {
          hint: `Move aws_access_key_id/aws_secret_access_key of [profile ${profile}] into ${credentialsFile} and run again.`,
        },
      );
    }
    const kind = describeNonStaticProfile(Object.keys(section).map((key) => ({ key })));
    throw new CredentialsFileError(
      'PROFILE_NOT_STATIC',
      `Profile "${profile}" uses ${kind ?? 'no static access key'} (${configFile}); there is no access key to rotate`,
      {
        hint: 'Only IAM user access keys can be rotated; SSO and role credentials are refreshed by their own tools.',
      },
    );
  }
  throw new CredentialsFileError(
    'IAM_ROTATION_PROFILE_NOT_FOUND',
    `Profile "${profile}" is not in ${credentialsFile}`,
    {
      hint: 'Check --profile / AWS_PROFILE and AWS_SHARED_CREDENTIALS_FILE.',
    },
  );
}

/**
 * Finds the profile's static key and checks that the credentials file can be rewritten safely, before anything is
 * created in AWS.
 *
 * @throws {CredentialsFileError} `CREDENTIALS_FILE_NOT_FOUND`, `IAM_ROTATION_PROFILE_NOT_FOUND`, `PROFILE_NOT_STATIC`,
 *   `TEMPORARY_CREDENTIALS`, `CREDENTIALS_FILE_AMBIGUOUS`, `CREDENTIALS_FILE_MISMATCH`, `CREDENTIALS_FILE_NOT_WRITABLE`
 */
export async function locateProfile(options: ProfileOptions = {}): Promise<LocatedProfile> {
  const { profile, credentialsFile, configFile } = resolveProfilePaths(options);
  let text: string;
  let realFile: string;
  try {
    realFile = await realpath(credentialsFile);
    text = decodeFileText(await readFile(realFile), credentialsFile);
  } catch (e) {
    if (e instanceof CredentialsFileError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new CredentialsFileError(
        'CREDENTIALS_FILE_NOT_FOUND',
        `No credentials file at ${credentialsFile}`,
        {
          hint: 'Set AWS_SHARED_CREDENTIALS_FILE or pass --credentials-file; `aws configure` creates the file.',
          cause: e,
        },
      );
    }
    throw new CredentialsFileError(
      'CREDENTIALS_FILE_INVALID',
      `Cannot read ${credentialsFile}: ${code ?? e}`,
      {
        cause: e,
      },
    );
  }
  const keys = readProfileKeys(text, profile);
  if (!keys) return explainMissing(profile, credentialsFile, configFile);
  if (keys.accessKeyId.startsWith('ASIA')) {
    throw new CredentialsFileError(
      'TEMPORARY_CREDENTIALS',
      `Profile "${profile}" holds temporary credentials (ASIA…), which cannot be rotated`,
      { hint: 'Rotate the long-term IAM user key (AKIA…) that these session credentials came from.' },
    );
  }
  // Our parser mirrors the SDK's; if they ever disagree, editing would be a guess, so refuse.
  const sdk = await loadSharedConfigFiles({
    filepath: realFile,
    configFilepath: configFile,
    ignoreCache: true,
  });
  const seen = sdk.credentialsFile[profile];
  if (seen?.aws_access_key_id !== keys.accessKeyId || seen?.aws_secret_access_key !== keys.secretAccessKey) {
    throw new CredentialsFileError(
      'CREDENTIALS_FILE_MISMATCH',
      `The AWS SDK reads a different key for profile "${profile}" than awskit found in ${credentialsFile}`,
      { hint: 'Simplify the profile section (one key line each, no unusual syntax) and run again.' },
    );
  }
  // Dry-run the edit now, so a file we could not rewrite safely is refused before any AWS call.
  replaceProfileKeys(text, profile, PROBE_KEYS);
  const sameKeyProfiles = profilesWithKey(text, keys.accessKeyId).filter((p) => p !== profile);
  await assertWritable(realFile, credentialsFile);
  const mfaSerial = sdk.configFile[profile]?.mfa_serial ?? seen?.mfa_serial;
  return {
    profile,
    credentialsFile,
    realFile,
    configFile,
    text,
    keys,
    sameKeyProfiles,
    ...(mfaSerial ? { mfaSerial } : {}),
  };
}

async function assertWritable(realFile: string, shown: string): Promise<void> {
  const st = await stat(realFile);
  const fail = (why: string, cause?: unknown) =>
    new CredentialsFileError('CREDENTIALS_FILE_NOT_WRITABLE', `Cannot safely rewrite ${shown}: ${why}`, {
      hint: 'Fix the permissions (chmod 600 the file, make its directory writable) or rotate with a writable copy via AWS_SHARED_CREDENTIALS_FILE.',
      cause,
    });
  if (!st.isFile()) throw fail('not a regular file');
  // A read-only mode is a deliberate signal even when we run as root (who would pass access(W_OK)).
  if ((st.mode & 0o222) === 0) throw fail(`the file is read-only (mode ${(st.mode & 0o777).toString(8)})`);
  try {
    await access(realFile, constants.W_OK);
  } catch (e) {
    throw fail('no write permission on the file', e);
  }
  try {
    // The atomic write creates a temp file beside it and renames it.
    await access(dirname(realFile), constants.W_OK | constants.X_OK);
  } catch (e) {
    throw fail(`no write permission on its directory ${dirname(realFile)}`, e);
  }
}
