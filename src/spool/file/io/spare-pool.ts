/**
 * Spare log segments: files kept for reuse, so a new segment overwrites
 * blocks a file already has and its fdatasync needs no file-system journal
 * commit. Spares are named after the last number they had as segments
 * (`spare-<seq>.wal`; zero-filled ones made here carry 0 and a tag), so a
 * new segment's number is always above all of them. The folder is read each
 * time (rotations are seconds apart): the commit thread takes spares and the
 * background thread makes and recycles them with no other coordination.
 */
import { closeSync, openSync, readdirSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { sizeOf, writeAll } from './files.js';
import { diskSync, type Syncer } from './sync.js';

/** Zero-filled spares made (at start-up, and while the log is busy), and what a quiet log keeps. */
const MADE_SPARES = 2;
export const SPARE_BYTES = 16 * 1024 * 1024;
/**
 * Sealed segments kept for reuse: a log written at 80 MB/s (100 KiB
 * messages) fills many segments between two checkpoints, and every one kept
 * is one the log need not grow a new file for.
 */
const KEPT_SPARES = 8;
const KEPT_SPARE_BYTES = 128 * 1024 * 1024;
/** How often a commit that would grow its segment looks for a spare to move on to. */
const LOOK_MS = 200;

export interface Spare {
  readonly path: string;
  readonly seq: number;
}

export const segmentName = (seq: number): string => `${String(seq).padStart(12, '0')}.wal`;

export class SparePool {
  private nextLook = 0;

  constructor(
    private readonly walDir: string,
    private readonly sync: Syncer = diskSync,
  ) {}

  segmentPath(seq: number): string {
    return join(this.walDir, segmentName(seq));
  }

  list(): Spare[] {
    const found: Spare[] = [];
    let names: string[];
    try {
      names = readdirSync(this.walDir);
    } catch {
      return found; // the folder was removed under us: it is made again before the next segment
    }
    for (const name of names) {
      const match = /^spare-(\d{12})(-[\w-]+)?\.wal$/.exec(name);
      if (match) found.push({ path: join(this.walDir, name), seq: Number(match[1]) });
    }
    return found;
  }

  /** Spares with their sizes, smallest first. */
  bySize(): (Spare & { readonly bytes: number })[] {
    return this.list()
      .map((spare) => ({ ...spare, bytes: sizeOf(spare.path) }))
      .sort((x, y) => x.bytes - y.bytes);
  }

  /** Is a spare ready for a commit that would grow its segment? (looked at five times a second) */
  ready(now: number): boolean {
    if (now < this.nextLook) return false;
    this.nextLook = now + LOOK_MS;
    return this.list().length > 0;
  }

  /**
   * Sealed segments a checkpoint is done with, oldest first, each name
   * change synced before the next: a crash part way leaves only newer
   * segments, and replaying a newer segment alone is safe (an older one
   * alone could bring back what a newer one deleted).
   */
  recycle(seqs: readonly number[]): void {
    const present = this.bySize();
    let kept = present.length;
    let keptBytes = present.reduce((sum, spare) => sum + spare.bytes, 0);
    for (const old of [...seqs].sort((a, b) => a - b)) {
      const path = this.segmentPath(old);
      try {
        const bytes = sizeOf(path);
        if (kept < KEPT_SPARES && keptBytes + bytes <= KEPT_SPARE_BYTES) {
          renameSync(path, join(this.walDir, `spare-${String(old).padStart(12, '0')}.wal`));
          kept += 1;
          keptBytes += bytes;
        } else {
          unlinkSync(path);
        }
      } catch {
        continue; // already gone
      }
      this.sync.folder(this.walDir); // a failure stops here: no newer segment goes before this one is durably gone
    }
  }

  /** A quiet log keeps only the two largest spares. */
  trim(): void {
    const extra = this.bySize().slice(0, -MADE_SPARES);
    for (const spare of extra) rmSync(spare.path, { force: true });
    if (extra.length > 0) this.sync.folder(this.walDir);
  }

  /** Makes zero-filled spares until there are two. */
  prepare(bytes = SPARE_BYTES): void {
    for (const name of readdirSync(this.walDir)) if (name.startsWith('prepare-')) unlinkSync(join(this.walDir, name));
    const zeros = Buffer.alloc(Math.min(bytes, 1 << 20));
    for (let missing = MADE_SPARES - this.list().length; missing > 0; missing--) {
      const tag = `-${process.pid}-${Date.now()}-${missing}`;
      const temporary = join(this.walDir, `prepare${tag}.tmp`);
      const fd = openSync(temporary, 'w', 0o600);
      try {
        for (let written = 0; written < bytes; written += zeros.length) writeAll(fd, zeros);
        this.sync.data(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temporary, join(this.walDir, `spare-000000000000${tag}.wal`));
    }
    this.sync.folder(this.walDir);
  }
}
