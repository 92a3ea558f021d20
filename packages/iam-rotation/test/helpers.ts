import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  IAMClient,
  ListAccessKeysCommand,
  PutUserPolicyCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { createClient, type Logger } from '@awskit/core';
import { type MotoServer, startMotoServer } from '@awskit/local';
import { uniqueName } from '@awskit/local/testing';
import { afterAll, beforeAll } from 'vitest';
import { createRotationSteps } from '../src/awsSteps.js';
import type { RotateAccessKeyOptions, StaticCredentials } from '../src/types.js';

/** Number of unauthenticated calls the enforcing moto allows: exactly the admin bootstrap below. */
const BOOTSTRAP_CALLS = 3;

const ALLOW_ALL = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
});
/** What a user needs to rotate its own key. */
const SELF_SERVICE = JSON.stringify({
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
  iam(creds?: StaticCredentials): Promise<IAMClient>;
  sts(creds: StaticCredentials): Promise<STSClient>;
  stop(): Promise<void>;
}

const clientOpts = (endpoint: string, creds: StaticCredentials) => ({
  endpoint,
  region: 'us-east-1',
  credentials: { ...creds },
  env: {},
  maxAttempts: 1,
});

/** Starts a private moto with `INITIAL_NO_AUTH_ACTION_COUNT` and bootstraps an admin user with a key. */
export async function startEnforcingMoto(): Promise<EnforcingMoto> {
  const moto: MotoServer = await startMotoServer({
    env: { INITIAL_NO_AUTH_ACTION_COUNT: String(BOOTSTRAP_CALLS) },
  });
  const endpoint = moto.endpoint;
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
}

/**
 * One enforcing moto for the calling test file: started in `beforeAll`, stopped in `afterAll`. The returned handle
 * forwards to it, so use it inside tests and hooks only.
 */
export function useEnforcingMoto(): EnforcingMoto {
  let moto: EnforcingMoto | undefined;
  beforeAll(async () => {
    moto = await startEnforcingMoto();
  });
  afterAll(async () => {
    await moto?.stop();
  });
  const started = () => {
    if (!moto) throw new Error('the enforcing moto is used before beforeAll started it');
    return moto;
  };
  return {
    get endpoint() {
      return started().endpoint;
    },
    get admin() {
      return started().admin;
    },
    iam: (creds) => started().iam(creds),
    sts: (creds) => started().sts(creds),
    stop: () => started().stop(),
  };
}

/** Whether a path exists. */
export const exists = (file: string) =>
  stat(file).then(
    () => true,
    () => false,
  );

/** A file's permission bits (e.g. `0o600`). */
export const fileMode = async (file: string) => (await stat(file)).mode & 0o777;

/** A credentials file with only a `[work]` profile holding `key`. */
export const workProfileText = (key: StaticCredentials) =>
  `[work]\naws_access_key_id = ${key.accessKeyId}\naws_secret_access_key = ${key.secretAccessKey}\n`;

/**
 * Rotation options for the `work` profile of `aws` against `moto`: an empty environment and fast verification
 * (3 attempts, 10 ms apart) unless `extra` says otherwise.
 */
export function workRotationOptions(
  moto: { endpoint: string },
  aws: { credentialsFile: string; configFile: string },
  extra: RotateAccessKeyOptions = {},
) {
  return {
    profile: 'work',
    credentialsFile: aws.credentialsFile,
    configFile: aws.configFile,
    env: {},
    clientOptions: { endpoint: moto.endpoint, region: 'us-east-1' },
    verifyAttempts: 3,
    verifyDelayMs: 10,
    ...extra,
  } satisfies RotateAccessKeyOptions;
}

/** The real AWS steps of a rotation, pointed at `moto` with an empty environment. */
export const realRotationSteps = (moto: { endpoint: string }) =>
  createRotationSteps({ clientOptions: { endpoint: moto.endpoint, region: 'us-east-1', env: {} } });

/**
 * A user with `keys` access keys (default 1) and a temp AWS dir whose credentials file is `credentials(first key)`
 * (default {@link workProfileText}) and whose config file is `config`. Call `aws.cleanup()` when done.
 */
export async function createUserWithProfile(
  moto: EnforcingMoto,
  opts: { keys?: number; credentials?: (key: StaticCredentials) => string; config?: string } = {},
) {
  const admin = await moto.iam();
  const { userName, keys } = await createUserWithKey(admin, { keys: opts.keys ?? 1 });
  const old = keys[0]!;
  const credentials = (opts.credentials ?? workProfileText)(old);
  const aws = await makeAwsDir(credentials, opts.config);
  return { admin, userName, keys, old, credentials, aws };
}

/** Sets one of the user's access keys to Inactive. */
export async function deactivateKey(iam: IAMClient, userName: string, accessKeyId: string): Promise<void> {
  await iam.send(
    new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: accessKeyId, Status: 'Inactive' }),
  );
}

/** Creates a user allowed to manage its own keys, with one access key. */
export async function createUserWithKey(
  iam: IAMClient,
  opts: { name?: string; keys?: number } = {},
): Promise<{ userName: string; keys: StaticCredentials[] }> {
  const userName = opts.name ?? uniqueName('user');
  await iam.send(new CreateUserCommand({ UserName: userName }));
  await iam.send(
    new PutUserPolicyCommand({ UserName: userName, PolicyName: 'self', PolicyDocument: SELF_SERVICE }),
  );
  const keys: StaticCredentials[] = [];
  for (let i = 0; i < (opts.keys ?? 1); i++) {
    const k = (await iam.send(new CreateAccessKeyCommand({ UserName: userName }))).AccessKey!;
    keys.push({ accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! });
  }
  return { userName, keys };
}

/** The user's keys as `{ id: status }`. */
export async function keyStatuses(iam: IAMClient, userName: string): Promise<Record<string, string>> {
  const out = await iam.send(new ListAccessKeysCommand({ UserName: userName }));
  return Object.fromEntries((out.AccessKeyMetadata ?? []).map((k) => [k.AccessKeyId!, k.Status!]));
}

/** STS GetCallerIdentity as `creds`: the ARN, or the error name. */
export async function whoAmI(
  moto: { sts(c: StaticCredentials): Promise<STSClient> },
  creds: StaticCredentials,
) {
  try {
    // Only the key pair: a stale session token would make AWS (and moto) reject the call.
    const pair = { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey };
    const out = await (await moto.sts(pair)).send(new GetCallerIdentityCommand({}));
    return { arn: out.Arn };
  } catch (e) {
    return { error: (e as Error).name };
  }
}

/** A temp dir with a credentials file (0600) and an empty config file. */
export async function makeAwsDir(
  credentials: string,
  config = '',
): Promise<{
  dir: string;
  credentialsFile: string;
  configFile: string;
  cleanup(): Promise<void>;
}> {
  const dir = await mkdtemp(join(tmpdir(), 'awskit-iam-'));
  const credentialsFile = join(dir, 'credentials');
  const configFile = join(dir, 'config');
  await writeFile(credentialsFile, credentials);
  await chmod(credentialsFile, 0o600);
  await writeFile(configFile, config);
  return { dir, credentialsFile, configFile, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A credentials file with comments, odd spacing, CRLF in one profile, several profiles and the target in the middle. */
export function fixtureCredentials(profile: string, key: StaticCredentials): string {
  return [
    '# ~/.aws/credentials — hand-edited',
    '; keep this comment',
    '[default]',
    'aws_access_key_id=AKIADEFAULTDEFAULT00',
    'aws_secret_access_key = defaultsecret   # inline comment',
    '',
    `[${profile}]\r`,
    `  aws_access_key_id   =   ${key.accessKeyId}   ; the laptop key\r`,
    'region=eu-west-1\r',
    `aws_secret_access_key=${key.secretAccessKey}\r`,
    'aws_session_token = stale-token-from-last-week\r',
    '',
    '[other]',
    'aws_access_key_id = AKIAOTHEROTHEROTHER0',
    'aws_secret_access_key = othersecret',
  ].join('\n'); // no trailing newline on purpose
}

/** A logger that records everything (to prove secrets never reach it). */
export function recordingLogger(): Logger & { entries: string[] } {
  const entries: string[] = [];
  const rec = (level: string) => (msg: string, fields?: Record<string, unknown>) => {
    entries.push(`${level} ${msg} ${JSON.stringify(fields ?? {})}`);
  };
  return { entries, debug: rec('debug'), info: rec('info'), warn: rec('warn'), error: rec('error') };
}
