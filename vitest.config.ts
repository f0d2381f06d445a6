import { defineConfig } from 'vitest/config';

// The AWS SDK's Node-version notice, as for `npm start` (local/sdk-warning.js); the tests that check it
// clear this for their child processes.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    // Property tests run many cases; a slow CI machine must not fail them on time alone.
    testTimeout: 30_000,
    // expect.poll waits for something a real socket, worker or browser does; its 1 s default fails on a
    // shared machine under a full suite (a session start took longer in CI). Failures still say what was seen.
    expect: { poll: { timeout: 15_000 } },
    // In CI a JSON report as well, from which .ci/run prints the plain "N passed, N failed" line.
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: { json: 'test-results/vitest.json' },
  },
});
