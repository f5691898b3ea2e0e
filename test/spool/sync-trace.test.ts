/**
 * The durability seam (src/spool/file/io/sync.ts) seen from the kernel: this
 * test process under strace(1) while it calls each sync, so a sync that no
 * longer reaches the disk fails here, in the process (the page cache hides a
 * missing sync from everything else). Skipped, with the reason in its name,
 * where strace cannot attach.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { diskSync, fsyncFile, syncFilesystem, syncHandle } from '../../src/spool/file/io/sync.js';
import { attachStrace, readTrace, straceUnavailable, type Syscall } from '../helpers/strace.js';

const unavailable = straceUnavailable();
const named = (title: string): string => (unavailable ? `${title} (SKIPPED: ${unavailable})` : title);

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gp-sync-trace-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The sync calls (and the syncfs of `sync --file-system`, a child) made while `work` ran. */
async function traced(work: () => Promise<void> | void): Promise<Syscall[]> {
  const output = join(dir, 'trace');
  const tracer = await attachStrace(process.pid, output, ['-e', 'trace=fdatasync,fsync,syncfs']);
  try {
    await work();
  } finally {
    await tracer.detach();
  }
  return (await readTrace(output)).filter((c) => c.result === '0');
}

const on = (calls: Syscall[], name: string, path: string): boolean =>
  calls.some((c) => c.name === name && c.args.startsWith(`${/^\d+/.exec(c.args)?.[0] ?? ''}<${path}>`));

describe.skipIf(unavailable !== undefined)('the durability seam under strace (§4)', () => {
  it(named('data() is an fdatasync of the file, folder() an fsync of the folder'), async () => {
    const file = join(dir, 'segment.wal');
    const fd = openSync(file, 'w');
    writeSync(fd, 'record');
    const calls = await traced(() => {
      diskSync.data(fd);
      diskSync.folder(dir);
    });
    closeSync(fd);
    expect(on(calls, 'fdatasync', file)).toBe(true);
    expect(on(calls, 'fsync', dir)).toBe(true);
  });

  it(named('fileSystem() is a syncfs of the file system holding the root'), async () => {
    let done = false;
    const calls = await traced(() => {
      done = diskSync.fileSystem(dir);
    });
    expect(done).toBe(true);
    expect(calls.some((c) => c.name === 'syncfs')).toBe(true);
  });

  it(named('a spilled body, a file and a folder are synced by the event loop’s calls'), async () => {
    const body = join(dir, 'body.eml');
    const handle = await open(body, 'w');
    await handle.write('body');
    await mkdir(join(dir, '2026-12-07'));
    const calls = await traced(async () => {
      await syncHandle(handle);
      await fsyncFile(body);
      await fsyncFile(join(dir, '2026-12-07'));
    });
    await handle.close();
    expect(on(calls, 'fdatasync', body)).toBe(true);
    expect(on(calls, 'fsync', body)).toBe(true);
    expect(on(calls, 'fsync', join(dir, '2026-12-07'))).toBe(true);
  });

  it(named('a checkpoint syncs the file system with one syncfs'), async () => {
    await writeFile(join(dir, 'state.json'), '{}');
    const calls = await traced(() => syncFilesystem(dir, [join(dir, 'state.json')]));
    expect(calls.filter((c) => c.name === 'syncfs')).toHaveLength(1);
    expect(calls.filter((c) => c.name === 'fsync')).toEqual([]);
  });
});

describe('the checkpoint fallback without syncfs', () => {
  it('fails on a path that cannot be synced for another reason than being gone, and syncs no plain file as a folder', async () => {
    await writeFile(join(dir, 'plain'), 'x');
    await mkdir(join(dir, 'folder'));
    const synced: string[] = [];
    const io = {
      syncfs: () => Promise.resolve(false),
      fsync: async (path: string) => {
        await fsyncFile(path);
        synced.push(path.slice(dir.length) || '/');
      },
    };
    await syncFilesystem(dir, [], io);
    expect(synced).toEqual(['/folder', '/']);
    await expect(syncFilesystem(dir, [join(dir, 'plain', 'under-a-file')], io)).rejects.toMatchObject({
      code: 'ENOTDIR',
    });
  });
});
