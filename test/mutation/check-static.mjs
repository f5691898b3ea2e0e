/**
 * Tries by hand the static mutants that the committed measurement says
 * survived: for each, the replacement is written into the source, the
 * folder's listed tests run (as `MUTATE=<folder>` would run them), and the
 * source is put back. A static mutant (code that runs while modules load)
 * is covered by no test in particular, so an incremental run reuses its
 * survival even after a new test kills it; this says which the current
 * tests kill.
 *
 *   node test/mutation/check-static.mjs src/spool
 *
 * Prints one line per mutant: `killed` with the first failing test, or
 * `survived`. Changes nothing but the source, and restores it.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { FOLDERS } from '../../stryker.config.mjs';

const root = new URL('../../', import.meta.url);
const report = JSON.parse(readFileSync(new URL('test/mutation/stryker-incremental.json', root), 'utf8'));
const prefix = process.argv[2];
if (!prefix?.startsWith('src/')) {
  console.error('usage: node test/mutation/check-static.mjs src/<folder>');
  process.exit(64);
}
const folder = prefix.split('/')[1];

/** The offset of a 1-based line and 0-based column in `text`. */
function offsetOf(text, { line, column }) {
  let offset = 0;
  for (let l = 1; l < line; l++) offset = text.indexOf('\n', offset) + 1;
  return offset + column;
}

for (const [name, file] of Object.entries(report.files)) {
  if (!name.startsWith(`${prefix}/`) && name !== prefix) continue;
  for (const m of file.mutants.filter((x) => x.static && x.status === 'Survived')) {
    const path = new URL(name, root);
    const original = readFileSync(path, 'utf8');
    if (original !== file.source) {
      console.log(`${name}:${m.location.start.line} skipped: the source changed since it was measured`);
      continue;
    }
    const start = offsetOf(original, m.location.start);
    const end = offsetOf(original, m.location.end);
    writeFileSync(path, original.slice(0, start) + m.replacement + original.slice(end));
    let verdict = 'survived';
    try {
      execFileSync('npx', ['vitest', 'run', '--config', 'vitest.mutation.config.ts', '--reporter', 'dot'], {
        cwd: root,
        env: { ...process.env, MUTATE: folder, MUTATION_TESTS: FOLDERS[folder].join(',') },
        stdio: 'pipe',
        timeout: 600_000,
      });
    } catch (error) {
      const out = String(error.stdout ?? '');
      const failed = /FAIL\s+(\S+)/.exec(out)?.[1] ?? 'a test';
      verdict = `killed (${failed} fails)`;
    } finally {
      writeFileSync(path, original);
    }
    console.log(`${name}:${m.location.start.line} ${m.mutatorName} → ${m.replacement}: ${verdict}`);
  }
}
