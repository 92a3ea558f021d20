import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Vitest global setup: the crash tests run a worker script against the *built* package (dist/), so rebuild it
 * when any source file is newer than dist/index.js (e.g. `pnpm --filter @awskit/kinesis-consumer test` right
 * after an edit, without `pnpm build`).
 */
export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const built = (() => {
    try {
      return statSync(join(root, 'dist/index.js')).mtimeMs;
    } catch {
      return 0;
    }
  })();
  const newest = Math.max(
    ...readdirSync(join(root, 'src')).map((f) => statSync(join(root, 'src', f)).mtimeMs),
  );
  if (newest <= built) return;
  const r = spawnSync('pnpm', ['exec', 'tsup'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0)
    throw new Error('building @awskit/kinesis-consumer for the worker-process tests failed');
}
