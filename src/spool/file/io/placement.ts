/**
 * Message files the I/O threads write: a small body at its final names (one
 * new 0600 file, hard links for the other recipients; all or nothing), state
 * files in place, and whole files through a synced temporary name (journal
 * snapshots). Nothing here is synced unless said: the log holds what these
 * files hold until a checkpoint syncs them.
 */
import { dirname } from 'node:path';
import { closeSync, linkSync, openSync, renameSync } from 'node:fs';
import { Folders, removeAll, writeFile } from './files.js';
import { diskSync, type Syncer } from './sync.js';

export class Placement {
  private readonly folders = new Folders();

  constructor(private readonly sync: Syncer = diskSync) {}

  /** Writes `body` to `names[0]` and links the others; returns the names made. Leaves nothing on failure. */
  placeBody(body: Uint8Array, names: readonly string[]): string[] {
    const [first, ...others] = names;
    if (first === undefined) throw new Error('message without recipients');
    const created: string[] = [];
    try {
      this.folders.inDir(dirname(first), () => writeFile(first, body, 'wx'));
      created.push(first);
      for (const name of others) {
        try {
          linkSync(first, name);
          created.push(name);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        }
      }
      return created;
    } catch (error) {
      removeAll(created);
      throw error;
    }
  }

  writeState(path: string, json: string): string {
    this.folders.inDir(dirname(path), () => writeFile(path, json, 'w'));
    return path;
  }

  /** One part of a file written through `<path>.tmp`; the last part syncs it and renames it into place. */
  putPart(path: string, data: Uint8Array, continued: boolean, more: boolean): string {
    const temporary = `${path}.tmp`;
    this.folders.inDir(dirname(path), () => writeFile(temporary, data, continued ? 'a' : 'w'));
    if (more) return path;
    const fd = openSync(temporary, 'r');
    try {
      this.sync.data(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
    this.sync.folder(dirname(path));
    return path;
  }
}
