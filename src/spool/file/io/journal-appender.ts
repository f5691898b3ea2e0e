/**
 * The due journal's open file (commit thread): records are appended right
 * after the log write that holds the same change is synced, in the same
 * batch. Not synced by itself: checkpoints sync the file system before the
 * log segments go, and a replay re-derives what did not reach the disk.
 */
import { closeSync, openSync } from 'node:fs';
import { writeAll } from './files.js';

export class JournalAppender {
  private fd: number | undefined;

  /** Later appends go to `path` (made if missing). */
  use(path: string): void {
    const next = openSync(path, 'a', 0o600);
    this.close();
    this.fd = next;
  }

  /** Appends the parts; false when there is no journal open or the write failed. */
  append(parts: readonly Uint8Array[]): boolean {
    if (parts.length === 0) return true;
    if (this.fd === undefined) return false;
    try {
      writeAll(this.fd, parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts));
      return true;
    } catch {
      return false;
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
