import { configDefaults, defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * The suite as Stryker runs it. Stryker swaps mutants into the TypeScript
 * sources only; tests that start the compiled daemon from `dist/` (child
 * processes, packaging checks) would test unmutated code, so they are left
 * out, and `dist/` need not be built.
 */
const CHILD_DAEMON_TESTS = [
  'test/cli/process.test.ts',
  'test/cli/tail.test.ts',
  'test/daemon/crash-restart.test.ts',
  'test/daemon/delivery.test.ts',
  'test/daemon/durability-trace.test.ts',
  'test/daemon/mail-log.test.ts',
  'test/daemon/multi-node.test.ts',
  'test/daemon/signals.test.ts',
  'test/daemon/startup.test.ts',
  'test/dkim/cli.test.ts',
  'test/inbound/crash.test.ts',
  'test/inbound/patch-check.test.ts',
  'test/packaging/install.test.ts',
  'test/packaging/systemd-unit.test.ts',
];

/**
 * `MUTATION_TESTS` (comma-separated globs) narrows the suite to the tests of
 * one folder, so each mutant runs fewer, faster tests. A narrower suite can
 * only kill fewer mutants: the score it gives is a lower bound.
 */
const only = process.env.MUTATION_TESTS?.split(',').filter((glob) => glob !== '');

export default defineConfig({
  test: {
    ...base.test,
    ...(only !== undefined && only.length > 0 ? { include: only } : {}),
    exclude: [...configDefaults.exclude, ...CHILD_DAEMON_TESTS],
    globalSetup: [],
  },
});
