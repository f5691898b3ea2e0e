import { link, mkdir, rename, rmdir, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { MessageRecord } from '../../domain/envelope.js';
import type { SpoolPaths } from './paths.js';

/**
 * Puts a committed message's large body in place (renamed from tmp/, hard
 * links for the other recipients), writes state files during replay, and
 * removes messages. Small bodies and checkpoint state files are written by
 * the log's I/O threads instead (see io/worker.ts). Nothing here is fsynced:
 * the write-ahead log already made the message durable, and the next
 * checkpoint syncs these files.
 */
export class Materializer {
  private readonly knownDirs = new Set<string>();

  constructor(private readonly paths: SpoolPaths) {}

  async ensureDir(dir: string): Promise<void> {
    if (this.knownDirs.has(dir)) return;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    this.knownDirs.add(dir);
  }

  /** Moves `tmpBody` into place and links the other recipients' names; returns every path it created. */
  place(record: MessageRecord, tmpBody: string): Promise<string[]> {
    return this.putBody(record, (first) => rename(tmpBody, first));
  }

  /** Creates the first recipient's name with `create`, then hard links for the others. */
  private async putBody(record: MessageRecord, create: (first: string) => Promise<void>): Promise<string[]> {
    const { id, envelope } = record;
    const names = envelope.recipients.map((r) => this.paths.bodyFile(id, envelope.receivedAt, r));
    const first = names[0];
    if (first === undefined) throw new Error('message without recipients');
    await this.inDir(dirname(first), () => create(first));
    for (const name of names.slice(1)) await linkOnce(first, name);
    return [...names, dirname(first)];
  }

  /** Runs `work` in `dir`, making the folder again once if it was swept as empty since it was cached. */
  private async inDir(dir: string, work: () => Promise<void>): Promise<void> {
    await this.ensureDir(dir);
    try {
      await work();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      this.knownDirs.delete(dir);
      await this.ensureDir(dir);
      await work();
    }
  }

  /**
   * Writes the state file in place. No temporary name: state files are only
   * written by checkpoints, before the log segments that hold the same state
   * are dropped, so a torn file after a crash is rewritten by the replay.
   */
  async writeState(record: MessageRecord): Promise<string> {
    const state = this.paths.stateFile(record.id, record.envelope.receivedAt);
    const json = JSON.stringify(record);
    await this.inDir(dirname(state), () => writeFile(state, json, { mode: 0o600 }));
    return state;
  }

  /** Removes every file of a message, then its date folder if it became empty. */
  async remove(id: string, receivedAt: number, recipients: readonly string[]): Promise<void> {
    for (const r of recipients) await unlinkIfPresent(this.paths.bodyFile(id, receivedAt, r));
    await unlinkIfPresent(this.paths.stateFile(id, receivedAt));
    const dir = this.paths.dateDir(receivedAt);
    try {
      await rmdir(dir);
      this.knownDirs.delete(dir);
    } catch {
      // not empty (other messages) or already gone
    }
  }
}

export async function linkOnce(existing: string, name: string): Promise<void> {
  try {
    await link(existing, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

export async function unlinkIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
