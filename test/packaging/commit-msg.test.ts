import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, run } from './helpers.js';

const hook = join(repoRoot, '.githooks/commit-msg');
let dir: string;
let n = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gp-hook-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs the hook the way git does: one argument, the message file. */
async function check(message: string): Promise<ReturnType<typeof run>> {
  const file = join(dir, `COMMIT_EDITMSG.${n++}`);
  await writeFile(file, message);
  return run(hook, [file]);
}

describe('.githooks/commit-msg', () => {
  it('is executable', () => {
    expect(() => accessSync(hook, constants.X_OK)).not.toThrow();
  });

  it.each([
    'build (§1): project skeleton, strict TypeScript, vitest',
    'feat (§3): answer 552 when the size limit is passed mid-stream',
    'fix (§4.2): keep deferred recipients after a restart',
    'refactor (spool): one module owns every queue path',
    'test (queue): marble test for the retention sweeper',
    'doc (readme): quick start',
    'perf (inbound): group commit for small bodies',
    'build (packaging): harden the systemd unit',
    "Merge branch 'retention' into main",
    'Revert "feat (§3): pipelining"',
    'fixup! feat (§3): pipelining',
    'squash! feat (§3): pipelining',
    'feat (§6): audit stream\n\nThe body may say anything (even: nonsense).\n',
    '# Please enter the commit message\n\nfeat (§6): comments and blank lines before the subject are skipped\n',
    'feat (§6): line endings from Windows\r\n\r\nbody\r\n',
    'feat (§6): git commit -v\n# ------------------------ >8 ------------------------\n# Do not modify\ndiff --git a/x b/x\n',
  ])('accepts %j', async (message) => {
    const r = await check(message);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it.each<[string, RegExp]>([
    ['add retention', /must start with a type/],
    ['feat: no section', /must start with a type/],
    ['feature (§3): wrong type', /must start with a type/],
    ['Feat (§3): capital type', /must start with a type/],
    ['feat(§3): no space', /one space between the type and the \(section\)/],
    ['feat §3: no parentheses', /section in parentheses/],
    ['feat (): empty section', /section in parentheses/],
    ['feat (Spool): capital area', /section in parentheses/],
    ['feat (§3) missing colon', /a colon, one space and the message/],
    ['feat (§3):no space', /a colon, one space and the message/],
    ['feat (§3): ', /a colon, one space and the message/],
    [`feat (§3): ${'x'.repeat(100)}`, /keep it to 100/],
    ['feat (§3): subject\nbody right below', /blank line between the subject and the body/],
    ['', /empty commit message/],
    ['# only a comment\n', /empty commit message/],
  ])('rejects %j', async (message, reason) => {
    const r = await check(message);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(reason);
    expect(r.stderr).toContain('<type> (<section>): <message>');
    expect(r.stderr).toContain('CONTRIBUTING.md');
  });
});
