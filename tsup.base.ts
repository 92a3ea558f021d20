import { readFileSync } from 'node:fs';
import type { Options } from 'tsup';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

/** Shared tsup settings: ESM + CJS + d.ts for every publishable package. */
export const baseTsup = (entry: Record<string, string> | string[]): Options => ({
  entry,
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  splitting: false,
  shims: true,
  // The version reaches the user agent without a runtime read of package.json.
  define: { __AWSKIT_VERSION__: JSON.stringify(pkg.version) },
});
