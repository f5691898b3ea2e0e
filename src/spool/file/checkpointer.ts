/**
 * Checkpoints of the file spool. Every change is durable in the write-ahead
 * log first; what it changed in the files (bodies placed, state files to be
 * written from memory) is tracked per log segment. A checkpoint seals the
 * current segment, waits for the log work still settling, writes the state
 * files of the messages the sealed segments changed, makes everything
 * durable with one file-system sync, and only then lets the segments go.
 *
 * In: `track` after every commit, `logging` around every log write.
 * Out: `checkpoint()` (on a timer and at close) and `settled()` for the
 * journal compaction.
 */
import { readdir } from 'node:fs/promises';
import type { MessageId } from '../../domain/envelope.js';
import type { DueFiles } from './due-files.js';
import type { DueIndex } from './due-index.js';
import { fsyncFile, syncFilesystem } from './io/sync.js';
import type { GroupCommitLog } from './group-commit-log.js';
import { segmentSeq, type SpoolPaths } from './paths.js';

/** State files written at a time during a checkpoint. */
const STATE_BATCH = 64;

/** What one segment's records changed in the files. */
interface Unsynced {
  /** Files placed, to be synced. */
  readonly paths: string[];
  /** Work still placing them. */
  readonly pending: Set<Promise<unknown>>;
  /** Messages whose state file is to be (re)written from memory. */
  readonly dirty: Set<MessageId>;
}

export interface CheckpointDeps {
  readonly paths: SpoolPaths;
  readonly wal: GroupCommitLog;
  readonly files: DueFiles;
  readonly index: DueIndex;
  /** Writes a message's state file from memory; its path, or undefined when nothing was to be written. */
  readonly writeState: (id: MessageId) => Promise<string | undefined>;
}

export class Checkpointer {
  private readonly unsynced = new Map<number, Unsynced>();
  /**
   * Log writes whose follow-up (tracking the segment, placing or removing
   * files, updating the index) is still running. A checkpoint waits for them
   * after sealing: a commit answered in the same batch as the rotation may not
   * be tracked yet, and the sealed segments are about to be dropped. A journal
   * compaction waits for them too.
   */
  private readonly inflight = new Set<Promise<void>>();
  private running: Promise<void> | undefined;

  constructor(private readonly deps: CheckpointDeps) {}

  /** Notes that segment `segment` changed message `dirty`, and files `work` places. */
  track(segment: number, work: Promise<string[]>, dirty: MessageId): void {
    let entry = this.unsynced.get(segment);
    if (!entry) {
      entry = { paths: [], pending: new Set(), dirty: new Set() };
      this.unsynced.set(segment, entry);
    }
    entry.dirty.add(dirty);
    const slot = entry;
    const done = work.then(
      (created) => void slot.paths.push(...created),
      () => undefined,
    );
    slot.pending.add(done);
    void done.then(() => slot.pending.delete(done));
  }

  /** Runs log work the next checkpoint (and journal compaction) must wait for. */
  logging<T>(work: () => Promise<T>): Promise<T> {
    const running = work();
    const settled = running.then(
      () => undefined,
      () => undefined,
    );
    this.inflight.add(settled);
    void settled.then(() => this.inflight.delete(settled));
    return running;
  }

  /** Resolves once the log work running now has settled. */
  settled(): Promise<void> {
    return Promise.all([...this.inflight]).then(() => undefined);
  }

  /** Rewrites the due journal from the index (start-up without one, or grown past twice the queue). */
  compactJournal(): Promise<void> {
    return this.deps.files.compact(this.deps.wal, this.deps.index, () => this.settled());
  }

  /**
   * Seals the current log segment, syncs what its records placed, drops it; rewrites the due journal when it has grown.
   */
  checkpoint(): Promise<void> {
    if (this.running) return this.running;
    const { wal, files, index } = this.deps;
    const compact = files.needsCompaction(index.size);
    if (wal.bytes === 0 && this.unsynced.size === 0 && !compact) return Promise.resolve();
    this.running = this.run()
      .then(() => (files.needsCompaction(index.size) ? this.compactJournal() : undefined))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  private async run(): Promise<void> {
    const { wal, files, paths } = this.deps;
    const sealed = await wal.rotate();
    if (sealed === wal.segment) return; // could not rotate; try again later
    await this.settled();
    const segments = [...this.unsynced.keys()].filter((s) => s <= sealed);
    const placed: string[] = [files.path];
    const dirty = new Set<MessageId>();
    for (const s of segments) {
      const entry = this.unsynced.get(s);
      if (!entry) continue;
      await Promise.all([...entry.pending]);
      placed.push(...entry.paths);
      for (const id of entry.dirty) dirty.add(id);
    }
    placed.push(...(await this.writeStates([...dirty])));
    await syncFilesystem(paths.root, placed, { syncfs: (root) => wal.syncfs(root), fsync: fsyncFile });
    const names = await readdir(paths.wal).catch(() => [] as string[]);
    await wal.recycle(names.map(segmentSeq).filter((s): s is number => s !== undefined && s <= sealed));
    for (const s of segments) this.unsynced.delete(s);
  }

  private async writeStates(ids: readonly MessageId[]): Promise<string[]> {
    const written: string[] = [];
    for (let i = 0; i < ids.length; i += STATE_BATCH) {
      const paths = await Promise.all(ids.slice(i, i + STATE_BATCH).map((id) => this.deps.writeState(id)));
      for (const path of paths) if (path) written.push(path);
    }
    return written;
  }
}
