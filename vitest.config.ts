import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    // Property tests run many cases; a slow CI machine must not fail them on time alone.
    testTimeout: 30_000,
  },
});
