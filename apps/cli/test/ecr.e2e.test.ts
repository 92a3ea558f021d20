import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type MotoServer, startMotoServer } from '@awskit/local';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers';

/** The bundled credential helper, as Docker runs it. */
const HELPER = fileURLToPath(new URL('../dist/docker-credential-awskit.js', import.meta.url));

let moto: MotoServer;
beforeAll(async () => {
  moto = await startMotoServer();
});
afterAll(async () => {
  await moto?.stop();
});

/** A temp HOME/DOCKER_CONFIG/cache and moto's dummy credentials; no docker on PATH unless asked. */
function setup(config?: unknown, { withPath = false } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'awskit-ecr-cli-'));
  if (config !== undefined) writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  const env: NodeJS.ProcessEnv = {
    HOME: dir,
    DOCKER_CONFIG: dir,
    AWSKIT_CACHE_DIR: join(dir, 'cache'),
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_EC2_METADATA_DISABLED: 'true',
    NODE_NO_WARNINGS: '1',
    ...(withPath ? {} : { PATH: '' }),
  };
  const ecr = (args: string[]) =>
    runCli(['ecr', ...args, '--endpoint-url', moto.endpoint, '--region', 'us-east-1'], env);
  return { dir, env, ecr, config: () => JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) };
}

describe('awskit ecr login', () => {
  it('--print-password prints only the password', () => {
    const s = setup();
    const r = s.ecr(['login', '--print-password']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\S{10,}\n$/);
  });

  it('without docker on PATH writes config.json (DOCKER_CONFIG), keeps other keys, shows the expiry, never prints the password', () => {
    const s = setup({ auths: { 'ghcr.io': { auth: 'eDp5' } }, psFormat: 'table' });
    const password = s.ecr(['login', '--print-password']).stdout.trim();
    const r = s.ecr(['login']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /Login Succeeded: \d{12}\.dkr\.ecr\.us-east-1\.amazonaws\.com \(written to .*config\.json\)/,
    );
    expect(r.stdout).toMatch(/expiry reported as 2015-01-01/);
    expect(r.stderr).toMatch(/No docker CLI found on PATH/);
    const cfg = s.config();
    expect(cfg.psFormat).toBe('table');
    expect(cfg.auths['ghcr.io']).toEqual({ auth: 'eDp5' });
    const host = Object.keys(cfg.auths).find((k) => k !== 'ghcr.io')!;
    expect(Buffer.from(cfg.auths[host].auth, 'base64').toString()).toBe(`AWS:${password}`);
    expect(statSync(join(s.dir, 'config.json')).mode & 0o777).toBe(0o600);
    expect(r.stdout + r.stderr).not.toContain(password);
  });

  it('--write-config --registry-id ... --json: one entry per registry, credsStore shadowing warned', () => {
    const s = setup({ credsStore: 'desktop' });
    const r = s.ecr(['login', '--write-config', '--registry-id', '111111111111', '222222222222', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.registries.map((x: { registry: string }) => x.registry)).toEqual([
      '111111111111.dkr.ecr.us-east-1.amazonaws.com',
      '222222222222.dkr.ecr.us-east-1.amazonaws.com',
    ]);
    expect(out.warnings.join('\n')).toMatch(/credsStore "desktop"/);
    expect(Object.keys(s.config().auths)).toHaveLength(2);
  });

  it('usage errors exit 2', () => {
    const s = setup();
    expect(s.ecr(['login', '--public', '--registry-id', '111111111111']).code).toBe(2);
    expect(s.ecr(['login', '--print-password', '--registry-id', '111111111111', '222222222222']).code).toBe(
      2,
    );
    expect(s.ecr(['configure-helper', '--registry', 'ghcr.io']).code).toBe(2);
  });

  it('a malformed registry id is a failure with a hint, before any call', () => {
    const r = setup().ecr(['login', '--registry-id', '12']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: Registry id "12" is not a 12-digit account id/);
    expect(r.stderr).toMatch(/hint: /);
  });
});

describe('awskit ecr configure-helper', () => {
  it('adds credHelpers for the given registries, your own by default, and keeps the rest', () => {
    const s = setup({ auths: { 'ghcr.io': { auth: 'eDp5' } } });
    const r = s.ecr([
      'configure-helper',
      '--registry',
      '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
      '--public',
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/docker-credential-awskit is not on PATH/);
    const r2 = s.ecr(['configure-helper']);
    expect(r2.code).toBe(0);
    const cfg = s.config();
    expect(cfg.auths).toEqual({ 'ghcr.io': { auth: 'eDp5' } });
    expect(cfg.credHelpers).toEqual({
      '123456789012.dkr.ecr.eu-west-1.amazonaws.com': 'awskit',
      'public.ecr.aws': 'awskit',
      '123456789012.dkr.ecr.us-east-1.amazonaws.com': 'awskit',
    });
  });
});

describe('docker-credential-awskit (bundled bin)', () => {
  const run = (args: string[], input: string, env: NodeJS.ProcessEnv) => {
    const r = spawnSync(process.execPath, [HELPER, ...args], {
      env,
      input,
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it('get / list / version over stdin and stdout', () => {
    const { env } = setup();
    const e = { ...env, AWS_ENDPOINT_URL: moto.endpoint };
    const g = run(['get'], '123456789012.dkr.ecr.us-east-1.amazonaws.com\n', e);
    expect(g.code).toBe(0);
    const creds = JSON.parse(g.stdout);
    expect(creds).toMatchObject({
      ServerURL: '123456789012.dkr.ecr.us-east-1.amazonaws.com',
      Username: 'AWS',
    });
    expect(g.stderr).not.toContain(creds.Secret);
    expect(JSON.parse(run(['list'], '', e).stdout)).toEqual({
      'https://123456789012.dkr.ecr.us-east-1.amazonaws.com': 'AWS',
    });
    expect(run(['version'], '', e).stdout).toMatch(/^docker-credential-awskit \(awskit\) \d+\.\d+\.\d+/);
    expect(run(['get'], 'ghcr.io', e)).toMatchObject({
      code: 1,
      stdout: 'credentials not found in native keychain\n',
    });
  });
});
