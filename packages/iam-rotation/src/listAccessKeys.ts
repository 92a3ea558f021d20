import { IAMClient } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { type ClientOptions, type Clock, isAwskitError, systemClock, toAwskitError } from '@awskit/core';
import { createIamOrStsClient, fetchAccessKeys } from './awsSteps.js';
import { IamRotationError } from './errors.js';
import { userNameFromArn } from './rotationShared.js';
import type { AccessKeyInfo } from './types.js';

const DAY_MS = 86_400_000;

/** One key with its age, as reported by {@link listAccessKeys}. */
export interface AccessKeyReport extends AccessKeyInfo {
  /** Whole days since creation (undefined if AWS gave no date). */
  ageDays?: number;
  /** Whole days since last use (undefined if never used). */
  daysSinceLastUse?: number;
}

/** Options for {@link listAccessKeys}. */
export interface ListAccessKeysOptions {
  /** IAM user whose keys to list. @default the caller's own user (from STS GetCallerIdentity) */
  userName?: string;
  /** How to reach IAM/STS and which credentials to use (profile, region, endpoint…). @default resolved by core */
  clientOptions?: ClientOptions;
  /** Use this IAM client instead of building one. @default built from `clientOptions` */
  iam?: IAMClient;
  /** Use this STS client instead of building one. @default built from `clientOptions` */
  sts?: STSClient;
  /** @default systemClock */
  clock?: Clock;
}

/** Result of {@link listAccessKeys}. */
export interface AccessKeyListing {
  userName: string;
  keys: AccessKeyReport[];
}

/**
 * Lists a user's access keys with status, age and last use.
 *
 * @throws {IamRotationError} `NOT_AN_IAM_USER` when no user name is given and the caller is not an IAM user
 * @example
 * const { keys } = await listAccessKeys({ clientOptions: { profile: 'work' } });
 * const stale = keysOlderThan(keys, 90);
 */
export async function listAccessKeys(options: ListAccessKeysOptions = {}): Promise<AccessKeyListing> {
  const opts = options.clientOptions ?? {};
  const now = (options.clock ?? systemClock).now();
  try {
    let userName = options.userName;
    if (!userName) {
      const sts = options.sts ?? (await createIamOrStsClient(STSClient, opts));
      const id = await sts.send(new GetCallerIdentityCommand({}));
      userName = userNameFromArn(id.Arn ?? '');
      if (!userName) {
        throw new IamRotationError('NOT_AN_IAM_USER', `The caller ${id.Arn} is not an IAM user`, {
          hint: 'Pass --user-name to list a specific user’s keys.',
        });
      }
    }
    const iam = options.iam ?? (await createIamOrStsClient(IAMClient, opts));
    const keys = (await fetchAccessKeys(iam, userName)).map((k): AccessKeyReport => {
      const r: AccessKeyReport = { ...k };
      if (k.createDate) r.ageDays = Math.floor((now - k.createDate.getTime()) / DAY_MS);
      if (k.lastUsed?.date) r.daysSinceLastUse = Math.floor((now - k.lastUsed.date.getTime()) / DAY_MS);
      return r;
    });
    return { userName, keys };
  } catch (e) {
    if (isAwskitError(e)) throw e;
    throw toAwskitError(e, { service: 'iam', operation: 'ListAccessKeys' });
  }
}

/**
 * The keys older than `maxAgeDays` × 24 h (by creation date, exactly, so `0` means "any key"). Inactive keys count
 * too: they still exist and still count against the 2-key limit.
 *
 * @param now - the current time in ms @default Date.now()
 */
export function keysOlderThan<K extends AccessKeyInfo>(
  keys: K[],
  maxAgeDays: number,
  now: number = Date.now(),
): K[] {
  return keys.filter((k) => k.createDate !== undefined && now - k.createDate.getTime() > maxAgeDays * DAY_MS);
}
