import { execFile } from 'node:child_process';
import { open } from 'node:fs/promises';

/** fsync a directory so the names created, renamed or removed in it are durable. */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Makes everything written under `root` durable with one syncfs(2) (coreutils
 * `sync --file-system`), used by checkpoints, which cover thousands of files at
 * once. Where that tool is missing, falls back to fsyncing each path given.
 */
export async function syncFilesystem(root: string, paths: Iterable<string>): Promise<void> {
  const viaSyncfs = await new Promise<boolean>((resolve) => {
    execFile('sync', ['--file-system', root], { timeout: 120_000 }, (error) => resolve(error === null));
  });
  if (viaSyncfs) return;
  for (const path of paths) {
    await fsyncFile(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }
}
