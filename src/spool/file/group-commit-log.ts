import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { fsyncDirectory } from './fsync.js';

interface Pending {
  readonly parts: readonly Buffer[];
  readonly resolve: (segment: number) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * An append-only log with group commit: every append that arrives while a
 * write+fdatasync is in flight joins the next batch, so one sync makes many
 * records durable. `append` resolves with the segment number once its record
 * is on disk. Segments are rotated on request (checkpointing); a failed write
 * is truncated away (or the segment abandoned) so later records stay readable.
 */
export class GroupCommitLog {
  private queue: Pending[] = [];
  private rotations: ((sealed: number) => void)[] = [];
  private running = false;
  private closed = false;

  private constructor(
    private readonly segmentPath: (seq: number) => string,
    private readonly dir: string,
    private handle: FileHandle,
    private seq: number,
    private size: number,
  ) {}

  static async open(dir: string, segmentPath: (seq: number) => string, seq: number): Promise<GroupCommitLog> {
    const handle = await open(segmentPath(seq), 'a', 0o600);
    await fsyncDirectory(dir);
    const { size } = await handle.stat();
    return new GroupCommitLog(segmentPath, dir, handle, seq, size);
  }

  get segment(): number {
    return this.seq;
  }

  get bytes(): number {
    return this.size;
  }

  append(parts: readonly Buffer[]): Promise<number> {
    if (this.closed) return Promise.reject(new Error('write-ahead log is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ parts, resolve, reject });
      this.kick();
    });
  }

  /** Starts a new segment; resolves with the number of the sealed one. */
  rotate(): Promise<number> {
    return new Promise((resolve) => {
      this.rotations.push(resolve);
      this.kick();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.running) await new Promise((resolve) => setImmediate(resolve));
    await this.handle.close();
  }

  private kick(): void {
    if (this.running) return;
    this.running = true;
    void this.loop();
  }

  private async loop(): Promise<void> {
    while (this.queue.length > 0 || this.rotations.length > 0) {
      if (this.rotations.length > 0) {
        const waiters = this.rotations.splice(0);
        const sealed = await this.startSegment(this.seq + 1).then(
          () => this.seq - 1,
          () => this.seq, // could not open a new segment: nothing sealed, keep appending
        );
        for (const resolve of waiters) resolve(sealed);
        continue;
      }
      const batch = this.queue.splice(0);
      try {
        await this.ensureLinked();
        await this.writeAll(batch.flatMap((p) => p.parts));
        await this.handle.datasync();
        for (const p of batch) p.resolve(this.seq);
      } catch (error) {
        await this.recover();
        for (const p of batch) p.reject(error);
      }
    }
    this.running = false;
  }

  private async writeAll(parts: Buffer[]): Promise<void> {
    let total = 0;
    for (const part of parts) total += part.length;
    let written = 0;
    while (written < total) {
      const rest = written === 0 ? parts : sliceParts(parts, written);
      const { bytesWritten } = await this.handle.writev(rest);
      if (bytesWritten <= 0) throw new Error('short write to write-ahead log');
      written += bytesWritten;
      this.size += bytesWritten;
    }
  }

  /**
   * A segment whose name was deleted under us (someone wiped the spool folder)
   * would take writes that no replay can find: start a fresh, linked one first.
   */
  private async ensureLinked(): Promise<void> {
    const { nlink } = await this.handle.stat();
    if (nlink === 0) await this.startSegment(this.seq + 1);
  }

  /** After a failed batch: cut the partial bytes off, or move to a fresh segment. */
  private async recover(): Promise<void> {
    try {
      const { size } = await this.handle.stat();
      const intact = Math.min(size, this.size);
      await this.handle.truncate(intact);
      await this.handle.datasync();
      this.size = intact;
    } catch {
      await this.startSegment(this.seq + 1).catch(() => undefined);
    }
  }

  private async startSegment(seq: number): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const handle = await open(this.segmentPath(seq), 'a', 0o600);
    await fsyncDirectory(this.dir);
    await this.handle.close().catch(() => undefined);
    this.handle = handle;
    this.seq = seq;
    this.size = 0;
  }
}

function sliceParts(parts: readonly Buffer[], skip: number): Buffer[] {
  const out: Buffer[] = [];
  let offset = skip;
  for (const part of parts) {
    if (offset >= part.length) {
      offset -= part.length;
      continue;
    }
    out.push(offset > 0 ? part.subarray(offset) : part);
    offset = 0;
  }
  return out;
}
