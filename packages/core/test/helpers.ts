import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const created: string[] = [];

/** A fresh temp directory, removed by {@link removeTempDirs}. */
export async function makeTempDir(prefix = 'awskit-core-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}

/** A temp HOME with `~/.aws/config` and `~/.aws/credentials` holding exactly the given text (when given). */
export async function makeHome(files: { config?: string; credentials?: string } = {}): Promise<string> {
  const home = await makeTempDir('awskit-home-');
  if (files.config !== undefined || files.credentials !== undefined) await mkdir(join(home, '.aws'));
  if (files.config !== undefined) await writeFile(join(home, '.aws', 'config'), files.config);
  if (files.credentials !== undefined) await writeFile(join(home, '.aws', 'credentials'), files.credentials);
  return home;
}

export async function removeTempDirs(): Promise<void> {
  await Promise.all(created.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}
