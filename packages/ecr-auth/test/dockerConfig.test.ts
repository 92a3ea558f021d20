import { chmod, mkdir, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  addCredentialHelpers,
  DockerConfigError,
  readDockerConfig,
  resolveDockerConfigPath,
  writeDockerAuths,
} from './helpers';

const HOST = '123456789012.dkr.ecr.us-east-1.amazonaws.com';

async function tempDockerConfig(
  content?: unknown,
): Promise<{ dir: string; path: string; env: NodeJS.ProcessEnv }> {
  const dir = await mkdtemp(join(tmpdir(), 'ecr-docker-'));
  const path = join(dir, 'config.json');
  if (content !== undefined)
    await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
  return { dir, path, env: { DOCKER_CONFIG: dir, PATH: '' } };
}

describe('resolveDockerConfigPath', () => {
  it('honours DOCKER_CONFIG, else ~/.docker', () => {
    expect(resolveDockerConfigPath({ DOCKER_CONFIG: '/x/y' })).toBe('/x/y/config.json');
    expect(resolveDockerConfigPath({ HOME: '/home/u' })).toBe('/home/u/.docker/config.json');
  });
});

describe('writeDockerAuths', () => {
  it('creates config.json 0600 with auths[host].auth = base64(user:password)', async () => {
    const { path, env } = await tempDockerConfig();
    const r = await writeDockerAuths({
      entries: [{ registry: HOST, username: 'AWS', password: 's3cret' }],
      env,
    });
    expect(r.path).toBe(path);
    expect(r.warnings).toEqual([]);
    const cfg = JSON.parse(await readFile(path, 'utf8'));
    expect(Buffer.from(cfg.auths[HOST].auth, 'base64').toString()).toBe('AWS:s3cret');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('keeps every other key, other registries and extra fields of the same registry', async () => {
    const existing = {
      auths: { 'ghcr.io': { auth: 'Z2g6dG9r' }, [HOST]: { auth: 'b2xk', email: 'me@example.com' } },
      credHelpers: { 'gcr.io': 'gcloud' },
      psFormat: 'table {{.ID}}',
      proxies: { default: { httpProxy: 'http://proxy:3128' } },
      experimental: 'enabled',
    };
    const { path, env } = await tempDockerConfig(existing);
    await writeDockerAuths({ entries: [{ registry: HOST, username: 'AWS', password: 'new' }], env });
    const cfg = JSON.parse(await readFile(path, 'utf8'));
    expect(cfg.psFormat).toBe(existing.psFormat);
    expect(cfg.proxies).toEqual(existing.proxies);
    expect(cfg.experimental).toBe('enabled');
    expect(cfg.credHelpers).toEqual({ 'gcr.io': 'gcloud' });
    expect(cfg.auths['ghcr.io']).toEqual({ auth: 'Z2g6dG9r' });
    expect(cfg.auths[HOST].email).toBe('me@example.com');
    expect(Buffer.from(cfg.auths[HOST].auth, 'base64').toString()).toBe('AWS:new');
  });

  it('warns that a credsStore shadows the auths entry', async () => {
    const { env } = await tempDockerConfig({ credsStore: 'desktop' });
    const r = await writeDockerAuths({ entries: [{ registry: HOST, username: 'AWS', password: 'pw' }], env });
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(/credsStore "desktop".*ignores the auths entry/);
    expect(r.warnings.join()).not.toContain('pw');
  });

  it('warns that a credHelpers entry for the host shadows the auths entry', async () => {
    const { env } = await tempDockerConfig({ credHelpers: { [HOST]: 'ecr-login' }, credsStore: 'desktop' });
    const r = await writeDockerAuths({ entries: [{ registry: HOST, username: 'AWS', password: 'pw' }], env });
    expect(r.warnings).toEqual([expect.stringMatching(/docker-credential-ecr-login/)]);
  });

  it('leaves an unparsable config.json untouched and throws DOCKER_CONFIG_INVALID', async () => {
    const { path, env } = await tempDockerConfig('{ "auths": { broken');
    const err = await writeDockerAuths({
      entries: [{ registry: HOST, username: 'AWS', password: 'pw' }],
      env,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(DockerConfigError);
    expect(err.code).toBe('DOCKER_CONFIG_INVALID');
    expect(await readFile(path, 'utf8')).toBe('{ "auths": { broken');
    for (const bad of ['[1,2]', '{"auths": "x"}']) {
      await writeFile(path, bad);
      await expect(readDockerConfig(path)).rejects.toMatchObject({ code: 'DOCKER_CONFIG_INVALID' });
    }
  });

  it('treats an empty file as {}', async () => {
    const { path, env } = await tempDockerConfig('');
    await writeDockerAuths({ entries: [{ registry: HOST, username: 'AWS', password: 'pw' }], env });
    expect(Object.keys(JSON.parse(await readFile(path, 'utf8')).auths)).toEqual([HOST]);
  });
});

describe('addCredentialHelpers', () => {
  it('adds credHelpers entries and keeps the rest of the file', async () => {
    const { path, env } = await tempDockerConfig({
      auths: { 'ghcr.io': { auth: 'eA==' } },
      credHelpers: { 'gcr.io': 'gcloud' },
      x: 1,
    });
    const r = await addCredentialHelpers({ registries: [HOST, 'public.ecr.aws'], env });
    const cfg = JSON.parse(await readFile(path, 'utf8'));
    expect(cfg.credHelpers).toEqual({ 'gcr.io': 'gcloud', [HOST]: 'awskit', 'public.ecr.aws': 'awskit' });
    expect(cfg.auths).toEqual({ 'ghcr.io': { auth: 'eA==' } });
    expect(cfg.x).toBe(1);
    expect(r.changed).toEqual([HOST, 'public.ecr.aws']);
    expect(r.warnings).toEqual([expect.stringMatching(/docker-credential-awskit is not on PATH/)]);
  });

  it('warns about a stale auths entry (from an earlier docker login) and removes it when asked', async () => {
    const { path, env } = await tempDockerConfig({
      auths: { [HOST]: { auth: 'QVdTOm9sZA==' }, [`https://${HOST}`]: { auth: 'QVdTOm9sZA==' } },
    });
    const r1 = await addCredentialHelpers({ registries: [HOST], env });
    expect(r1.warnings.filter((w) => /stale token/.test(w))).toHaveLength(2);
    await addCredentialHelpers({ registries: [HOST], env, removeStaleAuths: true });
    const cfg = JSON.parse(await readFile(path, 'utf8'));
    expect(cfg.auths).toEqual({});
    expect(cfg.credHelpers[HOST]).toBe('awskit');
  });

  it('says when it replaces another helper, and finds the helper on PATH', async () => {
    const { dir, env } = await tempDockerConfig({ credHelpers: { [HOST]: 'ecr-login' } });
    const bin = join(dir, 'bin');
    await mkdir(bin);
    await writeFile(join(bin, 'docker-credential-awskit'), '#!/bin/sh\n');
    await chmod(join(bin, 'docker-credential-awskit'), 0o755);
    const r = await addCredentialHelpers({ registries: [HOST], env: { ...env, PATH: bin } });
    expect(r.warnings).toEqual([`credHelpers for ${HOST} was "ecr-login"; replaced with "awskit".`]);
  });
});
