/**
 * The file spool's durability seam: every sync the spool makes goes through
 * this module, so what "on disk" means is said in one place, and a test can
 * watch or fail it there. A `250` is answered only after `data()` of the log
 * segment holding the message's record returned (io/segment-writer.ts); a
 * sync that throws answers `451` and its record is erased.
 *
 * Two faces of the same calls: `Syncer`, plain blocking calls for the I/O
 * threads (segments, placed files, spares, syncfs), and async functions for
 * the event loop (bodies spilled to tmp/, recovery, checkpoints).
 */
import { execFile, execFileSync } from 'node:child_process';
import { closeSync, fdatasyncSync, fsyncSync, openSync } from 'node:fs';
import { open, readdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/** The blocking syncs of the I/O threads. */
export interface Syncer {
  /** fdatasync(2): the bytes written through `fd`, and its size, are on disk. */
  data(fd: number): void;
  /** fsync(2) of a folder: the names made, renamed or removed in it are on disk. */
  folder(path: string): void;
  /** syncfs(2) of the file system holding `root` (coreutils `sync --file-system`); false where that is missing. */
  fileSystem(root: string): boolean;
}

export const diskSync: Syncer = {
  data: (fd) => fdatasyncSync(fd),
  folder: (path) => {
    const fd = openSync(path, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  },
  fileSystem: (root) => {
    try {
      execFileSync('sync', ['--file-system', root], { timeout: 120_000, stdio: 'ignore' }); // blocks this thread only
      return true;
    } catch {
      return false;
    }
  },
};

/** fdatasync(2) of an open handle (a body streamed to tmp/). */
export async function syncHandle(handle: FileHandle): Promise<void> {
  await handle.datasync();
}

/** fsync a file, or a directory so the names created, renamed or removed in it are durable. */
export async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export const fsyncDirectory = fsyncFile;

/**
 * Makes everything written under `root` durable with one syncfs(2) (coreutils
 * `sync --file-system`), used by checkpoints, which cover thousands of files at
 * once. Where that tool is missing, falls back to fsyncing each path given,
 * then `root` and every folder directly under it (new date folders, and names
 * removed from them, are in those directory entries).
 */
export async function syncFilesystem(
  root: string,
  paths: Iterable<string>,
  io: { syncfs: (root: string) => Promise<boolean>; fsync: (path: string) => Promise<void> } = {
    syncfs,
    fsync: fsyncFile,
  },
): Promise<void> {
  if (await io.syncfs(root)) return;
  const fsyncIfPresent = (path: string): Promise<void> =>
    io.fsync(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  for (const path of paths) await fsyncIfPresent(path);
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  for (const name of entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort())
    await fsyncIfPresent(join(root, name));
  await fsyncIfPresent(root);
}

function syncfs(root: string): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    execFile('sync', ['--file-system', root], { timeout: 120_000 }, (error) => resolve(error === null));
  });
}
