import type { Options } from 'tsup';

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
});
