/**
 * The due journal on disk, under `<root>/due/`:
 *
 *   base-<g>.due   a snapshot of the due index (one `set` per waiting message)
 *   <h>.due        records appended since, h >= g, applied in order on top
 *
 * Start-up reads the newest base and the appended files after it (last
 * record per message wins), so it reads compact records of the waiting
 * messages only, never the state files of everything retained. Appends go
 * to a new file at every start, so a torn tail left by a crash is never
 * written after.
 *
 * Compaction keeps the files near the size of the queue: the commit thread
 * switches to a new file (ordered with commits), the index is snapshotted
 * once every commit asked for before the switch has settled, the snapshot is
 * written as the next base (synced, renamed), and older files go. A crash at
 * any point leaves a base and appended files that add up to the index.
 *
 * Appends are not synced by themselves: the checkpoint's file-system sync
 * makes them durable before the log segments holding the same changes are
 * dropped, and the log replay re-derives them otherwise.
 */
import { mkdir, open, readdir, unlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { eachRecord, encodeJournalRecord, type JournalRecord } from './due-journal.js';
import { DueIndex } from './due-index.js';

const BASE = /^base-(\d{12})\.due$/;
const APPENDED = /^(\d{12})\.due$/;
/** Snapshot parts handed to the background thread at a time. */
const PART_BYTES = 4 * 1024 * 1024;
/** Journal bytes read at a time at start-up. */
const READ_BYTES = 4 * 1024 * 1024;
/** A frame longer than this is garbage (a record holds an id, two times and a few domains). */
const MAX_FRAME = 1024 * 1024;
/** Below this many appended records a compaction is not worth it. */
const MIN_COMPACTION = 100_000;

const name = (n: number): string => String(n).padStart(12, '0');

export interface JournalWriter {
  /** Later commits append to `path` (ordered with commits). */
  useJournal(path: string): Promise<void>;
  /** Writes a file durably from its parts. */
  put(path: string, parts: Iterable<Buffer>): Promise<void>;
  unlink(paths: readonly string[]): Promise<void>;
}

export class DueFiles {
  private broken = false;

  private constructor(
    private readonly dir: string,
    /** Number of the file appends go to. */
    private current: number,
    /** Records in appended files since the base: what a compaction would save. */
    private appended: number,
    /** The files that hold the index (base and appended), for a compaction to remove. */
    private files: string[],
  ) {}

  /**
   * Loads the index from `dir`. `exists` is false when there was no journal
   * at all (a spool from before it existed, or one whose journal was
   * removed): the caller rebuilds the index from the state files.
   */
  static async load(dir: string): Promise<{ files: DueFiles; index: DueIndex; exists: boolean }> {
    const exists = await stat(dir).then(
      () => true,
      () => false,
    );
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const names = await readdir(dir);
    for (const n of names.filter((x) => x.endsWith('.tmp'))) await unlink(join(dir, n)).catch(() => undefined);
    const bases = names.flatMap((n) => numberOf(BASE, n));
    const base = bases.length > 0 ? Math.max(...bases) : -1;
    const appends = names
      .flatMap((n) => numberOf(APPENDED, n))
      .filter((h) => h >= base)
      .sort((a, b) => a - b);
    const index = new DueIndex();
    const files: string[] = [];
    if (base >= 0) {
      await applyFile(index, join(dir, `base-${name(base)}.due`));
      files.push(join(dir, `base-${name(base)}.due`));
    }
    let appended = 0;
    for (const h of appends) {
      appended += await applyFile(index, join(dir, `${name(h)}.due`));
      files.push(join(dir, `${name(h)}.due`));
    }
    const stale = names.filter((n) => [...numberOf(BASE, n), ...numberOf(APPENDED, n)].some((x) => x < base));
    for (const n of stale) await unlink(join(dir, n)).catch(() => undefined);
    const next = Math.max(base, ...appends) + 1;
    return { files: new DueFiles(dir, next, appended, files), index, exists };
  }

  /** The file appends go to now. */
  get path(): string {
    return join(this.dir, `${name(this.current)}.due`);
  }

  /** Counts records appended to the current file. */
  appendedRecords(count: number): void {
    this.appended += count;
  }

  /** An append failed: the files no longer add up to the index until the next compaction. */
  markBroken(): void {
    this.broken = true;
  }

  needsCompaction(live: number): boolean {
    return this.broken || this.appended > Math.max(MIN_COMPACTION, 2 * live);
  }

  /**
   * Rewrites the journal from memory. `settled` resolves once every commit
   * asked for before the switch has been applied to `index`.
   */
  async compact(writer: JournalWriter, index: DueIndex, settled: () => Promise<void>): Promise<void> {
    const previous = [...this.files, this.path];
    const next = this.current + 1;
    this.broken = false;
    await writer.useJournal(join(this.dir, `${name(next)}.due`));
    this.current = next;
    this.appended = 0;
    await settled();
    const base = join(this.dir, `base-${name(next)}.due`);
    try {
      await writer.put(base, snapshotParts(index));
    } catch (error) {
      this.broken = true;
      this.files = [...previous, this.path];
      throw error;
    }
    this.files = [base, this.path];
    await writer.unlink(previous);
  }
}

function numberOf(pattern: RegExp, fileName: string): number[] {
  const match = pattern.exec(fileName);
  return match?.[1] === undefined ? [] : [Number(match[1])];
}

/**
 * Applies a journal file to the index a few MiB at a time (a million
 * records are never all in memory at once); returns how many it applied.
 * A torn or corrupt frame ends the file.
 */
async function applyFile(index: DueIndex, path: string): Promise<number> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch {
    return 0;
  }
  let applied = 0;
  try {
    let carry = Buffer.alloc(0);
    for (;;) {
      const chunk = Buffer.allocUnsafe(READ_BYTES);
      const { bytesRead } = await handle.read(chunk, 0, READ_BYTES, null);
      const data =
        carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
      const used = eachRecord(data, (record) => {
        if (record.kind === 'set') index.set(record.entry);
        else index.drop(record.id);
        applied += 1;
      });
      carry = Buffer.from(data.subarray(used));
      // the end of the file, or a frame that can never complete: stop
      if (bytesRead === 0 || (used === 0 && carry.length > MAX_FRAME)) break;
    }
  } finally {
    await handle.close();
  }
  return applied;
}

export function applyRecords(index: DueIndex, records: Iterable<JournalRecord>): void {
  for (const record of records) {
    if (record.kind === 'set') index.set(record.entry);
    else index.drop(record.id);
  }
}

/** The index as `set` records, a few MiB at a time. */
function* snapshotParts(index: DueIndex): Generator<Buffer> {
  let parts: Buffer[] = [];
  let bytes = 0;
  for (const entry of index.entries()) {
    const record = encodeJournalRecord({ kind: 'set', entry });
    parts.push(record);
    bytes += record.length;
    if (bytes >= PART_BYTES) {
      yield Buffer.concat(parts, bytes);
      parts = [];
      bytes = 0;
    }
  }
  yield Buffer.concat(parts, bytes);
}
