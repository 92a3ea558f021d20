import { chown, lstat, mkdir, readdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { writeFileAtomic } from '../src/index';
import { makeTempDir, removeTempDirs } from './helpers';

/** Failure injection for the temp file's FileHandle.close (everything else is the real node:fs/promises). */
const inject = vi.hoisted(() => ({ failTempClose: false }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const open = (async (...args: Parameters<typeof real.open>) => {
    const fh = await real.open(...args);
    if (inject.failTempClose && String(args[0]).endsWith('.tmp')) {
      const close = fh.close.bind(fh);
      fh.close = async () => {
        await close();
        throw Object.assign(new Error('EIO: injected close failure'), { code: 'EIO' });
      };
    }
    return fh;
  }) as typeof real.open;
  return { ...real, open, default: { ...real, open } };
});
afterEach(() => {
  inject.failTempClose = false;
});

const modeOf = async (p: string) => (await stat(p)).mode & 0o777;

let savedUmask: number | undefined;
/** Sets the process umask for one test (restored in afterEach). Needs the forks pool, not worker threads. */
function setUmask(mask: number) {
  const old = process.umask(mask);
  savedUmask ??= old;
}
afterEach(() => {
  if (savedUmask !== undefined) process.umask(savedUmask);
  savedUmask = undefined;
});
afterAll(removeTempDirs);

describe('writeFileAtomic', () => {
  it('writes the file with mode 0600 even under a permissive umask', async () => {
    setUmask(0o000);
    const dir = await makeTempDir();
    const file = join(dir, 'credentials');
    await writeFileAtomic(file, 'secret\n');
    expect(await readFile(file, 'utf8')).toBe('secret\n');
    expect(await modeOf(file)).toBe(0o600);
  });

  it('gives the requested mode even when the umask would narrow it', async () => {
    setUmask(0o077);
    const dir = await makeTempDir();
    const file = join(dir, 'public.json');
    await writeFileAtomic(file, '{}', { mode: 0o644 });
    expect(await modeOf(file)).toBe(0o644);
  });

  it('replaces the content and the mode of an existing file', async () => {
    const dir = await makeTempDir();
    const file = join(dir, 'config');
    await writeFile(file, 'old content that is longer than the new one', { mode: 0o644 });
    await writeFileAtomic(file, 'new');
    expect(await readFile(file, 'utf8')).toBe('new');
    expect(await modeOf(file)).toBe(0o600);
    expect(await readdir(dir)).toEqual(['config']);
  });

  // Regression: rename() over a symlinked ~/.aws/credentials (stow, chezmoi) replaced the link with a plain file,
  // so the dotfiles copy silently kept the old (rotated, now deleted) key.
  it('writes through a symlink and keeps the link', async () => {
    const dir = await makeTempDir();
    await mkdir(join(dir, 'dotfiles'));
    await mkdir(join(dir, 'home'));
    const real = join(dir, 'dotfiles', 'credentials');
    const link = join(dir, 'home', 'credentials');
    await writeFile(real, 'old');
    await symlink(real, link);
    await writeFileAtomic(link, 'new');
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readFile(real, 'utf8')).toBe('new');
    expect(await modeOf(real)).toBe(0o600);
    expect(await readdir(join(dir, 'home'))).toEqual(['credentials']);
    expect(await readdir(join(dir, 'dotfiles'))).toEqual(['credentials']);
  });

  it('writes bytes', async () => {
    const dir = await makeTempDir();
    const file = join(dir, 'blob');
    await writeFileAtomic(file, new Uint8Array([0, 1, 2, 255]));
    expect([...(await readFile(file))]).toEqual([0, 1, 2, 255]);
  });

  it('creates missing parent directories with mode 0700', async () => {
    setUmask(0o000);
    const dir = await makeTempDir();
    const file = join(dir, 'a', 'b', 'token.json');
    await writeFileAtomic(file, 'x');
    expect(await readFile(file, 'utf8')).toBe('x');
    expect(await modeOf(join(dir, 'a'))).toBe(0o700);
    expect(await modeOf(join(dir, 'a', 'b'))).toBe(0o700);
  });

  it('uses dirMode for created directories and leaves existing ones alone', async () => {
    setUmask(0o000);
    const dir = await makeTempDir();
    await mkdir(join(dir, 'existing'), { mode: 0o755 });
    await writeFileAtomic(join(dir, 'existing', 'f'), 'x');
    expect(await modeOf(join(dir, 'existing'))).toBe(0o755);
    await writeFileAtomic(join(dir, 'new', 'f'), 'x', { dirMode: 0o750 });
    expect(await modeOf(join(dir, 'new'))).toBe(0o750);
  });

  it('leaves no temp file behind when the rename fails (the target is a directory)', async () => {
    const dir = await makeTempDir();
    const target = join(dir, 'target');
    await mkdir(join(target, 'child'), { recursive: true });
    await expect(writeFileAtomic(target, 'x')).rejects.toMatchObject({
      code: expect.stringMatching(/EISDIR|ENOTEMPTY|EEXIST/),
    });
    expect((await readdir(dir)).sort()).toEqual(['target']);
    expect(await readdir(target)).toEqual(['child']);
  });

  it('leaves no temp file behind when writing fails', async () => {
    const dir = await makeTempDir();
    const file = join(dir, 'f');
    // A value fs cannot write makes FileHandle.writeFile reject after the temp file exists.
    await expect(writeFileAtomic(file, 42 as unknown as string)).rejects.toThrow();
    expect(await readdir(dir)).toEqual([]);
  });

  it('keeps the old content when the write fails', async () => {
    const dir = await makeTempDir();
    const file = join(dir, 'f');
    await writeFile(file, 'old');
    await expect(writeFileAtomic(file, 42 as unknown as string)).rejects.toThrow();
    expect(await readFile(file, 'utf8')).toBe('old');
    expect(await readdir(dir)).toEqual(['f']);
  });

  it('survives concurrent writers: the result is one of the writes, whole', async () => {
    const dir = await makeTempDir();
    const file = join(dir, 'f');
    const values = Array.from({ length: 20 }, (_, i) => `value-${i}-${'x'.repeat(1000)}`);
    await Promise.all(values.map((v) => writeFileAtomic(file, v)));
    expect(values).toContain(await readFile(file, 'utf8'));
    expect(await readdir(dir)).toEqual(['f']);
  });

  // Regression (issue 14 item 13): run as root (sudo awskit iam rotate-key), the rename left a root-owned
  // ~/.aws/credentials that its user could no longer read.
  it('keeps the owner and group of an existing file', async () => {
    const dir = await makeTempDir();
    const file = join(dir, 'credentials');
    await writeFile(file, 'old', { mode: 0o600 });
    const root = process.getuid?.() === 0;
    // Root can give the file to anyone; another user can at least keep their own ids.
    const owner = root ? { uid: 4321, gid: 4322 } : { uid: process.getuid!(), gid: process.getgid!() };
    await chown(file, owner.uid, owner.gid);
    await writeFileAtomic(file, 'new');
    const st = await stat(file);
    expect({ uid: st.uid, gid: st.gid }).toEqual(owner);
    expect(await readFile(file, 'utf8')).toBe('new');
    expect(await modeOf(file)).toBe(0o600);
  });

  // Regression (issue 14 item 13): realpath() fails on a dangling link, so the link itself was replaced by a file
  // and the dotfiles target it pointed at was never created.
  it("writes a dangling symlink's target and keeps the link", async () => {
    const dir = await makeTempDir();
    await mkdir(join(dir, 'dotfiles'));
    await mkdir(join(dir, 'home'));
    const link = join(dir, 'home', 'credentials');
    await symlink(join('..', 'dotfiles', 'credentials'), link); // relative, target missing
    await writeFileAtomic(link, 'new');
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readlink(link)).toBe(join('..', 'dotfiles', 'credentials'));
    expect(await readFile(join(dir, 'dotfiles', 'credentials'), 'utf8')).toBe('new');
    expect(await readdir(join(dir, 'home'))).toEqual(['credentials']);
    expect(await readdir(join(dir, 'dotfiles'))).toEqual(['credentials']);
  });

  it('refuses a symlink loop with a clear error and writes nothing', async () => {
    const dir = await makeTempDir();
    await symlink(join(dir, 'b'), join(dir, 'a'));
    await symlink(join(dir, 'a'), join(dir, 'b'));
    await expect(writeFileAtomic(join(dir, 'a'), 'x')).rejects.toMatchObject({ code: 'ELOOP' });
    expect((await readdir(dir)).sort()).toEqual(['a', 'b']);
  });

  // Regression (issue 14 item 13): a failing close() after the data was written left `.f.<pid>.<rand>.tmp` behind.
  it('leaves no temp file behind when closing the temp file fails', async () => {
    const dir = await makeTempDir();
    const file = join(dir, 'f');
    await writeFile(file, 'old');
    inject.failTempClose = true;
    await expect(writeFileAtomic(file, 'new')).rejects.toThrow(/injected close failure/);
    expect(await readdir(dir)).toEqual(['f']);
    expect(await readFile(file, 'utf8')).toBe('old');
  });
});
