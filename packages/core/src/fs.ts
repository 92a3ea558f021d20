import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, realpath, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Options for {@link writeFileAtomic}. */
export interface WriteFileAtomicOptions {
  /** File mode of the result. @default 0o600 (these files usually hold secrets) */
  mode?: number;
  /** Create the parent directory (with this mode) if missing. @default 0o700 */
  dirMode?: number;
}

/**
 * Writes a file so that readers see either the old or the new content, never a torn one: write a temp file in the
 * same directory with the final mode, fsync it, rename over the target, fsync the directory. The temp file is
 * removed if anything fails. A symlink at `file` is kept: its target is what gets replaced.
 */
export async function writeFileAtomic(
  file: string,
  data: string | Uint8Array,
  options: WriteFileAtomicOptions = {},
): Promise<void> {
  const { mode = 0o600, dirMode = 0o700 } = options;
  // Write through a symlink (dotfile managers link ~/.aws/credentials) instead of replacing the link itself.
  const target = await realpath(file).catch(() => file);
  const dir = dirname(target);
  await mkdir(dir, { recursive: true, mode: dirMode });
  const tmp = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.chmod(mode); // umask may have narrowed or the caller wants wider than open() gave
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  try {
    await rename(tmp, target);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  await chmod(target, mode);
  try {
    const d = await open(dir, 'r');
    await d.sync().finally(() => d.close());
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is still atomic.
  }
}
