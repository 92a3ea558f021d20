import { ChangePasswordCommand, GetAccountPasswordPolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import { type ClientOptions, createClient, isAwskitError, toAwskitError } from '@awskit/core';
import { PasswordChangeError } from './errors.js';
import { checkPasswordAgainstPolicy, describePasswordPolicy, type PasswordRules } from './passwordPolicy.js';

/** Options for {@link changePassword}. Passwords are never logged or put into errors. */
export interface ChangePasswordOptions {
  oldPassword: string;
  newPassword: string;
  /** Read the account password policy first and report every rule the new password breaks. @default true */
  checkPolicy?: boolean;
  /** How to reach IAM and which credentials to use. @default resolved by core */
  clientOptions?: ClientOptions;
  /** Use this client instead of building one. */
  /** @default built from `clientOptions` */
  iam?: IAMClient;
}

/** Result of {@link changePassword}. */
export interface ChangePasswordResult {
  changed: true;
  /** The policy that applied, if it could be read. */
  policy?: PasswordRules;
}

const errorName = (e: unknown) => (e as { name?: string } | undefined)?.name ?? '';

async function readPolicy(iam: IAMClient): Promise<PasswordRules | undefined> {
  try {
    return (await iam.send(new GetAccountPasswordPolicyCommand({}))).PasswordPolicy;
  } catch {
    // No policy (NoSuchEntity) or no permission to read it: AWS still enforces it on ChangePassword.
    return undefined;
  }
}

/**
 * Changes the calling IAM user's console password (IAM ChangePassword), with the account's password-policy
 * errors explained plainly.
 *
 * @throws {PasswordChangeError} `PASSWORD_POLICY_VIOLATION` (every broken rule listed), `PASSWORD_CHANGE_FAILED`
 * @example
 * await changePassword({ oldPassword, newPassword, clientOptions: { profile: 'work' } });
 */
export async function changePassword(options: ChangePasswordOptions): Promise<ChangePasswordResult> {
  const { oldPassword, newPassword, checkPolicy = true } = options;
  if (!oldPassword || !newPassword) {
    throw new PasswordChangeError(
      'IAM_ROTATION_INVALID_OPTIONS',
      'Both the current and the new password are required',
    );
  }
  if (oldPassword === newPassword) {
    throw new PasswordChangeError(
      'PASSWORD_POLICY_VIOLATION',
      'The new password is the same as the current one',
      {
        hint: 'Choose a different password.',
      },
    );
  }
  let iam = options.iam;
  if (!iam) {
    const opts = options.clientOptions ?? {};
    iam = await createClient(IAMClient, opts).catch((e) => {
      if (isAwskitError(e, 'REGION_MISSING'))
        return createClient(IAMClient, { ...opts, region: 'us-east-1' });
      throw e;
    });
  }
  const policy = checkPolicy ? await readPolicy(iam) : undefined;
  if (policy) {
    const problems = checkPasswordAgainstPolicy(newPassword, policy);
    if (problems.length) {
      throw new PasswordChangeError(
        'PASSWORD_POLICY_VIOLATION',
        `The new password breaks the account password policy: it ${problems.join('; it ')}`,
        {
          hint: `The policy requires ${describePasswordPolicy(policy).join(', ')}.`,
          details: { problems },
        },
      );
    }
  }
  try {
    await iam.send(new ChangePasswordCommand({ OldPassword: oldPassword, NewPassword: newPassword }));
  } catch (e) {
    throw explainChangePasswordError(e, policy);
  }
  return { changed: true, ...(policy ? { policy } : {}) };
}

/** Maps IAM ChangePassword errors to plain messages. Exported for tests. */
export function explainChangePasswordError(e: unknown, policy?: PasswordRules): Error {
  const name = errorName(e);
  const awsMessage = (e as { message?: string } | undefined)?.message;
  const make = (
    code: 'PASSWORD_POLICY_VIOLATION' | 'PASSWORD_CHANGE_FAILED',
    message: string,
    hint: string,
  ) => new PasswordChangeError(code, message, { hint, cause: e });
  switch (name) {
    case 'PasswordPolicyViolationException':
    case 'PasswordPolicyViolation':
      return make(
        'PASSWORD_POLICY_VIOLATION',
        `The new password was rejected by the account password policy${awsMessage ? `: ${awsMessage}` : ''}`,
        policy
          ? `The policy requires ${describePasswordPolicy(policy).join(', ')}.`
          : 'Ask your administrator for the password policy (iam get-account-password-policy).',
      );
    case 'NoSuchEntityException':
    case 'NoSuchEntity':
      return make(
        'PASSWORD_CHANGE_FAILED',
        'This IAM user has no console password to change',
        'An administrator can create one (iam create-login-profile).',
      );
    case 'InvalidUserTypeException':
    case 'InvalidUserType':
      return make(
        'PASSWORD_CHANGE_FAILED',
        'Only IAM users can change their password with ChangePassword',
        'The root user changes its password in the console.',
      );
    case 'EntityTemporarilyUnmodifiableException':
    case 'EntityTemporarilyUnmodifiable':
      return make(
        'PASSWORD_CHANGE_FAILED',
        'The password was changed very recently and cannot be changed again yet',
        'Wait a few minutes and try again.',
      );
    case 'LimitExceededException':
    case 'LimitExceeded':
      return make(
        'PASSWORD_CHANGE_FAILED',
        'Too many password change attempts',
        'Wait a while before trying again.',
      );
    default: {
      if (isAwskitError(e)) return e;
      const err = toAwskitError(e, { service: 'iam', operation: 'ChangePassword' });
      return new PasswordChangeError('PASSWORD_CHANGE_FAILED', `Password change failed: ${err.message}`, {
        hint: err.hint ?? 'Check the current password and that you are allowed iam:ChangePassword.',
        cause: e,
      });
    }
  }
}
