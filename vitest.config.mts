import { defineConfig } from 'vitest/config';

// One runner for everything: shared rules, server integration tests (real DB, real HTTP on
// loopback), and the browser tests in e2e/ (real Chromium against the H5 build).
export default defineConfig({
  test: {
    include: [
      'eslint-rules/**/*.test.ts',
      'shared/src/**/*.test.ts',
      'server/src/**/*.test.ts',
      'miniprogram/**/*.test.ts',
      'e2e/**/*.test.ts',
      'weapp-test/**/*.test.ts',
    ],
    environment: 'node',
    pool: 'forks',
    setupFiles: ['server/src/test-support/setup.ts'],
    // the H5 and WeChat builds the browser and weapp tests drive, built at once up front when stale (~1-2 min)
    globalSetup: ['e2e/support/global-setup.ts'],
    // budgets for a busy 2-core machine (CI neighbours, the soak's CPU burner): a browser journey can take
    // 4-5x its quiet time there
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: true,
    maxWorkers: 2,
  },
});
