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

export default defineConfig({
  test: {
    ...base.test,
    exclude: [...configDefaults.exclude, ...CHILD_DAEMON_TESTS],
    globalSetup: [],
  },
});
