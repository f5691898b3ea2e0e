/**
 * Creating the spool directory and any missing parents, one level at a time.
 *
 * Owns: the start-up `mkdir -p` of the spool root.
 * In:   a path and a mode. Out: the directory exists, or the error of the
 *       level that could not be made (ENOTDIR, EACCES, ENOENT …).
 *
 * Why not `mkdir(path, { recursive: true })`: where a file system refuses to
 * make a name with ENOENT although its parent exists (`/proc`, `/sys`),
 * Node's recursive mkdir retries forever and start-up hangs at full CPU
 * (Node 20 and 22). Going level by level turns that into an error.
 */
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

function codeOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** Makes `path` unless it is there; an existing name that is not a directory fails with ENOTDIR. */
async function makeOne(path: string, mode: number): Promise<'made' | 'exists' | 'no-parent'> {
  try {
    await mkdir(path, { mode });
    return 'made';
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return 'no-parent';
    if (codeOf(error) !== 'EEXIST') throw error;
    if ((await stat(path)).isDirectory()) return 'exists';
    throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${path}'`), { code: 'ENOTDIR', path });
  }
}

export async function makeDirs(path: string, mode: number): Promise<void> {
  if ((await makeOne(path, mode)) !== 'no-parent') return;
  const parent = dirname(path);
  if (parent === path) throw Object.assign(new Error(`ENOENT: cannot make '${path}'`), { code: 'ENOENT', path });
  await makeDirs(parent, mode);
  // the parent is there now: a second ENOENT means this file system will not make the name
  if ((await makeOne(path, mode)) === 'no-parent') {
    throw Object.assign(new Error(`ENOENT: the file system refuses to make '${path}'`), { code: 'ENOENT', path });
  }
}
