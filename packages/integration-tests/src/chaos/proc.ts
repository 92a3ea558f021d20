import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The integration-tests package directory (where `tsx` and the workspace packages resolve). */
export const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The built `awskit` CLI (the workspace's `apps/cli`, linked into this package's node_modules). */
export const CLI_PATH = join(PACKAGE_DIR, 'node_modules', 'awskit', 'dist', 'awskit.js');

/** Path of a file of this folder (`src/chaos`). */
export const chaosFile = (name: string) => join(dirname(fileURLToPath(import.meta.url)), name);

/**
 * Starts a TypeScript file of this folder in a new Node process through tsx. The file imports the workspace
 * packages by name, so it runs their BUILT dist (what a user installs), not their sources.
 */
export function spawnTs(
  file: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; stdio?: 'pipe' | 'inherit' } = {},
): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', chaosFile(file), ...args], {
    cwd: PACKAGE_DIR,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** How a process ended, with what it printed. */
export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Waits for a child to exit, collecting its output. */
export function finished(child: ChildProcess): Promise<Finished> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString('utf8');
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Runs a command to its end (no shell). */
export function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<Finished> {
  return finished(spawn(command, args, { cwd: PACKAGE_DIR, env, stdio: ['ignore', 'pipe', 'pipe'] }));
}
