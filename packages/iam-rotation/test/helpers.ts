import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type IAMClient, ListAccessKeysCommand, UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import type { Logger } from '@awskit/core';
import { afterAll, beforeAll } from 'vitest';
import { createRotationSteps } from '../src/awsSteps.js';
import { createUserWithKey, type EnforcingMoto, startEnforcingMoto } from '../src/testing.js';
import type {
  RotateAccessKeyOptions,
  RotationStepName,
  RotationSteps,
  StaticCredentials,
} from '../src/types.js';

export { createUserWithKey, type EnforcingMoto, startEnforcingMoto };

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

/** {@link createUserWithProfile} whose `[work]` profile sits in the {@link fixtureCredentials} file. */
export const createUserWithFixtureProfile = (moto: EnforcingMoto) =>
  createUserWithProfile(moto, { credentials: (key) => fixtureCredentials('work', key) });

/**
 * The real steps, except that STS rejects every key but `old` as unknown: the new key never verifies, so the
 * rotation rolls back after it wrote the file.
 */
export function newKeyNeverVerifies(real: RotationSteps, old: StaticCredentials): RotationSteps {
  return {
    ...real,
    getCallerIdentity: async (creds) => {
      if (creds.accessKeyId !== old.accessKeyId)
        throw Object.assign(new Error('not yet'), { name: 'InvalidClientTokenId' });
      return real.getCallerIdentity(creds);
    },
  };
}

/** Sets one of the user's access keys to Inactive. */
export async function deactivateKey(iam: IAMClient, userName: string, accessKeyId: string): Promise<void> {
  await iam.send(
    new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: accessKeyId, Status: 'Inactive' }),
  );
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

/**
 * The real steps of a rotation that is SIGKILLed right before the first call `killBefore(name, path)` picks: that
 * call never settles, so no catch or finally of the run executes and the disk holds exactly what a killed process
 * leaves. `killed` resolves at that moment. `releaseLocksOfKilledRun(dir)` then makes the run's lock files name a
 * dead process, as after a real kill (the next run takes them over).
 */
export function killableSteps(
  moto: { endpoint: string },
  killBefore: (name: RotationStepName, path: unknown) => boolean,
) {
  const real = realRotationSteps(moto);
  let onKilled!: () => void;
  const killed = new Promise<void>((r) => {
    onKilled = r;
  });
  let dead = false;
  const steps = {} as Record<string, unknown>;
  for (const name of Object.keys(real) as RotationStepName[]) {
    const fn = real[name] as (...a: unknown[]) => Promise<unknown>;
    steps[name] = async (...args: unknown[]) => {
      if (!dead && killBefore(name, args[0])) dead = true;
      if (dead) {
        onKilled();
        return new Promise(() => {});
      }
      return fn(...args);
    };
  }
  return { steps: steps as unknown as RotationSteps, killed };
}

/** Rewrites every awskit lock file in `dir` to name a process that has exited (what a SIGKILLed run leaves). */
export async function releaseLocksOfKilledRun(dir: string): Promise<void> {
  const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
  for (const f of await readdir(dir))
    if (/\.awskit-lock$|\.json\.lock$/.test(f)) await writeFile(join(dir, f), `${deadPid}\nkilled\n`);
}
