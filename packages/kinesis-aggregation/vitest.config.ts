import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // listShards.integration.test.ts runs against the local AWS (kinesis-local)
    globalSetup: ['@awskit/local/global-setup'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
