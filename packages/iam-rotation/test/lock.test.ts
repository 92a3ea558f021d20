import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { acquireLock } from '../src/lock.js';

/** Delays (ms) for the next rm() calls on `*.lock` paths: widens the window between seeing a stale lock and removing it. */
const inject = vi.hoisted(() => ({ lockRmDelays: [] as number[] }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const rm = (async (path: Parameters<typeof real.rm>[0], opts?: Parameters<typeof real.rm>[1]) => {
    if (String(path).endsWith('.lock')) {
      const delay = inject.lockRmDelays.shift() ?? 0;
      if (delay) await new Promise((r) => setTimeout(r, delay));
    }
    return real.rm(path, opts);
  }) as typeof real.rm;
  return { ...real, rm, default: { ...real, rm } };
});

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
const tempDir = async () => {
  const d = await mkdtemp(join(tmpdir(), 'awskit-lock-'));
  dirs.push(d);
  return d;
};

/** The pid of a process that has exited (so a lock naming it is stale). */
async function deadPid(): Promise<number> {
  const p = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((r) => p.once('exit', r));
  return p.pid!;
}

describe('acquireLock', () => {
  // Regression (issue 14 item 5): takeover was "rm the stale lock, then create": a second taker that had also seen
  // the stale pid removed the first taker's fresh lock, and both held it.
  it('takes over a stale lock atomically: of many concurrent takers exactly one holds it', async () => {
    const dir = await tempDir();
    const pid = await deadPid();
    for (let round = 0; round < 15; round++) {
      const lockFile = join(dir, `round-${round}.lock`);
      await writeFile(lockFile, `${pid}\n`);
      // The second remover is slow: it acts on what it saw before the first taker created its fresh lock.
      inject.lockRmDelays = [0, 150];
      const results = await Promise.allSettled(Array.from({ length: 12 }, () => acquireLock(lockFile)));
      const holders = results.filter((r) => r.status === 'fulfilled');
      expect(holders, `round ${round}`).toHaveLength(1);
      for (const r of results)
        if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'ROTATION_IN_PROGRESS' });
      inject.lockRmDelays = [];
      for (const h of holders) await (h as PromiseFulfilledResult<() => Promise<void>>).value();
    }
    expect(await readdir(dir)).toEqual([]);
  });

  it('waits for a live holder when asked to, and then takes the lock', async () => {
    const dir = await tempDir();
    const lockFile = join(dir, 'f.lock');
    const release = await acquireLock(lockFile);
    let second: (() => Promise<void>) | undefined;
    const waiting = acquireLock(lockFile, { waitMs: 20_000, pollMs: 10 }).then((r) => {
      second = r;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(second).toBeUndefined();
    await release();
    await waiting;
    expect(second).toBeDefined();
    expect((await readFile(lockFile, 'utf8')).startsWith(`${process.pid}`)).toBe(true);
    await second!();
    expect(await readdir(dir)).toEqual([]);
  });

  it('release never removes a lock that another holder took over', async () => {
    const dir = await tempDir();
    const lockFile = join(dir, 'f.lock');
    const release = await acquireLock(lockFile);
    await writeFile(lockFile, `${await deadPid()}\nsomeone-else\n`);
    await release();
    expect(await readFile(lockFile, 'utf8')).toContain('someone-else');
  });
});
