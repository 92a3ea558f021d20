import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  DeleteAccountPasswordPolicyCommand,
  IAMClient,
  UpdateAccessKeyCommand,
  UpdateAccountPasswordPolicyCommand,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { createClient } from '@awskit/core';
import { testClientOptions, uniqueName } from '@awskit/local/testing';
import { describe, expect, it } from 'vitest';
import { changePassword } from '../src/changePassword.js';
import { keysOlderThan, listAccessKeys } from '../src/listAccessKeys.js';

const DAY = 86_400_000;

async function userWithTwoKeys() {
  const admin = await createClient(IAMClient, testClientOptions());
  const userName = uniqueName('keys');
  await admin.send(new CreateUserCommand({ UserName: userName }));
  const keys = [];
  for (let i = 0; i < 2; i++) {
    const k = (await admin.send(new CreateAccessKeyCommand({ UserName: userName }))).AccessKey!;
    keys.push({ accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! });
  }
  await admin.send(
    new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: keys[1]!.accessKeyId, Status: 'Inactive' }),
  );
  return { admin, userName, keys };
}

describe('listAccessKeys (local AWS)', () => {
  it("lists the caller's own keys with status, age from an injected clock, and last use", async () => {
    const { userName, keys } = await userWithTwoKeys();
    const asUser = testClientOptions({ credentials: keys[0]! });
    // Use key 0 once so it has a last-used date.
    await (await createClient(STSClient, asUser)).send(new GetCallerIdentityCommand({}));
    const listing = await listAccessKeys({
      clientOptions: asUser,
      clock: { now: () => Date.now() + 100 * DAY },
    });
    expect(listing.userName).toBe(userName);
    const byId = Object.fromEntries(listing.keys.map((k) => [k.accessKeyId, k]));
    expect(byId[keys[0]!.accessKeyId]).toMatchObject({ status: 'Active', ageDays: 100 });
    expect(byId[keys[1]!.accessKeyId]).toMatchObject({ status: 'Inactive', ageDays: 100 });
    expect(byId[keys[0]!.accessKeyId]?.lastUsed?.date).toBeInstanceOf(Date);
    const later = Date.now() + 100 * DAY;
    expect(keysOlderThan(listing.keys, 99, later)).toHaveLength(2);
    expect(keysOlderThan(listing.keys, 101, later)).toHaveLength(0);
  });

  it('lists another user by name', async () => {
    const { userName, keys } = await userWithTwoKeys();
    const listing = await listAccessKeys({ userName, clientOptions: testClientOptions() });
    expect(listing.keys.map((k) => k.accessKeyId).sort()).toEqual(keys.map((k) => k.accessKeyId).sort());
  });
});

describe('changePassword (local AWS)', () => {
  it('reports every rule of the account password policy the new password breaks, before calling ChangePassword', async () => {
    const admin = await createClient(IAMClient, testClientOptions());
    await admin.send(
      new UpdateAccountPasswordPolicyCommand({
        MinimumPasswordLength: 16,
        RequireNumbers: true,
        RequireSymbols: true,
        RequireUppercaseCharacters: true,
      }),
    );
    try {
      const err = await changePassword({
        oldPassword: 'Old-password-123',
        newPassword: 'weakpass',
        clientOptions: testClientOptions(),
      }).catch((e) => e);
      expect(err).toMatchObject({
        code: 'PASSWORD_POLICY_VIOLATION',
        message: expect.stringMatching(/at least 16 characters.*uppercase.*number.*symbol/s),
        hint: 'The policy requires at least 16 characters, an uppercase letter, a number, a symbol.',
      });
      // Neither password appears in the error.
      expect(JSON.stringify({ m: err.message, h: err.hint, d: err.details })).not.toMatch(
        /weakpass|Old-password-123/,
      );
    } finally {
      await admin.send(new DeleteAccountPasswordPolicyCommand({}));
    }
  });

  it('refuses a new password equal to the current one without calling AWS', async () => {
    await expect(
      changePassword({
        oldPassword: 'Same-Password-1!',
        newPassword: 'Same-Password-1!',
        clientOptions: testClientOptions(),
      }),
    ).rejects.toMatchObject({ code: 'PASSWORD_POLICY_VIOLATION' });
  });
});

describe('rotateAccessKey on the shared local AWS', () => {
  it('refuses a key that is not an IAM user key (moto answers with a non-IAM ARN) before creating anything', async () => {
    const { makeAwsDir } = await import('./helpers.js');
    const { rotateAccessKey } = await import('../src/rotateAccessKey.js');
    const text = '[work]\naws_access_key_id = AKIANOTAUSER00000000\naws_secret_access_key = x\n';
    const aws = await makeAwsDir(text);
    try {
      await expect(
        rotateAccessKey({
          profile: 'work',
          credentialsFile: aws.credentialsFile,
          configFile: aws.configFile,
          env: {},
          clientOptions: { endpoint: testClientOptions().endpoint!, region: 'us-east-1' },
        }),
      ).rejects.toMatchObject({
        code: 'NOT_AN_IAM_USER',
        message: expect.stringContaining('not an IAM user'),
      });
      const { readFile } = await import('node:fs/promises');
      expect(await readFile(aws.credentialsFile, 'utf8')).toBe(text);
    } finally {
      await aws.cleanup();
    }
  });
});
