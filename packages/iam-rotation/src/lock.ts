import { open, readFile, rm } from 'node:fs/promises';
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

/**
 * Takes an exclusive lock file (created with O_EXCL, mode 0600, holding our pid) so two rotations of the same
 * profile cannot interleave. A lock left by a dead process is taken over.
 *
 * @returns a function that releases the lock
 * @throws {IamRotationError} `ROTATION_IN_PROGRESS` when a live process holds it
 */
export async function acquireLock(lockFile: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(lockFile, 'wx', 0o600);
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return () => rm(lockFile, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number((await readFile(lockFile, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
        throw new IamRotationError(
          'ROTATION_IN_PROGRESS',
          `Another awskit rotation (pid ${pid}) holds ${lockFile}`,
          {
            hint: 'Wait for it to finish. If that process is not awskit, delete the lock file.',
          },
        );
      }
      await rm(lockFile, { force: true }); // stale: its owner is gone
    }
  }
  throw new IamRotationError('ROTATION_IN_PROGRESS', `Could not take the lock ${lockFile}`, {
    hint: 'Another rotation may have started at the same moment; try again.',
  });
}
