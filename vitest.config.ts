import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'marbles/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // most tests wait on sockets, timers and child processes, not the CPU: vitest's default of one fork per
    // core but one would run them one file at a time on a 2-core machine
    maxWorkers: 3,
    minWorkers: 1,
    globalSetup: ['test/global-setup.ts'],
  },
});
