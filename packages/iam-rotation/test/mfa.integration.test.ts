import { readFile } from 'node:fs/promises';
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  IAMClient,
  ListAccessKeysCommand,
} from '@aws-sdk/client-iam';
import { createClient } from '@awskit/core';
import { localAwsEndpoint, testClientOptions, uniqueName } from '@awskit/local/testing';
import { describe, expect, it } from 'vitest';
import { createRotationSteps } from '../src/awsSteps.js';
import { readProfileKeys } from '../src/credentialsFile.js';
import { rotateAccessKey } from '../src/rotateAccessKey.js';
import type { RotationSteps, StaticCredentials } from '../src/types.js';
import { makeAwsDir, workProfileText } from './helpers.js';

// Moto (the shared local AWS) returns fixed example credentials from GetSessionToken and does not evaluate
// aws:MultiFactorAuthPresent, so these tests check the wiring: the session is requested with the right device and
// code, and every IAM call is signed with it while STS identity/verification use the keys themselves.

async function setup(config = '') {
  const admin = await createClient(IAMClient, testClientOptions());
  const userName = uniqueName('mfa');
  await admin.send(new CreateUserCommand({ UserName: userName }));
  const k = (await admin.send(new CreateAccessKeyCommand({ UserName: userName }))).AccessKey!;
  const old = { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! };
  const aws = await makeAwsDir(workProfileText(old), config);
  const real = createRotationSteps({
    clientOptions: { endpoint: localAwsEndpoint(), region: 'us-east-1', env: {} },
  });
  const signedBy: Array<[string, string]> = [];
  const sessions: Array<[string, string, number]> = [];
  const record =
    (name: keyof RotationSteps) =>
    (creds: StaticCredentials, ...rest: unknown[]) => {
      signedBy.push([name, creds.sessionToken ? 'session' : creds.accessKeyId]);
      return (real[name] as (...a: unknown[]) => Promise<unknown>)(creds, ...rest);
    };
  const steps: Partial<RotationSteps> = {
    getCallerIdentity: record('getCallerIdentity') as RotationSteps['getCallerIdentity'],
    listAccessKeys: record('listAccessKeys') as RotationSteps['listAccessKeys'],
    createAccessKey: record('createAccessKey') as RotationSteps['createAccessKey'],
    updateAccessKey: record('updateAccessKey') as RotationSteps['updateAccessKey'],
    getSessionToken: async (creds, serial, code, duration) => {
      sessions.push([serial, code, duration]);
      return real.getSessionToken(creds, serial, code, duration);
    },
  };
  const options = {
    profile: 'work',
    credentialsFile: aws.credentialsFile,
    configFile: aws.configFile,
    env: {},
    clientOptions: { endpoint: localAwsEndpoint(), region: 'us-east-1' },
    verifyAttempts: 2,
    verifyDelayMs: 10,
    steps,
  };
  return { admin, userName, old, aws, options, signedBy, sessions };
}

describe('rotateAccessKey with MFA', () => {
  it("uses the profile's mfa_serial and signs every IAM call with the MFA session", async () => {
    const serial = 'arn:aws:iam::123456789012:mfa/alice';
    const s = await setup(`[profile work]\nmfa_serial = ${serial}\n`);
    try {
      let asked = 0;
      const result = await rotateAccessKey({
        ...s.options,
        mfa: {
          tokenCode: () => {
            asked++;
            return '123456';
          },
        },
      });
      expect(asked).toBe(1);
      expect(s.sessions).toEqual([[serial, '123456', 900]]);
      expect(result.plan.mfaSerial).toBe(serial);
      expect(result.plan.steps[0]).toContain('MFA session');
      const iamCalls = s.signedBy.filter(([name]) => name !== 'getCallerIdentity');
      // The keys are listed for the plan and again after the confirmation (the plan may be stale by then).
      expect(iamCalls.map(([n]) => n)).toEqual([
        'listAccessKeys',
        'listAccessKeys',
        'createAccessKey',
        'updateAccessKey',
      ]);
      for (const [, by] of iamCalls) expect(by).toBe('session');
      // Identity and verification are signed by the keys themselves (old, then new).
      expect(s.signedBy.filter(([n]) => n === 'getCallerIdentity').map(([, by]) => by)).toEqual([
        s.old.accessKeyId,
        result.newKey!.accessKeyId,
      ]);
      const keys = await s.admin.send(new ListAccessKeysCommand({ UserName: s.userName }));
      expect(Object.fromEntries(keys.AccessKeyMetadata!.map((k) => [k.AccessKeyId, k.Status]))).toEqual({
        [s.old.accessKeyId]: 'Inactive',
        [result.newKey!.accessKeyId]: 'Active',
      });
    } finally {
      await s.aws.cleanup();
    }
  });

  it('refuses a malformed code or an unknown device before anything changes', async () => {
    const s = await setup();
    try {
      await expect(
        rotateAccessKey({ ...s.options, mfa: { serialNumber: 'arn:aws:iam::1:mfa/x', tokenCode: '12a' } }),
      ).rejects.toMatchObject({
        code: 'IAM_ROTATION_INVALID_OPTIONS',
        message: expect.stringContaining('6 digits'),
      });
      await expect(rotateAccessKey({ ...s.options, mfa: { tokenCode: '123456' } })).rejects.toMatchObject({
        code: 'IAM_ROTATION_INVALID_OPTIONS',
        hint: expect.stringContaining('mfa_serial'),
      });
      expect(s.sessions).toEqual([]);
      expect(readProfileKeys(await readFile(s.aws.credentialsFile, 'utf8'), 'work')?.accessKeyId).toBe(
        s.old.accessKeyId,
      );
      const keys = await s.admin.send(new ListAccessKeysCommand({ UserName: s.userName }));
      expect(keys.AccessKeyMetadata).toHaveLength(1);
    } finally {
      await s.aws.cleanup();
    }
  });
});
