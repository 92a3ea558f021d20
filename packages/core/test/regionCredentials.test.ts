import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CoreErrorCode,
  isAwskitError,
  LOCAL_CREDENTIALS,
  resolveCredentials,
  resolveRegion,
  resolveServiceConfig,
} from '../src/index';
import { makeHome, removeTempDirs } from './helpers';

const CONFIG = `[default]
region = eu-west-1

[profile dev]
region = ap-northeast-2

[profile regionless]
output = json

[profile assume]
role_arn = arn:aws:iam::123456789012:role/dev
source_profile = dev

[profile sso]
sso_session = corp
sso_account_id = 123456789012
sso_role_name = Dev
`;

const CREDENTIALS = `[default]
aws_access_key_id = AKIADEFAULT000000001
aws_secret_access_key = default-secret

[dev]
aws_access_key_id = AKIADEV0000000000002
aws_secret_access_key = dev-secret

[session]
aws_access_key_id = ASIASESSION000000003
aws_secret_access_key = session-secret
aws_session_token = session-token
`;

let home: string; // config + credentials
let configOnly: string; // a [default] profile with only a region, no credentials anywhere (a common dev machine)
let bare: string; // no ~/.aws at all

beforeAll(async () => {
  home = await makeHome({ config: CONFIG, credentials: CREDENTIALS });
  configOnly = await makeHome({ config: '[default]\nregion = sa-east-1\n' });
  bare = await makeHome();
});
afterAll(removeTempDirs);

async function identity(
  provider: AwsCredentialIdentity | AwsCredentialIdentityProvider,
): Promise<AwsCredentialIdentity> {
  return typeof provider === 'function' ? provider() : provider;
}

describe('resolveRegion', () => {
  const rows: Array<{
    name: string;
    env?: Record<string, string>;
    opts?: { region?: string; profile?: string };
    local?: boolean;
    expected: { value: string; source: string } | undefined;
  }> = [
    {
      name: 'the region option beats everything',
      env: { AWS_REGION: 'us-west-1', AWS_DEFAULT_REGION: 'us-west-2' },
      opts: { region: 'ca-central-1', profile: 'dev' },
      expected: { value: 'ca-central-1', source: 'option' },
    },
    {
      name: 'AWS_REGION beats AWS_DEFAULT_REGION and the profile',
      env: { AWS_REGION: 'us-west-1', AWS_DEFAULT_REGION: 'us-west-2', AWS_PROFILE: 'dev' },
      expected: { value: 'us-west-1', source: 'env:AWS_REGION' },
    },
    {
      name: 'AWS_DEFAULT_REGION beats the profile',
      env: { AWS_DEFAULT_REGION: 'us-west-2', AWS_PROFILE: 'dev' },
      expected: { value: 'us-west-2', source: 'env:AWS_DEFAULT_REGION' },
    },
    {
      name: 'the profile option selects the profile region',
      env: { AWS_PROFILE: 'default' },
      opts: { profile: 'dev' },
      expected: { value: 'ap-northeast-2', source: 'profile' },
    },
    {
      name: 'AWS_PROFILE selects the profile region',
      env: { AWS_PROFILE: 'dev' },
      expected: { value: 'ap-northeast-2', source: 'profile' },
    },
    { name: 'the default profile region', expected: { value: 'eu-west-1', source: 'profile' } },
    {
      name: 'the profile region beats the local default',
      local: true,
      expected: { value: 'eu-west-1', source: 'profile' },
    },
    {
      name: 'us-east-1 for a local endpoint when nothing is configured',
      env: { AWS_PROFILE: 'regionless' },
      local: true,
      expected: { value: 'us-east-1', source: 'local-default' },
    },
    {
      name: 'nothing for AWS when nothing is configured',
      env: { AWS_PROFILE: 'regionless' },
      expected: undefined,
    },
  ];
  it.each(rows)('$name', async ({ env = {}, opts = {}, local = false, expected }) => {
    expect(await resolveRegion({ ...opts, env: { HOME: home, ...env } }, local)).toEqual(expected);
  });

  it('REGION_MISSING for AWS without a region, with a hint', async () => {
    const err = await resolveServiceConfig('kinesis', { env: { HOME: bare } }).catch((e) => e);
    expect(isAwskitError(err, CoreErrorCode.RegionMissing)).toBe(true);
    expect(err.hint).toContain('AWS_REGION');
  });

  it('REGION_MISSING also for an explicit https endpoint that is not local', async () => {
    await expect(
      resolveServiceConfig('kinesis', { endpoint: 'https://kinesis.example.com', env: { HOME: bare } }),
    ).rejects.toMatchObject({ code: CoreErrorCode.RegionMissing });
  });

  it('us-east-1 for the local AWS without a region', async () => {
    const cfg = await resolveServiceConfig('kinesis', { env: { HOME: bare, AWSKIT_LOCAL: '1' } });
    expect(cfg.region).toEqual({ value: 'us-east-1', source: 'local-default' });
  });

  // Regression: IAM (and ECR Public) are global services; the SDK signs them in us-east-1 whatever the region, so
  // `awskit iam ...` must not demand a region the way the aws CLI doesn't.
  it.each(['iam', 'ecrpublic'] as const)('%s needs no configured region against AWS', async (service) => {
    const cfg = await resolveServiceConfig(service, { env: { HOME: bare } });
    expect(cfg.region).toEqual({ value: 'us-east-1', source: 'service-default' });
  });
});

describe('resolveCredentials', () => {
  it('the credentials option beats everything (even a missing profile)', async () => {
    const creds = { accessKeyId: 'AKIAOPTION0000000000', secretAccessKey: 's' };
    const r = await resolveCredentials({
      credentials: creds,
      profile: 'does-not-exist',
      env: { HOME: home, AWS_ACCESS_KEY_ID: 'AKIAENV', AWS_SECRET_ACCESS_KEY: 'x' },
    });
    expect(r.source).toBe('option');
    expect(r.provider).toEqual(creds);
  });

  it('a credentials provider function is used as is', async () => {
    const provider = async () => ({ accessKeyId: 'AKIAFUNC', secretAccessKey: 's' });
    const r = await resolveCredentials({ credentials: provider, env: { HOME: bare } });
    expect(r.provider).toBe(provider);
  });

  it('the profile option beats env keys and reads the credentials file', async () => {
    const r = await resolveCredentials({
      profile: 'dev',
      env: { HOME: home, AWS_ACCESS_KEY_ID: 'AKIAENV', AWS_SECRET_ACCESS_KEY: 'x', AWS_PROFILE: 'default' },
    });
    expect(r.source).toBe('profile:dev');
    expect(r.reason).toBe('profile option "dev"');
    const id = await identity(r.provider);
    expect(id.accessKeyId).toBe('AKIADEV0000000000002');
    expect(id.secretAccessKey).toBe('dev-secret');
  });

  it('a profile option that exists in neither file gives PROFILE_NOT_FOUND naming both files', async () => {
    const err = await resolveCredentials({ profile: 'nope', env: { HOME: home } }).catch((e) => e);
    expect(isAwskitError(err, CoreErrorCode.ProfileNotFound)).toBe(true);
    expect(err.message).toContain('"nope"');
    expect(err.message).toContain(`${home}/.aws/config`);
    expect(err.message).toContain(`${home}/.aws/credentials`);
    expect(err.hint).toContain('aws configure');
  });

  it('PROFILE_NOT_FOUND through resolveServiceConfig, even for a local endpoint', async () => {
    await expect(
      resolveServiceConfig('kinesis', { profile: 'nope', local: true, env: { HOME: bare } }),
    ).rejects.toMatchObject({ code: CoreErrorCode.ProfileNotFound });
  });

  it('env keys beat AWS_PROFILE and the default profile', async () => {
    const r = await resolveCredentials({
      env: {
        HOME: home,
        AWS_ACCESS_KEY_ID: 'AKIAENV0000000000004',
        AWS_SECRET_ACCESS_KEY: 'env',
        AWS_PROFILE: 'dev',
      },
    });
    expect(r.source).toBe('env');
    expect(await identity(r.provider)).toEqual({
      accessKeyId: 'AKIAENV0000000000004',
      secretAccessKey: 'env',
    });
  });

  it('env keys carry AWS_SESSION_TOKEN', async () => {
    const r = await resolveCredentials({
      env: { HOME: bare, AWS_ACCESS_KEY_ID: 'ASIA1', AWS_SECRET_ACCESS_KEY: 's', AWS_SESSION_TOKEN: 'tok' },
    });
    expect(await identity(r.provider)).toEqual({
      accessKeyId: 'ASIA1',
      secretAccessKey: 's',
      sessionToken: 'tok',
    });
  });

  it('an access key id without a secret is not used', async () => {
    const r = await resolveCredentials({ env: { HOME: home, AWS_ACCESS_KEY_ID: 'AKIAENV' } });
    expect(r.source).toBe('profile:default');
  });

  it('AWS_PROFILE selects the profile', async () => {
    const r = await resolveCredentials({ env: { HOME: home, AWS_PROFILE: 'dev' } });
    expect(r).toMatchObject({ source: 'profile:dev', reason: 'AWS_PROFILE=dev' });
    expect((await identity(r.provider)).accessKeyId).toBe('AKIADEV0000000000002');
  });

  it('a profile with a session token resolves it', async () => {
    const r = await resolveCredentials({ env: { HOME: home, AWS_PROFILE: 'session' } });
    const id = await identity(r.provider);
    expect(id).toMatchObject({ accessKeyId: 'ASIASESSION000000003', sessionToken: 'session-token' });
  });

  it('the default profile when nothing else is set', async () => {
    const r = await resolveCredentials({ env: { HOME: home } });
    expect(r).toMatchObject({ source: 'profile:default', reason: 'default profile' });
    expect((await identity(r.provider)).accessKeyId).toBe('AKIADEFAULT000000001');
  });

  it('a role or SSO profile in the config file counts as configured credentials', async () => {
    expect((await resolveCredentials({ env: { HOME: home, AWS_PROFILE: 'assume' } })).source).toBe(
      'profile:assume',
    );
    expect((await resolveCredentials({ env: { HOME: home, AWS_PROFILE: 'sso' } })).source).toBe(
      'profile:sso',
    );
  });

  it('the default profile beats dummy credentials for a local endpoint', async () => {
    const r = await resolveCredentials({ env: { HOME: home } }, true);
    expect(r.source).toBe('profile:default');
  });

  it('test/test for a local endpoint with nothing configured', async () => {
    const r = await resolveCredentials({ env: { HOME: bare } }, true);
    expect(r.source).toBe('local-dummy');
    expect(await identity(r.provider)).toMatchObject({ accessKeyId: 'test', secretAccessKey: 'test' });
  });

  // Regression: a `[default]` profile holding only `region` made local clients use fromIni("default"), which
  // fails on the first call ("Could not resolve credentials using profile"), instead of the dummy pair.
  it('test/test for a local endpoint when the profile has a region but no credentials', async () => {
    const r = await resolveCredentials({ env: { HOME: configOnly } }, true);
    expect(r.source).toBe('local-dummy');
  });

  // Same bug against AWS: on EC2/ECS a region-only profile must not hide instance or container credentials.
  it('the default chain (not the region-only profile) for AWS', async () => {
    const r = await resolveCredentials({ env: { HOME: configOnly } }, false);
    expect(r.source).toBe('default-chain');
  });

  it('real AWS never gets the dummy credentials', async () => {
    const envs: Array<Record<string, string>> = [
      { HOME: bare, AWS_REGION: 'us-east-1' },
      { HOME: configOnly },
      // AWSKIT_LOCAL is set, but an explicit AWS endpoint wins and is not local.
      { HOME: bare, AWS_REGION: 'us-east-1', AWSKIT_LOCAL: '1' },
    ];
    for (const env of envs) {
      const opts = env.AWSKIT_LOCAL ? { endpoint: 'https://kinesis.us-east-1.amazonaws.com' } : {};
      const cfg = await resolveServiceConfig('kinesis', { ...opts, env });
      expect(cfg.endpoint.local).toBe(false);
      expect(cfg.credentials.source).toBe('default-chain');
      expect(cfg.credentials.provider).not.toEqual(LOCAL_CREDENTIALS);
      expect(typeof cfg.credentials.provider).toBe('function');
    }
  });

  it('the local dummy pair is a fresh object each time (the SDK writes $source into credentials)', async () => {
    const a = await resolveCredentials({ env: { HOME: bare } }, true);
    const b = await resolveCredentials({ env: { HOME: bare } }, true);
    expect(a.provider).not.toBe(b.provider);
    expect(Object.isFrozen(a.provider)).toBe(false);
    expect(Object.isFrozen(LOCAL_CREDENTIALS)).toBe(true);
  });
});
