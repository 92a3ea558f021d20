import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { createClient } from '@awskit/core';
import { localAwsEndpoint, testClientOptions } from '@awskit/local/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { CREDENTIALS_NOT_FOUND_MESSAGE, ECR_AUTH_VERSION, getAuthorization } from './helpers';

const BIN = fileURLToPath(new URL('./fixtures/docker-credential-awskit.mjs', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the helper as Docker does: `docker-credential-awskit <action>`, request on stdin, answer on stdout. */
function helper(args: string[], stdin: string, env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

/** A clean environment: the local AWS via AWS_ENDPOINT_URL, dummy keys, a temp HOME and cache, no IMDS. */
async function localEnv(extra: NodeJS.ProcessEnv = {}): Promise<NodeJS.ProcessEnv> {
  const home = await mkdtemp(join(tmpdir(), 'ecr-helper-home-'));
  return {
    PATH: process.env.PATH,
    HOME: home,
    AWSKIT_CACHE_DIR: join(home, 'cache'),
    AWS_ENDPOINT_URL: localAwsEndpoint(),
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_EC2_METADATA_DISABLED: 'true',
    ...extra,
  };
}

let account: string;
beforeAll(async () => {
  const sts = await createClient(STSClient, testClientOptions());
  account = (await sts.send(new GetCallerIdentityCommand({}))).Account!;
});

describe('docker-credential-awskit as a child process', () => {
  it("get: answers {ServerURL, Username, Secret} for the caller's registry; the secret is a valid ECR password", async () => {
    const env = await localEnv();
    const host = `${account}.dkr.ecr.us-east-1.amazonaws.com`;
    const r = await helper(['get'], `${host}\n`, env);
    expect(r.code).toBe(0);
    expect(r.stdout.endsWith('\n')).toBe(true);
    const creds = JSON.parse(r.stdout);
    expect(Object.keys(creds)).toEqual(['ServerURL', 'Username', 'Secret']);
    expect(creds.ServerURL).toBe(host);
    expect(creds.Username).toBe('AWS');
    expect(creds.Secret.length).toBeGreaterThan(10);
    expect(r.stderr).not.toContain(creds.Secret);
    // moto's token has no future expiry: used once, nothing cached on disk
    expect(await readdir(join(env.AWSKIT_CACHE_DIR!, 'tokens')).catch(() => [])).toEqual([]);
  });

  it("get: serves another account's registry in another region, from an https:// URL with a path", async () => {
    const env = await localEnv();
    const r = await helper(
      ['get'],
      'https://210987654321.dkr.ecr.eu-central-1.amazonaws.com/v2/app/manifests/latest',
      env,
    );
    expect(r.code).toBe(0);
    const creds = JSON.parse(r.stdout);
    expect(creds.ServerURL).toBe(
      'https://210987654321.dkr.ecr.eu-central-1.amazonaws.com/v2/app/manifests/latest',
    );
    // the same registry through the library gets a token from the same local ECR
    const [lib] = await getAuthorization({
      ...testClientOptions(),
      region: 'eu-central-1',
      registryIds: ['210987654321'],
      cache: false,
    });
    expect(lib!.registry).toBe('210987654321.dkr.ecr.eu-central-1.amazonaws.com');
    expect(creds.Username).toBe(lib!.username);
  });

  it('get: a non-ECR host gets the protocol\'s "not found" (Docker continues anonymously) and a reason on stderr', async () => {
    const r = await helper(['get'], 'ghcr.io', await localEnv());
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`${CREDENTIALS_NOT_FOUND_MESSAGE}\n`);
    expect(r.stderr).toMatch(/ghcr\.io is not an Amazon ECR registry/);
  });

  it('get: an empty request is the protocol\'s "no credentials server URL"', async () => {
    const r = await helper(['get'], '  \n', await localEnv());
    expect(r).toMatchObject({ code: 1, stdout: 'no credentials server URL\n' });
  });

  it('get without any AWS credentials: exit 1, the real reason on stdout and stderr, not "no basic auth credentials"', async () => {
    const env = await localEnv();
    delete env.AWS_ENDPOINT_URL;
    delete env.AWS_ACCESS_KEY_ID;
    delete env.AWS_SECRET_ACCESS_KEY;
    const r = await helper(['get'], `${account}.dkr.ecr.us-east-1.amazonaws.com`, env);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^docker-credential-awskit: .*no AWS credentials found/);
    expect(r.stdout).not.toContain(CREDENTIALS_NOT_FOUND_MESSAGE);
    expect(r.stderr).toMatch(/cannot get credentials for \d{12}\.dkr\.ecr\.us-east-1\.amazonaws\.com/);
    expect(r.stderr).toMatch(/hint: .*aws configure|AWS_PROFILE/);
  });

  it('get with an SSO profile that was never logged in: says to run aws sso login for that profile', async () => {
    const env = await localEnv();
    delete env.AWS_ENDPOINT_URL;
    delete env.AWS_ACCESS_KEY_ID;
    delete env.AWS_SECRET_ACCESS_KEY;
    await mkdir(join(env.HOME!, '.aws'), { recursive: true });
    await writeFile(
      join(env.HOME!, '.aws', 'config'),
      [
        '[profile dev]',
        'sso_session = corp',
        'sso_account_id = 111122223333',
        'sso_role_name = Dev',
        'region = us-east-1',
        '[sso-session corp]',
        'sso_start_url = https://corp.awsapps.com/start',
        'sso_region = us-east-1',
        '',
      ].join('\n'),
    );
    const r = await helper(['get'], '111122223333.dkr.ecr.us-east-1.amazonaws.com', {
      ...env,
      AWS_PROFILE: 'dev',
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/SSO session is expired or missing/);
    expect(r.stderr).toMatch(/aws sso login --profile dev/);
  });

  it('get for ECR Public without credentials: "not found" so anonymous pulls still work, reason on stderr', async () => {
    const env = await localEnv();
    delete env.AWS_ENDPOINT_URL;
    delete env.AWS_ACCESS_KEY_ID;
    delete env.AWS_SECRET_ACCESS_KEY;
    const r = await helper(['get'], 'public.ecr.aws', env);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`${CREDENTIALS_NOT_FOUND_MESSAGE}\n`);
    expect(r.stderr).toMatch(/cannot get credentials for public\.ecr\.aws/);
  });

  it("list: the caller's default registry as {serverURL: username}", async () => {
    const r = await helper(['list'], '', await localEnv({ AWS_REGION: 'us-east-1' }));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ [`https://${account}.dkr.ecr.us-east-1.amazonaws.com`]: 'AWS' });
  });

  it('list with no region configured and a local endpoint uses the local default region (us-east-1)', async () => {
    const r = await helper(['list'], '', await localEnv());
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ [`https://${account}.dkr.ecr.us-east-1.amazonaws.com`]: 'AWS' });
  });

  it('list without credentials: exit 1 with the reason', async () => {
    const env = await localEnv({ AWS_REGION: 'us-east-1' });
    delete env.AWS_ENDPOINT_URL;
    delete env.AWS_ACCESS_KEY_ID;
    delete env.AWS_SECRET_ACCESS_KEY;
    const r = await helper(['list'], '', env);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/no AWS credentials found/);
  });

  it('version, and -v', async () => {
    for (const a of ['version', '-v']) {
      const r = await helper([a], '', await localEnv());
      expect(r).toMatchObject({ code: 0, stdout: `docker-credential-awskit (awskit) ${ECR_AUTH_VERSION}\n` });
    }
  });

  it('store and erase are accepted as no-ops but still validate their input like the protocol', async () => {
    const env = await localEnv();
    const ok = await helper(
      ['store'],
      JSON.stringify({ ServerURL: 'x.dkr.ecr', Username: 'AWS', Secret: 'zzz-secret' }),
      env,
    );
    expect(ok).toMatchObject({ code: 0, stdout: '' });
    expect(ok.stderr).not.toContain('zzz-secret');
    expect(await helper(['store'], JSON.stringify({ Username: 'AWS' }), env)).toMatchObject({
      code: 1,
      stdout: 'no credentials server URL\n',
    });
    expect(await helper(['store'], JSON.stringify({ ServerURL: 'h' }), env)).toMatchObject({
      code: 1,
      stdout: 'no credentials username\n',
    });
    expect(await helper(['store'], 'not json', env)).toMatchObject({ code: 1 });
    expect(await helper(['erase'], 'some.host', env)).toMatchObject({ code: 0, stdout: '' });
    expect(await helper(['erase'], '', env)).toMatchObject({
      code: 1,
      stdout: 'no credentials server URL\n',
    });
  });

  it('usage errors: no action, two actions, an unknown action', async () => {
    const env = await localEnv();
    expect(await helper([], '', env)).toMatchObject({
      code: 1,
      stdout: 'Usage: docker-credential-awskit <store|get|erase|list|version>\n',
    });
    expect(await helper(['get', 'list'], '', env)).toMatchObject({ code: 1 });
    expect(await helper(['frobnicate'], '', env)).toMatchObject({
      code: 1,
      stdout: 'docker-credential-awskit: unknown action: frobnicate\n',
    });
  });

  it('AWSKIT_LOG_LEVEL=debug explains where credentials came from, without the secret', async () => {
    const env = await localEnv({ AWSKIT_LOG_LEVEL: 'debug' });
    const r = await helper(['get'], `${account}.dkr.ecr.us-east-1.amazonaws.com`, env);
    expect(r.code).toBe(0);
    const { Secret } = JSON.parse(r.stdout);
    expect(r.stderr).toMatch(/caller identity from STS/);
    expect(r.stderr).toMatch(/no future expiry/);
    expect(r.stderr).not.toContain(Secret);
    expect(r.stderr).not.toMatch(/secretAccessKey|AWS_SECRET/);
  });
});

describe('package version', () => {
  it('ECR_AUTH_VERSION matches package.json', async () => {
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
    expect(ECR_AUTH_VERSION).toBe(pkg.version);
  });
});
