/**
 * Drops the surviving and uncovered mutants of the given folders (or single
 * source files) from the incremental file, so the next run tests them again
 * with the current tests. Forget only what the next run mutates: forgotten
 * mutants of files it does not mutate are gone from the results.
 *
 * Stryker reuses a survivor's result when no test that covers it changed; a
 * static mutant (one run while modules load) is covered by no test in
 * particular, so its survival is reused even after new tests would kill it.
 *
 *   node test/mutation/forget-survivors.mjs src/queue src/bounce
 *   node test/mutation/forget-survivors.mjs src/spool/file-spool.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';

const FILE = new URL('./stryker-incremental.json', import.meta.url);
const folders = process.argv.slice(2);
if (folders.length === 0) {
  console.error('usage: node test/mutation/forget-survivors.mjs <src/folder or file> [...]');
  process.exit(64);
}
const report = JSON.parse(readFileSync(FILE, 'utf8'));
let dropped = 0;
for (const [name, file] of Object.entries(report.files)) {
  if (!folders.some((folder) => name === folder || name.startsWith(`${folder.replace(/\/$/, '')}/`))) continue;
  const kept = file.mutants.filter((m) => m.status !== 'Survived' && m.status !== 'NoCoverage');
  dropped += file.mutants.length - kept.length;
  file.mutants = kept;
}
writeFileSync(FILE, JSON.stringify(report));
console.log(`${dropped} mutants will be tested again`);
