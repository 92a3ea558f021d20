import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');

function newestMtime(dir: string): number {
  let max = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    max = Math.max(max, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return max;
}

/** Builds dist/ when it is missing or older than src/ (the child-process tests run dist/index.js). */
export default function ensureBuilt(): void {
  let built = 0;
  try {
    built = statSync(join(pkg, 'dist', 'index.js')).mtimeMs;
  } catch {}
  if (built >= newestMtime(join(pkg, 'src'))) return;
  execFileSync('pnpm', ['exec', 'tsup'], { cwd: pkg, stdio: 'ignore' });
}
