import { defineConfig } from 'vitest/config';

/**
 * The reliability suite (`npm run test:reliability`): carebot under faults (kill -9, Slack and
 * platform outages, the database going away, two instances, hostile input). It needs PostgreSQL
 * (TEST_DATABASE_URL, default the local server) and runs one file at a time, since most files
 * measure timing on a two-core machine. `npm test` skips these files (see support/gate.ts).
 */
export default defineConfig({
  test: {
    // Source modules register their platform facts on import (src/care/platforms.ts).
    setupFiles: ['test/support/platforms.ts'],
    include: ['test/reliability/**/*.test.ts'],
    testTimeout: 90_000,
    hookTimeout: 60_000,
    fileParallelism: false,
    maxWorkers: 1,
    env: {
      CAREBOT_RELIABILITY: '1',
      TEST_DATABASE_URL: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    },
  },
});
