import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAwskitError } from '@awskit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalAwsErrorCode } from '../src/errors';
import { startLocalAws } from '../src/localAws';

/** An init dir with `stage.d/name` scripts (all executable). */
async function initDir(scripts: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'awskit-hooks-'));
  for (const [path, body] of Object.entries(scripts)) {
    await mkdir(join(dir, path.split('/')[0]!), { recursive: true });
    await writeFile(join(dir, path), body, { mode: 0o755 });
  }
  return dir;
}

/** Alive and not a zombie. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function until<T>(fn: () => T | undefined | false, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const readPids = (file: string) =>
  existsSync(file) ? readFileSync(file, 'utf8').split(/\s+/).filter(Boolean).map(Number) : [];

// A hook that starts a background child (which ignores SIGTERM) and then hangs; it records both pids.
const HUNG = (pidFile: string) => `#!/usr/bin/env bash
(trap '' TERM; exec sleep 600) &
echo "$! $$" > ${pidFile}
echo "hung hook started"
sleep 600
`;

const leftovers: number[] = [];
afterEach(() => {
  for (const pid of leftovers.splice(0))
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
});

describe('init hooks (issue 14 item 8)', () => {
  it('times out a hung ready.d script, kills its whole process group, and starts anyway', async () => {
    const pidFile = join(await mkdtemp(join(tmpdir(), 'awskit-pids-')), 'pids');
    const dir = await initDir({
      'ready.d/01-hangs.sh': HUNG(pidFile),
      'ready.d/02-after.sh': '#!/usr/bin/env bash\necho after\n',
    });
    const aws = await startLocalAws({ port: 0, services: ['dynamodb'], initDir: dir, initTimeoutMs: 1_500 });
    try {
      const pids = readPids(pidFile);
      leftovers.push(...pids);
      expect(pids).toHaveLength(2);
      const [hung, after] = aws.initScripts();
      expect(hung).toMatchObject({ name: '01-hangs.sh', state: 'ERROR' });
      expect(hung!.output).toMatch(/timed out after 1500 ms/);
      expect(after).toMatchObject({ name: '02-after.sh', state: 'SUCCESSFUL' });
      await until(() => pids.every((p) => !running(p)));
    } finally {
      await aws.stop();
    }
  });

  it('on an abort during start-up: kills the running hook, runs shutdown.d, removes its temp dirs, and rejects', async () => {
    const work = await mkdtemp(join(tmpdir(), 'awskit-abort-'));
    const pidFile = join(work, 'pids');
    const dir = await initDir({
      'boot.d/01-shim.sh': `#!/usr/bin/env bash\ndirname "$(command -v awslocal)" > ${join(work, 'shim')}\n`,
      'ready.d/01-hangs.sh': HUNG(pidFile),
      'shutdown.d/01-bye.sh': `#!/usr/bin/env bash\necho bye > ${join(work, 'shutdown-ran')}\n`,
    });
    const ac = new AbortController();
    const starting = startLocalAws({ port: 0, services: ['dynamodb'], initDir: dir, signal: ac.signal });
    const pids = await until(() => readPids(pidFile).length === 2 && readPids(pidFile));
    leftovers.push(...pids);
    ac.abort();
    const err = await starting.then(
      (aws) => aws.stop().then(() => new Error('started although aborted')),
      (e: unknown) => e,
    );
    expect(isAwskitError(err, LocalAwsErrorCode.StartAborted)).toBe(true);
    expect(existsSync(join(work, 'shutdown-ran'))).toBe(true);
    const shimDir = readFileSync(join(work, 'shim'), 'utf8').trim();
    expect(shimDir).toMatch(/awskit-shim-/);
    expect(existsSync(shimDir)).toBe(false);
    await until(() => pids.every((p) => !running(p)));
  });

  it('kills hook children left running when the local AWS stops', async () => {
    const work = await mkdtemp(join(tmpdir(), 'awskit-bg-'));
    const dir = await initDir({
      // Exits at once but leaves a child holding its stdout.
      'ready.d/01-daemon.sh': `#!/usr/bin/env bash\n(trap '' TERM; exec sleep 600) &\necho $! > ${join(work, 'pid')}\n`,
    });
    const aws = await startLocalAws({ port: 0, services: ['dynamodb'], initDir: dir });
    const [pid] = readPids(join(work, 'pid'));
    leftovers.push(pid!);
    expect(aws.initScripts()[0]).toMatchObject({ state: 'SUCCESSFUL' });
    expect(running(pid!)).toBe(true);
    await aws.stop();
    await until(() => !running(pid!));
  });

  it("gives hooks the local endpoint and dummy keys, never the caller's session token, profile or endpoint overrides", async () => {
    const caller = {
      AWS_SESSION_TOKEN: 'caller-session-token',
      AWS_SECURITY_TOKEN: 'caller-security-token',
      AWS_PROFILE: 'prod',
      AWS_ENDPOINT_URL_KINESIS: 'https://kinesis.us-east-1.amazonaws.com',
      AWS_ENDPOINT_URL_IAM: 'https://iam.amazonaws.com',
      AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true',
      AWS_SECRET_ACCESS_KEY: 'caller-secret',
    };
    const saved = Object.fromEntries(Object.keys(caller).map((k) => [k, process.env[k]]));
    Object.assign(process.env, caller);
    const dir = await initDir({ 'ready.d/01-env.sh': '#!/usr/bin/env bash\nenv | grep -E "^AWS" | sort\n' });
    try {
      const aws = await startLocalAws({ port: 0, services: ['dynamodb'], initDir: dir });
      try {
        const out = aws.initScripts()[0]!.output;
        expect(out).toContain(`AWS_ENDPOINT_URL=${aws.endpoint}`);
        expect(out).toContain('AWS_SECRET_ACCESS_KEY=test');
        for (const key of Object.keys(caller).filter((k) => k !== 'AWS_SECRET_ACCESS_KEY'))
          expect(out, key).not.toContain(`${key}=`);
        expect(out).not.toMatch(/caller-|amazonaws\.com|prod/);
      } finally {
        await aws.stop();
      }
    } finally {
      for (const [k, v] of Object.entries(saved))
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
    }
  });
});
