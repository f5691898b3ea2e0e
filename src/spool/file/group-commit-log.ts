import { IoThread } from './io-thread.js';
import type { Committed, Opened } from './io/protocol.js';
import { spareAction } from './spare-policy.js';

/**
 * An append-only log with group commit, written by the spool's I/O thread:
 * every append that arrives while a write+fdatasync is in flight joins the
 * next batch, so one sync makes many records durable. `append` resolves with
 * the segment number once its record is on disk. Segments are rotated on
 * request (checkpointing) and reused once a checkpoint is done with them; a
 * failed write abandons its segment, so later records stay readable. Small
 * message bodies are placed by the same thread in the same batch as their
 * record (`commitMessage`). If the thread dies, waiting calls fail and the
 * next one starts a new thread on a fresh segment.
 */
export class GroupCommitLog {
  private seq: number;
  private size = 0;
  private closed = false;
  private opened = 0;
  private opening: Promise<void> | undefined;
  /**
   * Spare segments: made at start-up and whenever a commit finds none (`preallocate`), and looked after once a second.
   */
  private eager = false;
  private prepared: Promise<void> = Promise.resolve();
  private lastAsked = 0;
  private watcher: NodeJS.Timeout | undefined;
  /** Frame bytes committed, and as of the last look. */
  private written = 0;
  private writtenAtLook = 0;
  private quietLooks = 0;
  /** The due journal commits append to (re-opened by a new I/O thread). */
  private journal: string | undefined;

  private constructor(
    private readonly io: IoThread,
    /** Checkpoints' state files: a thread of their own, so they never delay a commit. */
    private readonly background: IoThread,
    seq: number,
  ) {
    this.seq = seq;
  }

  /**
   * `threads` are made here unless given (tests hand in threads they can stop).
   * With `preallocate`, the background thread makes zero-filled spare segments
   * right away (not only once the log is busy), and again whenever a commit
   * finds none ready, so the first busy seconds after start-up (or after the
   * folder was wiped) already overwrite blocks the files have; until they are
   * ready the log appends to a new file as usual. Either way, once a second
   * the log is looked at (`spareAction`): a busy one gets spares made, one
   * quiet for ten looks gives back all but two. `lookMs` shortens that in tests.
   */
  static async open(
    dir: string,
    seq: number,
    options: { threads?: { commit: IoThread; background: IoThread }; preallocate?: boolean; lookMs?: number } = {},
  ): Promise<GroupCommitLog> {
    const { threads } = options;
    const log = new GroupCommitLog(
      threads?.commit ?? new IoThread(dir, 'commit'),
      threads?.background ?? new IoThread(dir, 'background'),
      seq,
    );
    await log.reopen(seq);
    log.watcher = setInterval(() => log.look(), options.lookMs ?? 1000);
    log.watcher.unref();
    if (options.preallocate) {
      log.eager = true;
      log.prepared = log.spares('prepare');
    }
    return log;
  }

  /** Settles once start-up's spare segments are made (or could not be: the log works without them). */
  get preparing(): Promise<void> {
    return this.prepared;
  }

  get segment(): number {
    return this.seq;
  }

  get bytes(): number {
    return this.size;
  }

  /**
   * Appends one framed record; resolves once it is on disk. `due` (due-journal
   * records) is appended to the journal right after the record is synced.
   */
  async append(frame: Buffer, due?: Buffer): Promise<Committed> {
    return this.call(due ? { kind: 'record', frame, due } : { kind: 'record', frame });
  }

  /**
   * Logs `frame` (which holds a small body from `bodyAt` on), then writes the
   * body to `names[0]` as a new 0600 file and hard-links the other names.
   * Resolves once the record is durable, with the names created; `unplaced`
   * says the body could not be written after its record was logged (the
   * caller takes the record back). `frame` is handed over: do not reuse it.
   */
  async commitMessage(
    frame: Buffer,
    bodyAt: number,
    names: readonly string[],
    due?: Buffer,
  ): Promise<Committed & { placed: readonly string[] }> {
    const done = await this.call(
      due ? { kind: 'message', frame, bodyAt, names, due } : { kind: 'message', frame, bodyAt, names },
    );
    return { ...done, placed: done.placed ?? [] };
  }

  /**
   * Due-journal records of later commits go to `path` (appended; made if
   * missing). Ordered with commits: what was asked before goes to the previous
   * file. Asked again of a new I/O thread.
   */
  async useJournal(path: string): Promise<void> {
    this.journal = path;
    await this.ready();
    await this.io.request({ kind: 'journal', path });
  }

  /**
   * Writes a file durably from its parts (temporary name, sync, rename,
   * folder sync) on the background thread, one part in memory at a time.
   */
  async put(path: string, parts: Iterable<Buffer>): Promise<void> {
    let previous: Buffer | undefined;
    let continued = false;
    for (const part of parts) {
      if (previous) {
        await this.background.request({ kind: 'put', path, data: previous, continued, more: true }, movable(previous));
        continued = true;
      }
      previous = part;
    }
    const last = previous ?? Buffer.alloc(0);
    await this.background.request({ kind: 'put', path, data: last, continued }, movable(last));
  }

  /** Removes files on the background thread. */
  async unlink(paths: readonly string[]): Promise<void> {
    await this.background.request({ kind: 'unlink', paths });
  }

  /** Writes a state file in place (checkpoints). */
  async writeState(path: string, json: string): Promise<string> {
    return (await this.background.request({ kind: 'state', path, json })) as string;
  }

  /**
   * syncfs(2) of the spool's file system, run by the background thread; false where `sync --file-system` is missing.
   */
  async syncfs(root: string): Promise<boolean> {
    return (await this.background.request({ kind: 'syncfs', root })) === true;
  }

  /** Starts a new segment; resolves with the number of the sealed one (the current one if that failed). */
  async rotate(): Promise<number> {
    await this.ready();
    const v = (await this.io.request({ kind: 'rotate' })) as Opened;
    this.seq = v.seq;
    this.size = v.bytes;
    return v.sealed;
  }

  /**
   * Hands sealed segments a checkpoint has made redundant back for reuse (or
   * removal), on the background thread: each name change is synced, and a
   * dozen folder syncs must not hold up commits. The current segment is
   * never among them.
   */
  async recycle(seqs: readonly number[]): Promise<void> {
    const sealed = seqs.filter((s) => s < this.seq);
    if (sealed.length === 0) return;
    await this.background.request({ kind: 'recycle', seqs: sealed });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.watcher);
    await Promise.all([this.io.close(), this.background.close()]);
  }

  private async call(
    call:
      | { kind: 'record'; frame: Buffer; due?: Buffer }
      | { kind: 'message'; frame: Buffer; bodyAt: number; names: readonly string[]; due?: Buffer },
  ): Promise<Committed> {
    if (this.closed) throw new Error('write-ahead log is closed');
    await this.ready();
    const bytes = call.frame.length;
    const done = (await this.io.request(call, movable(call.frame))) as Committed;
    this.written += bytes;
    if (done.grew) this.askForSpares();
    if (done.seq >= this.seq) {
      this.seq = done.seq;
      this.size = done.bytes;
    }
    return done;
  }

  /**
   * Has the background thread make spares (or give extra ones back); the log works without them, so failures are
   * ignored.
   */
  private spares(action: 'prepare' | 'trim'): Promise<void> {
    if (this.closed) return Promise.resolve();
    return this.background.request({ kind: action }).then(
      () => undefined,
      () => undefined,
    );
  }

  private look(): void {
    const { action, quietLooks } = spareAction(this.written - this.writtenAtLook, this.quietLooks);
    this.writtenAtLook = this.written;
    this.quietLooks = quietLooks;
    if (action !== 'none') void this.spares(action);
  }

  /**
   * A commit had to grow its segment: no spare was ready (the spares were used
   * up, or the folder was wiped under us). The background thread makes them
   * now rather than at its next look; at most once a second.
   */
  private askForSpares(): void {
    const now = Date.now();
    if (!this.eager || now - this.lastAsked < 1000) return;
    this.lastAsked = now;
    void this.spares('prepare');
  }

  /** A new I/O thread (the first, or after one died) starts on a fresh segment. */
  private ready(): Promise<void> {
    if (this.io.alive && this.opened === this.io.generation) return Promise.resolve();
    this.opening ??= this.reopen(this.opened === 0 ? this.seq : this.seq + 1).finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  private async reopen(seq: number): Promise<void> {
    const v = (await this.io.request({ kind: 'open', seq })) as Opened;
    if (this.journal !== undefined) await this.io.request({ kind: 'journal', path: this.journal });
    this.opened = this.io.generation;
    this.seq = v.seq;
    this.size = v.bytes;
  }
}

/** The frame's memory, when the frame owns all of it and can be moved instead of copied. */
function movable(frame: Buffer): ArrayBuffer | undefined {
  const buffer = frame.buffer;
  return buffer instanceof ArrayBuffer && frame.byteOffset === 0 && frame.byteLength === buffer.byteLength
    ? buffer
    : undefined;
}
