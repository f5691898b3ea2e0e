import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeDirs } from '../../src/spool/file/make-dirs.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gp-mkdirs-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('makeDirs (§4)', () => {
  it('makes missing parents with the mode, and leaves an existing directory alone', async () => {
    const path = join(dir, 'a', 'b', 'spool');
    await makeDirs(path, 0o700);
    expect((await stat(path)).isDirectory()).toBe(true);
    expect((await stat(path)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, 'a'))).mode & 0o777).toBe(0o700);
    await expect(makeDirs(path, 0o700)).resolves.toBeUndefined();
  });

  it('fails with ENOTDIR when a level is a file', async () => {
    await writeFile(join(dir, 'file'), 'x');
    await expect(makeDirs(join(dir, 'file', 'spool'), 0o700)).rejects.toMatchObject({ code: 'ENOTDIR' });
    await expect(makeDirs(join(dir, 'file'), 0o700)).rejects.toMatchObject({ code: 'ENOTDIR' });
  });

  it('fails with ENOENT, instead of retrying forever, where the file system will not make the name (/proc)', async () => {
    await expect(makeDirs('/proc/gopherpost-test/spool', 0o700)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
