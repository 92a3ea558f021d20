import { randomBytes } from 'node:crypto';
import { link, readFile, rm, writeFile } from 'node:fs/promises';
import { sleep } from '@awskit/core';
import { IamRotationError } from './errors.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Options for {@link acquireLock}. */
export interface AcquireLockOptions {
  /** How long to wait for a live holder to let go; 0 fails at once. @default 0 */
  waitMs?: number;
  /** Delay between attempts while waiting. @default 100 */
  pollMs?: number;
}

/**
 * Creates `file` holding `content`, atomically: the content is written to a temp file first and hard-linked into
 * place, so the lock never exists without its owner's pid (a half-written lock would look stale). False if `file`
 * already exists.
 */
async function createWithContent(file: string, content: string): Promise<boolean> {
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(tmp, content, { mode: 0o600, flag: 'wx' });
  try {
    await link(tmp, file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    await rm(tmp, { force: true });
  }
}

/** The lock's text and pid, or undefined when there is no lock. */
async function holderOf(file: string): Promise<{ text: string; pid: number } | undefined> {
  try {
    const text = await readFile(file, 'utf8');
    return { text, pid: Number(text.split('\n')[0]?.trim()) };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

const isLive = (h: { pid: number }) => Number.isInteger(h.pid) && h.pid > 0 && alive(h.pid);

/**
 * Removes `lockFile` if (still) stale. Only the holder of `<lockFile>.takeover` may remove a stale lock, and it
 * re-reads the lock first: a taker that saw the stale lock earlier can therefore never delete the fresh lock another
 * taker has created since (the plain "rm, then create" race).
 */
async function removeIfStale(lockFile: string): Promise<'removed' | 'live' | 'busy'> {
  const takeover = `${lockFile}.takeover`;
  const mine = `${process.pid}\n${randomBytes(8).toString('hex')}\n`;
  if (!(await createWithContent(takeover, mine))) {
    const other = await holderOf(takeover);
    // A taker killed inside this few-millisecond window leaves its takeover file; clear it if it is still that one.
    if (other && !isLive(other) && (await holderOf(takeover))?.text === other.text)
      await rm(takeover, { force: true });
    return 'busy';
  }
  try {
    const h = await holderOf(lockFile);
    if (!h) return 'removed';
    if (isLive(h)) return 'live';
    await rm(lockFile, { force: true });
    return 'removed';
  } finally {
    await rm(takeover, { force: true });
  }
}

/**
 * Takes an exclusive lock file (mode 0600, holding our pid and a random token). A lock left by a dead process is
 * taken over atomically (see {@link removeIfStale}). With `waitMs`, a live holder is waited for.
 *
 * @returns a function that releases the lock (it removes the file only while it is still ours)
 * @throws {IamRotationError} `ROTATION_IN_PROGRESS` when a live process holds it (after `waitMs`)
 */
export async function acquireLock(
  lockFile: string,
  options: AcquireLockOptions = {},
): Promise<() => Promise<void>> {
  const { waitMs = 0, pollMs = 100 } = options;
  const deadline = Date.now() + waitMs;
  const content = `${process.pid}\n${randomBytes(8).toString('hex')}\n`;
  let busyRetries = 0;
  for (;;) {
    if (await createWithContent(lockFile, content)) {
      return async () => {
        if ((await holderOf(lockFile))?.text === content) await rm(lockFile, { force: true });
      };
    }
    const h = await holderOf(lockFile);
    if (!h) continue; // released in between
    if (!isLive(h)) {
      const r = await removeIfStale(lockFile);
      if (r === 'removed') continue;
      if (r === 'busy' && busyRetries++ < 200) {
        await sleep(5); // another process is taking the stale lock over right now
        continue;
      }
    }
    if (Date.now() >= deadline) {
      throw new IamRotationError(
        'ROTATION_IN_PROGRESS',
        `Another awskit rotation (pid ${h.pid}) holds ${lockFile}`,
        {
          hint: 'Wait for it to finish. If that process is not awskit, delete the lock file.',
        },
      );
    }
    await sleep(pollMs);
  }
}
