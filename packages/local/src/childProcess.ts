import { type ChildProcess, spawn } from 'node:child_process';
import type { Logger } from '@awskit/core';

/** A supervised emulator child process. */
export interface ManagedChild {
  readonly name: string;
  readonly process: ChildProcess;
  /** Last lines the child wrote (for error messages). */
  tail(): string;
  readonly exited: boolean;
  /** Resolves when the child has exited. */
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after `graceMs`. Resolves when the child is gone. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Last line of defence against orphans: if this process exits without stopping its emulators, kill them
 * synchronously. (Children also watch their stdin and exit when we die, even by SIGKILL — see the wrappers.)
 */
function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of live) {
      try {
        c.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

/**
 * Spawns an emulator with stdin as a pipe: the wrapper scripts exit when that pipe closes, so the child dies with
 * its parent even when the parent is killed with SIGKILL.
 */
export function spawnManaged(
  name: string,
  command: string,
  args: string[],
  { env, logger, cwd }: { env: NodeJS.ProcessEnv; logger: Logger; cwd?: string },
): ManagedChild {
  installExitHook();
  const child = spawn(command, args, { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  live.add(child);
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      lines.push(line);
      if (lines.length > 40) lines.shift();
      logger.debug(`[${name}] ${line}`);
    }
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.stdin?.on('error', () => {});
  let exited = false;
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true;
      live.delete(child);
      resolve({ code, signal });
    });
    child.once('error', (err) => {
      lines.push(String(err.message));
      exited = true;
      live.delete(child);
      resolve({ code: null, signal: null });
    });
  });
  return {
    name,
    process: child,
    tail: () => lines.slice(-12).join('\n'),
    get exited() {
      return exited;
    },
    exit,
    async stop(graceMs = 3_000) {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (!exited) child.kill('SIGKILL');
      }, graceMs);
      await exit;
      clearTimeout(timer);
    },
  };
}
