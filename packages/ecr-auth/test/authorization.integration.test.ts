import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { createClient } from '@awskit/core';
import { testClientOptions, uniqueName } from '@awskit/local/testing';
import { describe, expect, it } from 'vitest';
import {
  createSdkTokenSource,
  getAuthorization,
  HOUR,
  MemoryTokenCache,
  manualClock,
  parseRegistry,
  recordingLogger,
  resolveDefaultRegistry,
  type TokenSource,
} from './helpers';

async function tempCacheEnv() {
  const dir = await mkdtemp(join(tmpdir(), 'ecr-cache-'));
  return { dir, env: { AWSKIT_CACHE_DIR: dir } };
}

describe('getAuthorization against moto (local AWS)', () => {
  it("returns AWS:<password> for the caller's registry, with the account id from STS", async () => {
    const opts = testClientOptions();
    const sts = await createClient(STSClient, opts);
    const me = await sts.send(new GetCallerIdentityCommand({}));
    const logger = recordingLogger();
    const { env } = await tempCacheEnv();
    const auths = await getAuthorization({ ...opts, env, logger });
    expect(auths).toHaveLength(1);
    const [a] = auths;
    expect(a!.registryId).toBe(me.Account);
    expect(a!.registry).toBe(`${me.Account}.dkr.ecr.us-east-1.amazonaws.com`);
    expect(parseRegistry(a!.registry).registryId).toBe(me.Account);
    expect(a!.username).toBe('AWS');
    expect(a!.password.length).toBeGreaterThan(10);
    expect(a!.fromCache).toBe(false);
    expect(logger.text()).not.toContain(a!.password);
  });

  it('returns a token per requested registry id, other accounts included', async () => {
    const opts = testClientOptions();
    const ids = ['111111111111', '222222222222'];
    const auths = await getAuthorization({ ...opts, registryIds: ids, cache: false });
    expect(auths.map((a) => a.registryId)).toEqual(ids);
    expect(auths.map((a) => a.registry)).toEqual(ids.map((id) => `${id}.dkr.ecr.us-east-1.amazonaws.com`));
    for (const a of auths) expect(a.password).toMatch(/\S/);
  });

  it("ECR's raw tokens decode to AWS:<password>, the password getAuthorization returns", async () => {
    const opts = testClientOptions();
    const raw = await createSdkTokenSource(opts).getAuthorizationTokens({
      service: 'ecr',
      region: 'us-east-1',
      registryIds: ['333333333333'],
    });
    expect(raw).toHaveLength(1);
    expect(raw[0]!.proxyEndpoint).toBe('https://333333333333.dkr.ecr.us-east-1.amazonaws.com');
    const [a] = await getAuthorization({ ...opts, registryIds: ['333333333333'], cache: false });
    expect(Buffer.from(raw[0]!.authorizationToken, 'base64').toString()).toBe(`AWS:${a!.password}`);
  });

  it('honours the region', async () => {
    const [a] = await getAuthorization({ ...testClientOptions(), region: 'eu-west-1', cache: false });
    expect(a!.registry).toMatch(/\.dkr\.ecr\.eu-west-1\.amazonaws\.com$/);
    expect(a!.region).toBe('eu-west-1');
  });

  it("does not cache moto's tokens (their expiresAt is in 2015): each call asks ECR again, nothing is written", async () => {
    const { dir, env } = await tempCacheEnv();
    const logger = recordingLogger();
    const [a] = await getAuthorization({ ...testClientOptions(), env, logger });
    const [b] = await getAuthorization({ ...testClientOptions(), env, logger });
    expect(a!.expiresAt!.getUTCFullYear()).toBe(2015);
    expect(b!.fromCache).toBe(false);
    expect(await readdir(join(dir, 'ecr', 'tokens')).catch(() => [])).toEqual([]);
    expect(logger.text()).toMatch(/no future expiry; used once and not cached/);
  });

  it('remembers the principal of an access key, so a warm cache skips STS', async () => {
    const cache = new MemoryTokenCache();
    const logger = recordingLogger();
    const opts = { ...testClientOptions(), cache, logger };
    await getAuthorization(opts);
    await getAuthorization(opts);
    expect(logger.lines.filter((l) => l.includes('caller identity from STS'))).toHaveLength(1);
    expect(logger.lines.filter((l) => l.includes('caller identity from cache'))).toHaveLength(1);
    expect(cache.identities.size).toBe(1);
    // the identity key is a hash: no access key id in it
    expect([...cache.identities.keys()][0]).toMatch(/^[0-9a-f]{64}$/);
  });

  it('gives two sessions of the same assumed role one cache entry (real STS identities, controlled expiry)', async () => {
    const opts = testClientOptions();
    const iam = await createClient(IAMClient, opts);
    const roleName = uniqueName('ecr-role');
    const role = await iam.send(
      new CreateRoleCommand({
        RoleName: roleName,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'sts:AssumeRole' }],
        }),
      }),
    );
    const sts = await createClient(STSClient, opts);
    const session = async () => {
      const r = await sts.send(new AssumeRoleCommand({ RoleArn: role.Role!.Arn!, RoleSessionName: 'ci' }));
      return {
        accessKeyId: r.Credentials!.AccessKeyId!,
        secretAccessKey: r.Credentials!.SecretAccessKey!,
        sessionToken: r.Credentials!.SessionToken!,
      };
    };
    const clock = manualClock(Date.now());
    const cache = new MemoryTokenCache();
    // The real STS/ECR source, with moto's 2015 expiry replaced by a 12 h one so the cache path runs end to end.
    const withExpiry = (src: TokenSource): TokenSource & { tokenCalls: number } => {
      const s = {
        tokenCalls: 0,
        getCallerIdentity: () => src.getCallerIdentity(),
        async getAuthorizationTokens(req: Parameters<TokenSource['getAuthorizationTokens']>[0]) {
          s.tokenCalls++;
          return (await src.getAuthorizationTokens(req)).map((t) => ({
            ...t,
            expiresAt: new Date(clock.now() + 12 * HOUR),
          }));
        },
      };
      return s;
    };
    const creds1 = await session();
    const creds2 = await session();
    expect(creds1.accessKeyId).not.toBe(creds2.accessKeyId);
    const s1 = withExpiry(createSdkTokenSource({ ...opts, credentials: creds1 }));
    const s2 = withExpiry(createSdkTokenSource({ ...opts, credentials: creds2 }));
    expect((await s1.getCallerIdentity()).arn).toMatch(new RegExp(`assumed-role/${roleName}/ci$`));
    const [a] = await getAuthorization({ ...opts, tokenSource: s1, cache, clock });
    const [b] = await getAuthorization({ ...opts, tokenSource: s2, cache, clock });
    expect(s1.tokenCalls).toBe(1);
    expect(s2.tokenCalls).toBe(0);
    expect(b!.fromCache).toBe(true);
    expect(b!.password).toBe(a!.password);
  });

  it('writes no access key id, secret or session token into the cache directory', async () => {
    const { dir, env } = await tempCacheEnv();
    const credentials = {
      accessKeyId: 'AKIAUNIQUEKEYID12345',
      secretAccessKey: 'UNIQUEsecretACCESSkey0123456789abcdefGHIJ',
      sessionToken: 'UNIQUEsessionTOKEN',
    };
    await getAuthorization({ ...testClientOptions({ credentials }), env });
    const files = await readdir(dir, { recursive: true, withFileTypes: true });
    const texts = await Promise.all(
      files.filter((f) => f.isFile()).map((f) => readFile(join(f.parentPath, f.name), 'utf8')),
    );
    expect(texts.length).toBeGreaterThan(0); // the identity mapping was written
    for (const t of [...texts, ...files.map((f) => f.name)])
      for (const secret of ['AKIAUNIQUEKEYID12345', 'UNIQUEsecret', 'UNIQUEsession'])
        expect(t).not.toContain(secret);
  });

  it("resolveDefaultRegistry builds the caller's registry host", async () => {
    const opts = testClientOptions();
    const sts = await createClient(STSClient, opts);
    const me = await sts.send(new GetCallerIdentityCommand({}));
    expect(await resolveDefaultRegistry({ ...opts, region: 'ap-southeast-2' })).toBe(
      `${me.Account}.dkr.ecr.ap-southeast-2.amazonaws.com`,
    );
  });

  it('names the missing profile instead of failing generically', async () => {
    const home = await mkdtemp(join(tmpdir(), 'ecr-home-'));
    const err = await getAuthorization({
      ...testClientOptions({ credentials: undefined, env: { HOME: home } }),
      profile: 'nope',
      cache: false,
    }).catch((e) => e);
    expect(err.code).toBe('PROFILE_NOT_FOUND');
    expect(err.message).toContain('nope');
  });
});
