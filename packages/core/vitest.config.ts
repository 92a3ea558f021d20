import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // process.umask() (writeFileAtomic tests) is not available in worker threads.
    pool: 'forks',
    testTimeout: 10_000,
  },
});
