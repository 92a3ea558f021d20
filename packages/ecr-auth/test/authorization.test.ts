import { mkdtemp, readdir, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  decodeAuthorizationToken,
  EcrAuthError,
  explainAwsError,
  FileTokenCache,
  fakeTokenSource,
  getAuthorization,
  HOUR,
  isCacheDisabled,
  listCachedAuthorizations,
  MemoryTokenCache,
  manualClock,
  recordingLogger,
} from './helpers';

const REGION = 'eu-west-1';

describe('getAuthorization (controlled token source and clock)', () => {
  it('serves the second call from the cache, without calling ECR', async () => {
    const clock = manualClock();
    const source = fakeTokenSource(clock);
    const cache = new MemoryTokenCache();
    const [first] = await getAuthorization({ region: REGION, tokenSource: source, cache, clock });
    clock.advance(HOUR);
    const [second] = await getAuthorization({ region: REGION, tokenSource: source, cache, clock });
    expect(source.requests).toHaveLength(1);
    expect(first!.fromCache).toBe(false);
    expect(second!.fromCache).toBe(true);
    expect(second!.password).toBe(first!.password);
    expect(second!.registry).toBe('111122223333.dkr.ecr.eu-west-1.amazonaws.com');
    expect(second!.expiresAt?.getTime()).toBe(first!.expiresAt?.getTime());
  });

  it('refreshes at half-life: 5h59m is a hit, 6h01m of a 12h token is a refetch', async () => {
    const clock = manualClock();
    const source = fakeTokenSource(clock, { ttlMs: 12 * HOUR });
    const cache = new MemoryTokenCache();
    const opts = { region: REGION, tokenSource: source, cache, clock };
    const [a] = await getAuthorization(opts);
    clock.advance(6 * HOUR - 60_000);
    const [b] = await getAuthorization(opts);
    expect(b!.fromCache).toBe(true);
    clock.advance(2 * 60_000);
    const [c] = await getAuthorization(opts);
    expect(c!.fromCache).toBe(false);
    expect(c!.password).not.toBe(a!.password);
    expect(source.requests).toHaveLength(2);
    // and the refreshed token is cached in turn
    clock.advance(HOUR);
    expect((await getAuthorization(opts))[0]!.password).toBe(c!.password);
  });

  it('uses a token whose expiry is not in the future once and does not cache it (moto reports 2015)', async () => {
    const clock = manualClock();
    const source = fakeTokenSource(clock, { expiresAt: new Date(Date.UTC(2015, 0, 1)) });
    const cache = new MemoryTokenCache();
    const logger = recordingLogger();
    const [a] = await getAuthorization({ region: REGION, tokenSource: source, cache, clock, logger });
    const [b] = await getAuthorization({ region: REGION, tokenSource: source, cache, clock, logger });
    expect(a!.fromCache).toBe(false);
    expect(b!.fromCache).toBe(false);
    expect(source.requests).toHaveLength(2);
    expect(cache.tokens.size).toBe(0);
    expect(logger.text()).toMatch(/no future expiry/);
  });

  it('keys the cache by principal ARN: new credentials for the same assumed role hit (ecr-credential-helper #269)', async () => {
    const clock = manualClock();
    const cache = new MemoryTokenCache();
    const arn = 'arn:aws:sts::111122223333:assumed-role/Deploy/ci';
    const session1 = fakeTokenSource(clock, { arn });
    const session2 = fakeTokenSource(clock, { arn });
    const other = fakeTokenSource(clock, { arn: 'arn:aws:sts::111122223333:assumed-role/ReadOnly/ci' });
    const [a] = await getAuthorization({ region: REGION, tokenSource: session1, cache, clock });
    const [b] = await getAuthorization({ region: REGION, tokenSource: session2, cache, clock });
    const [c] = await getAuthorization({ region: REGION, tokenSource: other, cache, clock });
    expect(session2.requests).toHaveLength(0);
    expect(b!.password).toBe(a!.password);
    expect(other.requests).toHaveLength(1);
    expect(c!.fromCache).toBe(false);
  });

  it('keys the cache by region and registry id too', async () => {
    const clock = manualClock();
    const cache = new MemoryTokenCache();
    const source = fakeTokenSource(clock);
    await getAuthorization({ region: REGION, tokenSource: source, cache, clock });
    await getAuthorization({ region: 'us-east-1', tokenSource: source, cache, clock });
    await getAuthorization({
      region: REGION,
      registryIds: ['999988887777'],
      tokenSource: source,
      cache,
      clock,
    });
    expect(source.requests).toHaveLength(3);
    expect(source.requests[2]).toEqual({ service: 'ecr', region: REGION, registryIds: ['999988887777'] });
    // the caller's own registry is requested without the deprecated registryIds parameter
    expect(source.requests[0]).toEqual({ service: 'ecr', region: REGION, registryIds: [] });
  });

  it('fetches only the registries missing from the cache, in one call, and keeps the requested order', async () => {
    const clock = manualClock();
    const cache = new MemoryTokenCache();
    const source = fakeTokenSource(clock);
    await getAuthorization({
      region: REGION,
      registryIds: ['222222222222'],
      tokenSource: source,
      cache,
      clock,
    });
    const auths = await getAuthorization({
      region: REGION,
      registryIds: ['333333333333', '222222222222', '444444444444'],
      tokenSource: source,
      cache,
      clock,
    });
    expect(auths.map((a) => a.registryId)).toEqual(['333333333333', '222222222222', '444444444444']);
    expect(auths.map((a) => a.fromCache)).toEqual([false, true, false]);
    expect(source.requests[1]).toEqual({
      service: 'ecr',
      region: REGION,
      registryIds: ['333333333333', '444444444444'],
    });
  });

  it('does not cache with cache: false', async () => {
    const clock = manualClock();
    const source = fakeTokenSource(clock);
    await getAuthorization({ region: REGION, tokenSource: source, cache: false, clock });
    await getAuthorization({ region: REGION, tokenSource: source, cache: false, clock });
    expect(source.requests).toHaveLength(2);
  });

  it('honours AWSKIT_ECR_DISABLE_CACHE=1 for the default file cache', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ecr-auth-'));
    const clock = manualClock();
    const source = fakeTokenSource(clock);
    const env = { AWSKIT_CACHE_DIR: dir, AWSKIT_ECR_DISABLE_CACHE: '1' };
    await getAuthorization({ region: REGION, tokenSource: source, clock, env });
    await getAuthorization({ region: REGION, tokenSource: source, clock, env });
    expect(source.requests).toHaveLength(2);
    expect(await readdir(dir)).toEqual([]);
    // and without the opt-out the same setup caches on disk
    const env2 = { AWSKIT_CACHE_DIR: dir };
    await getAuthorization({ region: REGION, tokenSource: source, clock, env: env2 });
    await getAuthorization({ region: REGION, tokenSource: source, clock, env: env2 });
    expect(source.requests).toHaveLength(3);
    expect(await readdir(join(dir, 'ecr', 'tokens'))).toHaveLength(1);
  });

  it('falls back to an unexpired cached token when ECR fails, never to an expired one (ecr-credential-helper #7)', async () => {
    const clock = manualClock();
    const cache = new MemoryTokenCache();
    let failing = false;
    const source = fakeTokenSource(clock, {
      fail: () =>
        failing ? Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }) : undefined,
    });
    const logger = recordingLogger();
    const opts = { region: REGION, tokenSource: source, cache, clock, logger };
    const [a] = await getAuthorization(opts);
    clock.advance(7 * HOUR); // past half-life: a refresh is attempted
    failing = true;
    const [b] = await getAuthorization(opts);
    expect(b!.password).toBe(a!.password);
    expect(b!.fromCache).toBe(true);
    expect(logger.text()).toMatch(/using the cached token/);
    clock.advance(5 * HOUR); // now expired: no fallback
    await expect(getAuthorization(opts)).rejects.toMatchObject({ code: 'THROTTLED' });
  });

  it('ECR Public: one token for public.ecr.aws, requested in us-east-1 whatever the region', async () => {
    const clock = manualClock();
    const source = fakeTokenSource(clock);
    const [a] = await getAuthorization({
      public: true,
      region: 'eu-central-1',
      tokenSource: source,
      cache: false,
      clock,
    });
    expect(source.requests).toEqual([{ service: 'ecr-public', region: 'us-east-1' }]);
    expect(a).toMatchObject({
      service: 'ecr-public',
      registry: 'public.ecr.aws',
      serverUrl: 'https://public.ecr.aws',
      username: 'AWS',
    });
  });

  it('rejects malformed registry ids, all at once, before any call', async () => {
    const clock = manualClock();
    const source = fakeTokenSource(clock);
    const err = await getAuthorization({
      region: REGION,
      registryIds: ['12', '123456789012', 'abc'],
      tokenSource: source,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(EcrAuthError);
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toContain('"12", "abc"');
    expect(source.identityCalls).toBe(0);
  });

  it('keeps the password out of JSON, inspect and spread, and never logs it', async () => {
    const clock = manualClock();
    const source = fakeTokenSource(clock);
    const logger = recordingLogger();
    const cache = new MemoryTokenCache();
    const [a] = await getAuthorization({ region: REGION, tokenSource: source, clock, logger, cache });
    await getAuthorization({ region: REGION, tokenSource: source, clock, logger, cache });
    expect(a!.password).toMatch(/^pw-1-/);
    expect(JSON.stringify(a)).not.toContain(a!.password);
    expect((await import('node:util')).inspect(a)).not.toContain(a!.password);
    expect({ ...a }).not.toHaveProperty('password');
    expect(logger.text()).not.toContain(a!.password);
    expect(logger.lines.length).toBeGreaterThan(0);
  });

  it("lists the caller's cached, unexpired tokens only", async () => {
    const clock = manualClock();
    const cache = new MemoryTokenCache();
    const alice = fakeTokenSource(clock);
    const bob = fakeTokenSource(clock, { arn: 'arn:aws:iam::111122223333:user/bob' });
    await getAuthorization({ region: REGION, tokenSource: alice, cache, clock });
    await getAuthorization({
      region: 'us-east-1',
      tokenSource: alice,
      cache,
      clock,
      registryIds: ['555555555555'],
    });
    await getAuthorization({ region: 'us-west-2', tokenSource: bob, cache, clock });
    const listed = await listCachedAuthorizations({ tokenSource: alice, cache, clock });
    expect(listed.map((a) => a.registry).sort()).toEqual([
      '111122223333.dkr.ecr.eu-west-1.amazonaws.com',
      '555555555555.dkr.ecr.us-east-1.amazonaws.com',
    ]);
    clock.advance(13 * HOUR);
    expect(await listCachedAuthorizations({ tokenSource: alice, cache, clock })).toEqual([]);
  });
});

describe('isCacheDisabled', () => {
  it.each([
    [{}, false],
    [{ AWSKIT_ECR_DISABLE_CACHE: '1' }, true],
    [{ AWSKIT_ECR_DISABLE_CACHE: 'true' }, true],
    [{ AWSKIT_ECR_DISABLE_CACHE: '0' }, false],
    [{ AWSKIT_ECR_DISABLE_CACHE: 'false' }, false],
    [{ AWSKIT_ECR_DISABLE_CACHE: '' }, false],
    [{ AWS_ECR_DISABLE_CACHE: 'yes' }, true],
  ])('%j → %s', (env, disabled) => {
    expect(isCacheDisabled(env)).toBe(disabled);
  });
});

describe('FileTokenCache', () => {
  it('writes 0600 files in 0700 directories, named by hash, with no ARN or key id inside the names', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'ecr-auth-')), 'cache');
    const clock = manualClock();
    const cache = new FileTokenCache({ dir });
    const source = fakeTokenSource(clock, {
      arn: 'arn:aws:sts::111122223333:assumed-role/Deploy/alice@example.com',
    });
    await getAuthorization({ region: REGION, tokenSource: source, cache, clock });
    for (const d of [dir, join(dir, 'tokens'), join(dir, 'identities')])
      expect((await stat(d)).mode & 0o777).toBe(0o700);
    const [name] = await readdir(join(dir, 'tokens'));
    expect(name).toMatch(/^[0-9a-f]{64}\.json$/);
    expect((await stat(join(dir, 'tokens', name!))).mode & 0o777).toBe(0o600);
    const text = await readFile(join(dir, 'tokens', name!), 'utf8');
    expect(text).not.toContain('alice');
    expect(text).not.toContain('Deploy');
    // a second cache object over the same directory (another process) hits
    const [again] = await getAuthorization({
      region: REGION,
      tokenSource: source,
      cache: new FileTokenCache({ dir }),
      clock,
    });
    expect(again!.fromCache).toBe(true);
  });

  it('survives concurrent writers (several helper processes at once): every entry stays valid JSON', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'ecr-auth-')), 'cache');
    const clock = manualClock();
    const source = fakeTokenSource(clock);
    const ids = Array.from({ length: 8 }, (_, i) => String(100000000000 + i));
    const get = (id: string) =>
      getAuthorization({
        region: REGION,
        registryIds: [id],
        tokenSource: source,
        cache: new FileTokenCache({ dir }),
        clock,
      });
    await Promise.all(ids.flatMap((id) => [get(id), get(id), get(id)]));
    const names = await readdir(join(dir, 'tokens'));
    expect(names.filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect(names).toHaveLength(ids.length);
    for (const n of names) expect(JSON.parse(await readFile(join(dir, 'tokens', n), 'utf8')).version).toBe(1);
    const again = await Promise.all(ids.map(get));
    expect(again.every(([a]) => a!.fromCache)).toBe(true);
  });

  it('treats a corrupt or foreign-format entry as a miss and removes it', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'ecr-auth-')), 'cache');
    const clock = manualClock();
    const cache = new FileTokenCache({ dir });
    const source = fakeTokenSource(clock);
    await getAuthorization({ region: REGION, tokenSource: source, cache, clock });
    const [name] = await readdir(join(dir, 'tokens'));
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(dir, 'tokens', name!), '{"version":1,"entr');
    const [a] = await getAuthorization({ region: REGION, tokenSource: source, cache, clock });
    expect(a!.fromCache).toBe(false);
    await writeFile(join(dir, 'tokens', name!), '{"version":99,"entry":{}}');
    const [b] = await getAuthorization({ region: REGION, tokenSource: source, cache, clock });
    expect(b!.fromCache).toBe(false);
    const [c] = await getAuthorization({ region: REGION, tokenSource: source, cache, clock });
    expect(c!.fromCache).toBe(true);
  });

  it('tightens an existing cache directory to 0700', async () => {
    const { chmod, mkdir } = await import('node:fs/promises');
    const dir = join(await mkdtemp(join(tmpdir(), 'ecr-auth-')), 'cache');
    await mkdir(dir, { mode: 0o777 });
    await chmod(dir, 0o777);
    const clock = manualClock();
    await getAuthorization({
      region: REGION,
      tokenSource: fakeTokenSource(clock),
      cache: new FileTokenCache({ dir }),
      clock,
    });
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
  });
});

describe('decodeAuthorizationToken', () => {
  it('splits at the first colon', () => {
    expect(decodeAuthorizationToken(Buffer.from('AWS:a:b=c').toString('base64'))).toEqual({
      username: 'AWS',
      password: 'a:b=c',
    });
  });
  it('rejects tokens without user:password, without echoing them', () => {
    const token = Buffer.from('no-colon-secret').toString('base64');
    const err = (() => {
      try {
        decodeAuthorizationToken(token);
      } catch (e) {
        return e as EcrAuthError;
      }
    })();
    expect(err?.code).toBe('INVALID_TOKEN');
    expect(err?.message).not.toContain('no-colon-secret');
    expect(err?.message).not.toContain(token);
  });
});

describe('explainAwsError', () => {
  it('names an expired SSO session and says to run aws sso login for the profile', () => {
    const e = Object.assign(
      new Error(
        'The SSO session associated with this profile has expired or is otherwise invalid. To refresh this SSO session run aws sso login with the corresponding profile.',
      ),
      { name: 'CredentialsProviderError' },
    );
    const x = explainAwsError(e, { operation: 'GetAuthorizationToken', profile: 'dev' });
    expect(x.code).toBe('SSO_SESSION_EXPIRED');
    expect(x.hint).toContain('aws sso login --profile dev');
  });
  it('turns a DNS failure of the AWS endpoint into WRONG_REGION', () => {
    const e = Object.assign(new Error('getaddrinfo ENOTFOUND api.ecr.us-nowhere-1.amazonaws.com'), {
      code: 'ENOTFOUND',
    });
    const x = explainAwsError(e, { operation: 'GetAuthorizationToken', region: 'us-nowhere-1' });
    expect(x.code).toBe('WRONG_REGION');
    expect(x.message).toContain('us-nowhere-1');
  });
  it('leaves a DNS failure of a custom endpoint as ENDPOINT_UNREACHABLE', () => {
    const e = Object.assign(new Error('getaddrinfo ENOTFOUND my-proxy.internal'), { code: 'ENOTFOUND' });
    const x = explainAwsError(e, { operation: 'GetAuthorizationToken', region: 'eu-west-1' });
    expect(x.code).toBe('ENDPOINT_UNREACHABLE');
  });
  it('passes core codes through for missing credentials and access denied', () => {
    const missing = explainAwsError(
      Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      }),
      {
        operation: 'GetAuthorizationToken',
      },
    );
    expect(missing.code).toBe('CREDENTIALS_MISSING');
    const denied = explainAwsError(
      Object.assign(new Error('not authorized to perform: ecr:GetAuthorizationToken'), {
        name: 'AccessDeniedException',
      }),
      {
        operation: 'GetAuthorizationToken',
      },
    );
    expect(denied.code).toBe('ACCESS_DENIED');
    expect(denied).toBeInstanceOf(EcrAuthError);
  });
});
