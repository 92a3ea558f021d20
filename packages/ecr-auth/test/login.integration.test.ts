import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testClientOptions } from '@awskit/local/testing';
import { describe, expect, it } from 'vitest';
import { ecrLogin, findOnPath, recordingLogger } from './helpers';

const FAKE_DOCKER = fileURLToPath(new URL('./fixtures/fake-docker.sh', import.meta.url));

async function dockerDir(content?: unknown) {
  const dir = await mkdtemp(join(tmpdir(), 'ecr-login-'));
  if (content !== undefined) await writeFile(join(dir, 'config.json'), JSON.stringify(content));
  return dir;
}

const readConfig = async (dir: string) => JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
const decode = (auth: string) => Buffer.from(auth, 'base64').toString();

describe('ecrLogin against moto', () => {
  it('without a docker CLI on PATH writes config.json (DOCKER_CONFIG), keeping existing keys, and says so', async () => {
    const dir = await dockerDir({ auths: { 'ghcr.io': { auth: 'eDp5' } }, detachKeys: 'ctrl-e,e' });
    const logger = recordingLogger();
    const r = await ecrLogin({
      ...testClientOptions({ env: { DOCKER_CONFIG: dir, PATH: '' } }),
      cache: false,
      logger,
    });
    expect(r.registries).toHaveLength(1);
    const [reg] = r.registries;
    expect(reg).toMatchObject({ storedBy: 'config-file', configPath: join(dir, 'config.json') });
    expect(reg!.expiresAt!.getUTCFullYear()).toBe(2015);
    expect(r.warnings).toEqual([expect.stringMatching(/No docker CLI found on PATH/)]);
    const cfg = await readConfig(dir);
    expect(cfg.detachKeys).toBe('ctrl-e,e');
    expect(cfg.auths['ghcr.io']).toEqual({ auth: 'eDp5' });
    const stored = decode(cfg.auths[reg!.registry].auth);
    expect(stored).toMatch(/^AWS:\S{10,}$/);
    expect((await stat(join(dir, 'config.json'))).mode & 0o777).toBe(0o600);
    expect(logger.text()).not.toContain(stored.slice(4));
    expect(JSON.stringify(r)).not.toContain(stored.slice(4));
  });

  it('with method "config" writes config.json for every requested registry and warns about credsStore', async () => {
    const dir = await dockerDir({ credsStore: 'desktop' });
    const r = await ecrLogin({
      ...testClientOptions({ env: { DOCKER_CONFIG: dir } }),
      registryIds: ['111111111111', '222222222222'],
      method: 'config',
      cache: false,
    });
    expect(r.registries.map((x) => x.registry)).toEqual([
      '111111111111.dkr.ecr.us-east-1.amazonaws.com',
      '222222222222.dkr.ecr.us-east-1.amazonaws.com',
    ]);
    const cfg = await readConfig(dir);
    expect(Object.keys(cfg.auths).sort()).toEqual(r.registries.map((x) => x.registry).sort());
    expect(cfg.credsStore).toBe('desktop');
    expect(r.warnings.filter((w) => /credsStore "desktop"/.test(w))).toHaveLength(2);
  });

  it('runs docker login with the password on stdin only', async () => {
    const dir = await dockerDir();
    const out = await mkdtemp(join(tmpdir(), 'fake-docker-'));
    const r = await ecrLogin({
      ...testClientOptions({ env: { DOCKER_CONFIG: dir, FAKE_DOCKER_OUT: out, FAKE_DOCKER_MODE: 'ok' } }),
      dockerPath: FAKE_DOCKER,
      cache: false,
    });
    expect(r.registries[0]).toMatchObject({ storedBy: 'docker-login' });
    expect(r.warnings).toEqual([]);
    const argv = (await readFile(join(out, 'argv'), 'utf8')).trim().split('\n');
    const password = await readFile(join(out, 'stdin'), 'utf8');
    expect(argv).toEqual(['login', '--username', 'AWS', '--password-stdin', r.registries[0]!.registry]);
    expect(password.length).toBeGreaterThan(10);
    expect(argv.join(' ')).not.toContain(password);
    // docker "stored" it: we did not write config.json ourselves
    await expect(stat(join(dir, 'config.json'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('falls back to config.json when docker reports no daemon, with a clear warning', async () => {
    const dir = await dockerDir();
    const out = await mkdtemp(join(tmpdir(), 'fake-docker-'));
    const r = await ecrLogin({
      ...testClientOptions({
        env: { DOCKER_CONFIG: dir, FAKE_DOCKER_OUT: out, FAKE_DOCKER_MODE: 'nodaemon' },
      }),
      dockerPath: FAKE_DOCKER,
      cache: false,
    });
    expect(r.registries[0]).toMatchObject({ storedBy: 'config-file' });
    expect(r.warnings[0]).toMatch(
      /needs a Docker daemon and none is reachable.*writing the credentials to config\.json instead/,
    );
    expect(Object.keys((await readConfig(dir)).auths)).toEqual([r.registries[0]!.registry]);
  });

  it('does not fall back when the registry refuses the login, and with method "docker"', async () => {
    const dir = await dockerDir();
    const out = await mkdtemp(join(tmpdir(), 'fake-docker-'));
    const env = { DOCKER_CONFIG: dir, FAKE_DOCKER_OUT: out };
    await expect(
      ecrLogin({
        ...testClientOptions({ env: { ...env, FAKE_DOCKER_MODE: 'unauthorized' } }),
        dockerPath: FAKE_DOCKER,
        cache: false,
      }),
    ).rejects.toMatchObject({ code: 'DOCKER_LOGIN_FAILED', details: { reason: 'rejected' } });
    await expect(
      ecrLogin({
        ...testClientOptions({ env: { ...env, FAKE_DOCKER_MODE: 'nodaemon' } }),
        dockerPath: FAKE_DOCKER,
        method: 'docker',
        cache: false,
      }),
    ).rejects.toMatchObject({ code: 'DOCKER_LOGIN_FAILED' });
    await expect(
      ecrLogin({ ...testClientOptions({ env: { ...env, PATH: '' } }), method: 'docker', cache: false }),
    ).rejects.toMatchObject({ code: 'DOCKER_NOT_FOUND' });
    await expect(stat(join(dir, 'config.json'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it("with the real docker CLI of this machine (no daemon; moto's registry host does not resolve) falls back to config.json", async () => {
    const docker = await findOnPath('docker', process.env);
    // The project's machines have the docker client without a daemon (docs/local-aws.md); this test is about it.
    expect(docker, 'the docker client is expected on PATH on this machine').toBeTruthy();
    const dir = await dockerDir({ psFormat: 'x' });
    const r = await ecrLogin({
      ...testClientOptions({ env: { DOCKER_CONFIG: dir, PATH: process.env.PATH, HOME: dir } }),
      cache: false,
      dockerTimeoutMs: 25_000,
    });
    expect(r.registries[0]).toMatchObject({ storedBy: 'config-file' });
    expect(r.warnings[0]).toMatch(/docker login (needs a Docker daemon|could not reach)/);
    const cfg = await readConfig(dir);
    expect(cfg.psFormat).toBe('x');
    expect(decode(cfg.auths[r.registries[0]!.registry].auth)).toMatch(/^AWS:/);
  });
});
