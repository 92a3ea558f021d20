import { defineConfig } from 'tsup';

// Private app: ESM only. The dashboard (dashboard/*.html|js|css) is served from the package folder, not bundled.
export default defineConfig({
  entry: { index: 'src/index.ts', bin: 'src/bin.ts' },
  format: ['esm'],
  dts: { entry: { index: 'src/index.ts' } },
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  splitting: false,
});
