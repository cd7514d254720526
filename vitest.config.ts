import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Source modules register their platform facts on import (src/care/platforms.ts).
    setupFiles: ['test/support/platforms.ts'],
    include: ['test/**/*.test.ts'],
    // The reliability suite has its own config (vitest.reliability.config.ts) and script.
    exclude: ['test/reliability/**', '**/node_modules/**'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Two cores: more workers than that only adds start-up cost to every file.
    maxWorkers: 2,
  },
});
