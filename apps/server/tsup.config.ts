import { defineConfig } from 'tsup';

// A thin bin over @awskit/server (a real dependency, not bundled: it serves its dashboard files from its package).
export default defineConfig({
  entry: { bin: 'src/bin.ts' },
  format: ['esm'],
  clean: true,
  target: 'node20',
  platform: 'node',
});
