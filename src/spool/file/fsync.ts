import { execFile } from 'node:child_process';
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';

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
