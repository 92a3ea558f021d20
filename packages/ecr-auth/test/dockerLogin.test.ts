import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { classifyDockerLoginFailure, runDockerLogin } from './helpers';

const FAKE_DOCKER = fileURLToPath(new URL('./fixtures/fake-docker.sh', import.meta.url));
const HOST = '123456789012.dkr.ecr.us-east-1.amazonaws.com';

async function run(mode: string) {
  const out = await mkdtemp(join(tmpdir(), 'fake-docker-'));
  const r = await runDockerLogin({
    dockerPath: FAKE_DOCKER,
    registry: HOST,
    username: 'AWS',
    password: 'very-secret-password',
    env: { ...process.env, FAKE_DOCKER_OUT: out, FAKE_DOCKER_MODE: mode },
  });
  return {
    r,
    argv: (await readFile(join(out, 'argv'), 'utf8')).trim().split('\n'),
    stdin: await readFile(join(out, 'stdin'), 'utf8'),
  };
}

describe('runDockerLogin', () => {
  it('passes the password on stdin only, never in argv', async () => {
    const { r, argv, stdin } = await run('ok');
    expect(r.ok).toBe(true);
    expect(argv).toEqual(['login', '--username', 'AWS', '--password-stdin', HOST]);
    expect(argv.join(' ')).not.toContain('very-secret-password');
    expect(stdin).toBe('very-secret-password');
  });

  it('recognises a missing daemon', async () => {
    const { r } = await run('nodaemon');
    expect(r).toMatchObject({ ok: false, reason: 'daemon-unavailable', exitCode: 1 });
  });

  it('recognises a refused login', async () => {
    const { r } = await run('unauthorized');
    expect(r).toMatchObject({ ok: false, reason: 'rejected' });
  });

  it("reports other failures with docker's output", async () => {
    const { r } = await run('weird');
    expect(r).toMatchObject({ ok: false, reason: 'failed', exitCode: 3, output: 'something odd happened' });
  });

  it('reports a docker that cannot be started', async () => {
    const r = await runDockerLogin({
      dockerPath: '/nonexistent/docker',
      registry: HOST,
      username: 'AWS',
      password: 'pw',
    });
    expect(r).toMatchObject({ ok: false, reason: 'failed', exitCode: null });
  });
});

describe('classifyDockerLoginFailure', () => {
  it.each([
    [
      'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?',
      'daemon-unavailable',
    ],
    [
      'error during connect: Get "http://%2F%2F.%2Fpipe%2Fdocker_engine/v1.24/auth": open //./pipe/docker_engine',
      'daemon-unavailable',
    ],
    // docker 28 logs in client-side without a daemon; this is what it prints for moto's fake registry host
    [
      'Get "https://123456789012.dkr.ecr.us-east-1.amazonaws.com/v2/": dial tcp: lookup 123456789012.dkr.ecr.us-east-1.amazonaws.com on 10.0.0.53:53: no such host',
      'registry-unreachable',
    ],
    [
      'Get "http://127.0.0.1:9/v2/": dial tcp 127.0.0.1:9: connect: connection refused',
      'registry-unreachable',
    ],
    [
      'Error response from daemon: Get "https://x/v2/": unauthorized: incorrect username or password',
      'rejected',
    ],
    ['denied: Your authorization token has expired. Reauthenticate and try again.', 'rejected'],
    ['unknown flag: --password-stdin', 'failed'],
  ])('%s → %s', (text, reason) => {
    expect(classifyDockerLoginFailure(text)).toBe(reason);
  });
});
