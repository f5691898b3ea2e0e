/**
 * The write-ahead log's writer (commit thread): the current segment file,
 * and group commit of a batch of framed records with one positional write
 * and one fdatasync. Each frame's checksum is sealed here with the segment's
 * number, so bytes a reused file held before are never replayed.
 *
 * A new segment takes the largest spare (overwriting blocks the file has)
 * or a new file; a commit that would grow the segment past the blocks it has
 * moves on to a spare when one is ready. A failed write moves the log on to
 * a fresh segment: the partial bytes end the old one's replay. A failed sync
 * does too, after zeroing what the batch wrote: its callers were refused
 * (`451`), so no replay may bring their records back.
 */
import { closeSync, fstatSync, mkdirSync, openSync, renameSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { writeAll } from './files.js';
import type { SparePool } from './spare-pool.js';
import { diskSync, type Syncer } from './sync.js';

const FRAME_HEADER = 8;

export class SegmentWriter {
  private fd: number | undefined;
  /** The current segment's number; 0 until opened. */
  seq = 0;
  /** Bytes written to it. */
  size = 0;
  /** Bytes its file had when opened: writes past them extend it. */
  private capacity = 0;

  constructor(
    private readonly walDir: string,
    private readonly spares: SparePool,
    private readonly sync: Syncer = diskSync,
  ) {}

  get opened(): boolean {
    return this.seq !== 0;
  }

  /** Opens segment `seq`, or the one after every spare's number. */
  open(seq: number): void {
    this.start(Math.max(seq, ...this.spares.list().map((spare) => spare.seq + 1)));
  }

  /** Starts the next segment; returns the sealed one's number. */
  rotate(): number {
    if (!this.opened) throw new Error('write-ahead log is not open');
    const sealed = this.seq;
    this.start(this.seq + 1);
    return sealed;
  }

  /**
   * Writes the frames with one write and makes them durable with one
   * fdatasync. Returns whether the segment's file grew (no spare was ready).
   * Throws after moving on to a fresh segment when the write or the sync
   * fails (a failed sync's bytes zeroed first).
   */
  commit(frames: readonly Uint8Array[]): { grew: boolean } {
    if (!this.opened) throw new Error('write-ahead log is not open');
    const bytes = frames.reduce((sum, f) => sum + f.byteLength, 0);
    try {
      if (this.fd === undefined || (this.size + bytes > this.capacity && this.spares.ready(Date.now())))
        this.start(this.seq + 1);
      // a segment whose name was deleted under us would take writes no replay finds
      else if (fstatSync(this.fd).nlink === 0) this.start(this.seq + 1);
      for (const frame of frames) {
        const view = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
        view.writeUInt32LE(crc32(view.subarray(FRAME_HEADER), this.seq >>> 0), 4);
      }
      const data = frames.length === 1 ? (frames[0] as Uint8Array) : Buffer.concat(frames);
      writeAll(this.fd as number, data, this.size);
      this.syncOrErase(data.length);
      const grew = this.size + data.length > this.capacity;
      this.size += data.length;
      return { grew };
    } catch (error) {
      this.recover();
      throw error;
    }
  }

  /**
   * The sync that every acknowledgement waits for. When it fails, the
   * batch's bytes may be in the page cache (and reach the disk later) though
   * its callers are told it failed: they are overwritten with zeros, which
   * end a replay, and that is synced as far as the disk allows.
   */
  private syncOrErase(length: number): void {
    const fd = this.fd as number;
    try {
      this.sync.data(fd);
    } catch (error) {
      try {
        writeAll(fd, Buffer.alloc(length), this.size);
        this.sync.data(fd);
      } catch {
        // zeroed in the page cache at least; a replay on this boot reads those
      }
      throw error;
    }
  }

  close(): void {
    if (this.fd === undefined) return;
    try {
      closeSync(this.fd);
    } catch {
      // the segment is sealed either way
    }
    this.fd = undefined;
  }

  /** Opens segment `next`: the largest spare renamed, when there is one, else a new file. */
  private start(next: number): void {
    mkdirSync(this.walDir, { recursive: true, mode: 0o700 });
    let opened: number | undefined;
    let blocks = 0;
    const available = this.spares.bySize();
    for (let spare = available.pop(); spare && opened === undefined; spare = available.pop()) {
      try {
        renameSync(spare.path, this.spares.segmentPath(next));
        opened = openSync(this.spares.segmentPath(next), 'r+');
        blocks = fstatSync(opened).size;
      } catch {
        // gone (someone cleared the folder): try the next, or a new file
      }
    }
    const reused = opened !== undefined;
    opened ??= openSync(this.spares.segmentPath(next), 'w', 0o600);
    try {
      this.sync.folder(this.walDir);
    } catch (error) {
      closeSync(opened);
      throw error;
    }
    this.close();
    this.capacity = reused ? blocks : 0;
    this.fd = opened;
    this.seq = next;
    this.size = 0;
  }

  /** After a failed write: on to a fresh segment (retried by the next commit if that fails too). */
  private recover(): void {
    try {
      this.start(this.seq + 1);
    } catch {
      this.close();
    }
  }
}
