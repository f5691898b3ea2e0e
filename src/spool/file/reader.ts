/**
 * Reads spool files on an I/O thread of their own: the state files of
 * messages being claimed and the bodies of small messages being delivered.
 * The event loop pays one message to the thread per turn instead of the four
 * thread-pool round trips (open, stat, read, close) of each `readFile`.
 */
import { IoThread } from './io-thread.js';

export class SpoolReader {
  private readonly thread: IoThread;

  constructor(walDir: string) {
    // started by the first read (the first claim): a daemon that only stores never pays for the thread's ~10 MiB
    this.thread = new IoThread(walDir, 'read');
  }

  /** The whole file, or undefined when it does not exist. */
  async read(path: string): Promise<Buffer | undefined> {
    const data = (await this.thread.request({ kind: 'read', path })) as Uint8Array | null;
    return data === null ? undefined : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  }

  close(): Promise<void> {
    return this.thread.close();
  }
}
