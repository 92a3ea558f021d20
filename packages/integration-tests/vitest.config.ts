import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['@awskit/local/global-setup'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // Scenarios start worker processes and reshard streams: one file at a time keeps them from starving each other.
    fileParallelism: false,
  },
});
