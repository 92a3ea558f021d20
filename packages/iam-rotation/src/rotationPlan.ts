import { isAwskitError, maskKeyId, toAwskitError } from '@awskit/core';
import { replaceKeysInProfiles } from './credentialsFile.js';
import { IamRotationError, KeyLimitError } from './errors.js';
import type { RotationJournal } from './journal.js';
import { type LocatedProfile, PROBE_KEYS } from './profile.js';
import { type Context, describeKey, iamSigner, stepOf, unwrap, userNameFromArn } from './rotationShared.js';
import type { RotateAccessKeyOptions, RotationPlan, StaticCredentials } from './types.js';

/** Builds the plan: identity, keys, the 2-key decision, what lines change. No side effects. */
export async function makePlan(
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
        'IAM_ROTATION_INVALID_OPTIONS',
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
export function forUser(e: unknown, profile: string): unknown {
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

export function planFromJournal(journal: RotationJournal, journalFile: string): RotationPlan {
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
