import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, open, readlink, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { AwskitError } from './errors';

/** Options for {@link writeFileAtomic}. */
export interface WriteFileAtomicOptions {
  /** File mode of the result. @default 0o600 (these files usually hold secrets) */
  mode?: number;
  /** Create the parent directory (with this mode) if missing. @default 0o700 */
  dirMode?: number;
}

/** Symlinks followed before giving up (Linux's own limit is 40). */
const MAX_LINKS = 40;

/**
 * The path a write to `file` must replace: `file` itself, or the end of its symlink chain. Unlike `realpath`, this
 * also resolves a dangling link (dotfile managers link `~/.aws/credentials` before the target exists), so the link
 * stays a link and its target is created.
 */
async function resolveWriteTarget(file: string): Promise<string> {
  let current = resolve(file);
  for (let i = 0; i <= MAX_LINKS; i++) {
    let st: Awaited<ReturnType<typeof lstat>>;
    try {
      st = await lstat(current);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return current;
      throw e;
    }
    if (!st.isSymbolicLink()) return current;
    current = resolve(dirname(current), await readlink(current));
  }
  throw Object.assign(new Error(`ELOOP: too many symbolic links, writing '${file}'`), {
    code: 'ELOOP',
    path: file,
  });
}

/**
 * Writes a file so that readers see either the old or the new content, never a torn one: write a temp file in the
 * same directory with the final mode, fsync it, rename over the target, fsync the directory.
 *
 * - A symlink at `file` (even a dangling one) is kept: its target is what gets written.
 * - An existing file keeps its owner and group (a rotation run with sudo must not leave a root-owned
 *   `~/.aws/credentials`); if they cannot be kept, nothing is written.
 * - The temp file is removed on every failure path.
 *
 * @throws {AwskitError} `FILE_OWNER_NOT_KEPT` when the existing file belongs to another user and we cannot give the
 *   new file the same owner; otherwise the file system's own error (`EACCES`, `ELOOP`, `EISDIR`, …)
 */
export async function writeFileAtomic(
  file: string,
  data: string | Uint8Array,
  options: WriteFileAtomicOptions = {},
): Promise<void> {
  const { mode = 0o600, dirMode = 0o700 } = options;
  const target = await resolveWriteTarget(file);
  const dir = dirname(target);
  await mkdir(dir, { recursive: true, mode: dirMode });
  const existing = await stat(target).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  const tmp = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', mode);
  let failure: unknown;
  try {
    await fh.writeFile(data);
    await fh.chmod(mode); // umask may have narrowed or the caller wants wider than open() gave
    if (existing) {
      const mine = await fh.stat();
      if (mine.uid !== existing.uid || mine.gid !== existing.gid) {
        await fh.chown(existing.uid, existing.gid).catch((e: NodeJS.ErrnoException) => {
          throw new AwskitError(
            'FILE_OWNER_NOT_KEPT',
            `Cannot give the new ${target} its current owner ${existing.uid}:${existing.gid} (${e.code ?? e.message}); it was left unchanged`,
            { hint: 'Run as the user who owns the file (or as root).', cause: e },
          );
        });
      }
    }
    await fh.sync();
  } catch (e) {
    failure = e;
  }
  try {
    await fh.close();
  } catch (e) {
    failure ??= e;
  }
  if (failure === undefined) {
    try {
      await rename(tmp, target);
    } catch (e) {
      failure = e;
    }
  }
  if (failure !== undefined) {
    await rm(tmp, { force: true }).catch(() => {});
    throw failure;
  }
  await chmod(target, mode);
  try {
    const d = await open(dir, 'r');
    await d.sync().finally(() => d.close());
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is still atomic.
  }
}
