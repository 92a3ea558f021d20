import { defineConfig } from 'tsup';

// ESM only: the dashboard (dashboard/*.html|js|css) ships in the package and is read relative to dist/, so the
// package is a real dependency of the CLI, never bundled into it. `./flags` is pure data the CLI does bundle.
export default defineConfig({
  entry: { index: 'src/index.ts', flags: 'src/flags.ts' },
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  splitting: false,
});
