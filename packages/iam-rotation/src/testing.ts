/**
 * Test fixtures for key rotation against moto (`@awskit/iam-rotation/testing`): a moto that enforces credentials
 * (a deleted or wrong key is rejected, so "works" means STS accepts the key) with an admin key, and IAM users
 * allowed to rotate their own key. Needs `@awskit/local` (moto) installed.
 */
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  IAMClient,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { createClient } from '@awskit/core';
import { type MotoServer, startMotoServer } from '@awskit/local';
import { uniqueName } from '@awskit/local/testing';
import type { StaticCredentials } from './types.js';

/** Number of unauthenticated calls the enforcing moto allows: exactly the admin bootstrap below. */
const BOOTSTRAP_CALLS = 3;

const ALLOW_ALL = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
});

/** The IAM policy a user needs to rotate its own key (and nothing else). */
export const SELF_SERVICE_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: [
        'iam:ListAccessKeys',
        'iam:CreateAccessKey',
        'iam:UpdateAccessKey',
        'iam:DeleteAccessKey',
        'iam:GetAccessKeyLastUsed',
        'sts:GetCallerIdentity',
      ],
      Resource: '*',
    },
  ],
});

/** A moto that enforces credentials (deleted key → InvalidClientTokenId) plus an admin key to set things up. */
export interface EnforcingMoto {
  endpoint: string;
  admin: StaticCredentials;
  /** An IAM client signed with `creds` (default: the admin key). */
  iam(creds?: StaticCredentials): Promise<IAMClient>;
  /** An STS client signed with `creds`. */
  sts(creds: StaticCredentials): Promise<STSClient>;
  stop(): Promise<void>;
}

const clientOpts = (endpoint: string, creds: StaticCredentials) => ({
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey },
  env: {},
  maxAttempts: 1,
});

/**
 * Starts a private moto with `INITIAL_NO_AUTH_ACTION_COUNT` and bootstraps an admin user with a key.
 *
 * @example
 * const moto = await startEnforcingMoto();
 * const { userName, keys } = await createUserWithKey(await moto.iam());
 */
export async function startEnforcingMoto(): Promise<EnforcingMoto> {
  const moto: MotoServer = await startMotoServer({
    env: { INITIAL_NO_AUTH_ACTION_COUNT: String(BOOTSTRAP_CALLS) },
  });
  const endpoint = moto.endpoint;
  try {
    const bootstrap = await createClient(
      IAMClient,
      clientOpts(endpoint, { accessKeyId: 'AKIABOOTSTRAP0000000', secretAccessKey: 'x' }),
    );
    await bootstrap.send(new CreateUserCommand({ UserName: 'admin' }));
    await bootstrap.send(
      new PutUserPolicyCommand({ UserName: 'admin', PolicyName: 'all', PolicyDocument: ALLOW_ALL }),
    );
    const key = (await bootstrap.send(new CreateAccessKeyCommand({ UserName: 'admin' }))).AccessKey!;
    const admin = { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! };
    return {
      endpoint,
      admin,
      iam: (creds = admin) => createClient(IAMClient, clientOpts(endpoint, creds)),
      sts: (creds) => createClient(STSClient, clientOpts(endpoint, creds)),
      stop: () => moto.stop(),
    };
  } catch (e) {
    await moto.stop();
    throw e;
  }
}

/** Creates a user allowed to manage its own keys ({@link SELF_SERVICE_POLICY}), with `keys` access keys (default 1). */
export async function createUserWithKey(
  iam: IAMClient,
  opts: { name?: string; keys?: number } = {},
): Promise<{ userName: string; keys: StaticCredentials[] }> {
  const userName = opts.name ?? uniqueName('user');
  await iam.send(new CreateUserCommand({ UserName: userName }));
  await iam.send(
    new PutUserPolicyCommand({ UserName: userName, PolicyName: 'self', PolicyDocument: SELF_SERVICE_POLICY }),
  );
  const keys: StaticCredentials[] = [];
  for (let i = 0; i < (opts.keys ?? 1); i++) {
    const k = (await iam.send(new CreateAccessKeyCommand({ UserName: userName }))).AccessKey!;
    keys.push({ accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! });
  }
  return { userName, keys };
}
