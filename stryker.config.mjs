/**
 * Mutation testing (`npm run test:mutation`, docs/testing.md). Scoped to the
 * folders whose behaviour the tests are meant to pin down.
 *
 * `MUTATE=policy,bounce npm run test:mutation` mutates only those folders and
 * runs only the tests listed for them below (through `MUTATION_TESTS`, read
 * by vitest.mutation.config.ts). Each mutant then runs fewer, faster tests;
 * a narrower suite can only kill fewer mutants, so the score is a lower
 * bound. Results add up in the incremental file across runs.
 */
export const FOLDERS = {
  rx: ['marbles/**/*.test.ts'],
  bounce: ['test/bounce/**/*.test.ts', 'test/queue/**/*.test.ts', 'test/daemon/dsn-notices.test.ts'],
  policy: [
    'test/policy/**/*.test.ts',
    'marbles/**/*.test.ts',
    'test/inbound/limits.test.ts',
    'test/inbound/requiretls.test.ts',
    'test/daemon/auth-throttle.test.ts',
  ],
  queue: [
    'test/queue/**/*.test.ts',
    'marbles/**/*.test.ts',
    'test/delivery/requiretls.test.ts',
    // TLS reports travel through the queue as messages of their own (origin 'tls-report')
    'test/tlsrpt/**/*.test.ts',
  ],
  delivery: ['test/delivery/**/*.test.ts', 'test/dns/**/*.test.ts', 'marbles/queue/**/*.test.ts'],
  spool: ['test/spool/**/*.test.ts', 'test/queue/**/*.test.ts'],
};

function chosenFolders() {
  const names = (process.env.MUTATE ?? '').split(',').filter((name) => name !== '');
  const unknown = names.filter((name) => !(name in FOLDERS));
  if (unknown.length > 0) {
    throw new Error(
      `MUTATE: unknown folder ${unknown.join(', ')}; expected a comma-separated list of ${Object.keys(FOLDERS).join(', ')}`,
    );
  }
  return names.length > 0 ? names : Object.keys(FOLDERS);
}

const folders = chosenFolders();
if (process.env.MUTATE) {
  process.env.MUTATION_TESTS = [...new Set(folders.flatMap((name) => FOLDERS[name]))].join(',');
}

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts' },
  checkers: ['typescript'],
  // the checker type-checks each mutant against the sources only: tests are not compiled by vitest either
  tsconfigFile: 'tsconfig.mutation.json',
  coverageAnalysis: 'perTest',
  mutate: folders.map((name) => `src/${name}/**/*.ts`),
  incremental: true,
  // committed, so that runs of single folders add up across machines
  incrementalFile: 'test/mutation/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json', 'event-recorder'],
  // one file per tested mutant as it finishes, so a stopped run still has its results
  eventReporter: { baseDir: 'reports/mutation/events' },
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: 'reports/.stryker-tmp',
  dryRunTimeoutMinutes: 10,
  concurrency: 4,
  // a loaded 2-core machine can be slow without a mutant looping; a real loop is caught by the hit limit
  timeoutMS: 10_000,
};
