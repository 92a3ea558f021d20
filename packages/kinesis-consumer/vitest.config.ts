import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['./test/buildIfStale.ts', '@awskit/local/global-setup'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
