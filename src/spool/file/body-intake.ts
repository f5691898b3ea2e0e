/**
 * Receiving a message body for the file spool: held in memory while it is
 * small and the shared budget allows (it then travels inside its log
 * record), else streamed to a file in tmp/ that is fsynced before the
 * message is committed.
 *
 * In: the body's chunks. Out: the size and either the chunks (their bytes
 * stay reserved against the budget until `release`) or nothing (the body is
 * in the tmp file).
 */
import { mkdir, open, unlink, type FileHandle } from 'node:fs/promises';
import { fsyncDirectory, syncHandle } from './io/sync.js';
import { SpoolError } from '../spool.js';
import { isFsError, storageError } from '../storage-error.js';

export interface Received {
  readonly size: number;
  /** The body in memory; absent when it was written to the tmp file. */
  readonly inline?: Buffer[];
}

export class BodyIntake {
  private inUse = 0;

  constructor(
    private readonly tmpDir: string,
    /** Bodies up to this size stay in memory. */
    private readonly inlineLimit: number,
    /** Total bytes of bodies held in memory at once, across sessions. */
    private readonly inlineBudget: number,
  ) {}

  /** Reads the body: in memory while small, else streamed to an fsynced `tmpBody`. */
  async receive(tmpBody: string, body: AsyncIterable<Buffer>): Promise<Received> {
    const chunks: Buffer[] = [];
    let size = 0;
    let reserved = 0;
    let file: FileHandle | undefined;
    try {
      for await (const chunk of body) {
        size += chunk.length;
        if (file) {
          await writeFully(file, chunk);
          continue;
        }
        chunks.push(chunk);
        reserved += chunk.length;
        this.inUse += chunk.length;
        if (size > this.inlineLimit || this.inUse > this.inlineBudget) {
          file = await this.openTmp(tmpBody).catch((error: unknown) => {
            throw storageError(error);
          });
          for (const c of chunks) await writeFully(file, c);
          chunks.length = 0;
          this.inUse -= reserved;
          reserved = 0;
        }
      }
      if (!file) return { size, inline: chunks }; // still reserved: released once committed
      await syncHandle(file);
      await file.close();
      file = undefined;
      await fsyncDirectory(this.tmpDir);
      return { size };
    } catch (error) {
      this.inUse -= reserved;
      await file?.close().catch(() => undefined);
      await discard(tmpBody);
      throw error instanceof SpoolError || !isFsError(error) ? error : storageError(error);
    }
  }

  /** An inline body of `size` bytes has been committed (or refused): its bytes leave the budget. */
  release(size: number): void {
    this.inUse = Math.max(0, this.inUse - size);
  }

  /** Opens a file in tmp/, making tmp/ again if it was removed under us. */
  private async openTmp(path: string): Promise<FileHandle> {
    try {
      return await open(path, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      await mkdir(this.tmpDir, { recursive: true, mode: 0o700 });
      return open(path, 'wx', 0o600);
    }
  }
}

/** Removes files, ignoring the ones already gone. */
export async function discard(...files: string[]): Promise<void> {
  for (const f of files) await unlink(f).catch(() => undefined);
}

/** One buffer as a stream of one chunk. */
export function oneChunk(body: Buffer): AsyncIterable<Buffer> {
  return {
    [Symbol.asyncIterator]: () => {
      let done = false;
      return {
        next: () =>
          Promise.resolve(done ? { done: true, value: undefined } : ((done = true), { done: false, value: body })),
      };
    },
  };
}

async function writeFully(file: FileHandle, chunk: Buffer): Promise<void> {
  let offset = 0;
  while (offset < chunk.length) {
    const { bytesWritten } = await file.write(chunk, offset, chunk.length - offset);
    offset += bytesWritten;
  }
}
