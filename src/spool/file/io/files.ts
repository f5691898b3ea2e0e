/**
 * Synchronous file helpers for the I/O threads (they run plain blocking
 * calls on a thread of their own): whole writes, new files in folders made
 * on demand, quiet removal. Syncs are in sync.ts.
 */
import { closeSync, mkdirSync, openSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';

export function writeAll(fd: number, data: Uint8Array, position?: number): void {
  let offset = 0;
  while (offset < data.length) {
    const written = writeSync(
      fd,
      data,
      offset,
      data.length - offset,
      position === undefined ? null : position + offset,
    );
    if (written <= 0) throw new Error('short write');
    offset += written;
  }
}

/** Writes a whole file (`flags`: 'wx' new only, 'w' replace, 'a' append), 0600. */
export function writeFile(path: string, data: Uint8Array | string, flags: string): void {
  const fd = openSync(path, flags, 0o600);
  try {
    if (typeof data === 'string') writeFileSync(fd, data);
    else writeAll(fd, data);
  } finally {
    closeSync(fd);
  }
}

export function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

export function removeAll(paths: readonly string[]): void {
  for (const path of paths) {
    try {
      unlinkSync(path);
    } catch {
      // already gone
    }
  }
}

/** Folders known to exist; `inDir` makes one (again) when it is missing. */
export class Folders {
  private readonly known = new Set<string>();

  inDir<T>(dir: string, work: () => T): T {
    if (!this.known.has(dir)) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      this.known.add(dir);
    }
    try {
      return work();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      return work();
    }
  }
}
