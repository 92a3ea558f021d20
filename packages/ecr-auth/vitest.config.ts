import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // ensureBuilt: the credential-helper tests run the built package in a child process, as Docker would.
    globalSetup: ['./test/ensureBuilt.ts', '@awskit/local/global-setup'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
