/**
 * Mutation testing (`npm run test:mutation`, docs/testing.md). Scoped to the
 * folders whose behaviour the tests are meant to pin down; one folder at a
 * time with `npm run test:mutation -- --mutate 'src/policy/**\/*.ts'`.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts' },
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  coverageAnalysis: 'perTest',
  mutate: [
    'src/spool/**/*.ts',
    'src/queue/**/*.ts',
    'src/policy/**/*.ts',
    'src/delivery/**/*.ts',
    'src/bounce/**/*.ts',
    'src/rx/**/*.ts',
    '!src/**/*.test.ts',
  ],
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json', 'event-recorder'],
  // one file per tested mutant as it finishes, so a stopped run still has its results
  eventReporter: { baseDir: 'reports/mutation/events' },
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: 'reports/.stryker-tmp',
  dryRunTimeoutMinutes: 10,
  concurrency: 2,
};
