import type * as ChildProcess from 'node:child_process';
import type * as Fs from 'node:fs';
import type * as Path from 'node:path';
import type * as Threads from 'node:worker_threads';
import type * as Zlib from 'node:zlib';

/** A request to the spool's I/O thread. `n` pairs it with its response. */
export type IoRequest =
  | { readonly n: number; readonly k: 'open'; readonly seq: number }
  /**
   * Logs `frame`, then writes `frame[bodyAt..]` to `names[0]` (new file, 0600) and links the other
   * names. `due`, when given, is appended to the due journal once the log write is synced.
   */
  | { readonly n: number; readonly k: 'msg'; readonly frame: Uint8Array; readonly bodyAt: number; readonly names: readonly string[]; readonly due?: Uint8Array }
  | { readonly n: number; readonly k: 'wal'; readonly frame: Uint8Array; readonly due?: Uint8Array }
  /** Appends due-journal records to the file at `path` from now on (the commit thread; ordered with commits). */
  | { readonly n: number; readonly k: 'journal'; readonly path: string }
  /**
   * Writes `data` to `path` through a temporary file: `continued` appends to the one a previous
   * request began, `more` leaves it open for another part; the last part syncs it and renames it
   * into place with a synced folder (background thread).
   */
  | { readonly n: number; readonly k: 'put'; readonly path: string; readonly data: Uint8Array; readonly continued?: boolean; readonly more?: boolean }
  /** Removes files; missing ones are fine (background thread). */
  | { readonly n: number; readonly k: 'unlink'; readonly paths: readonly string[] }
  /** Reads a whole file; answers null when it does not exist (reader thread). */
  | { readonly n: number; readonly k: 'read'; readonly path: string }
  /** Writes a state file in place (background work: log commits go first). */
  | { readonly n: number; readonly k: 'state'; readonly path: string; readonly json: string }
  /** syncfs(2) of the file system holding `root` (coreutils `sync --file-system`); answers whether it ran. */
  | { readonly n: number; readonly k: 'syncfs'; readonly root: string }
  | { readonly n: number; readonly k: 'rotate' }
  /** Segments a checkpoint is done with (background thread): kept as spares for later segments (up to 8 and 128 MiB), else removed. */
  | { readonly n: number; readonly k: 'recycle'; readonly seqs: readonly number[] }
  /** Makes zero-filled spare segments until there are two (background thread). */
  | { readonly n: number; readonly k: 'prepare' }
  /** Removes all but the two largest spares (background thread; the log has been quiet). */
  | { readonly n: number; readonly k: 'trim' }
  | { readonly n: number; readonly k: 'close' };

export interface IoFailure {
  readonly message: string;
  readonly code?: string;
  readonly syscall?: string;
  readonly path?: string;
}

export type IoResponse = { readonly n: number; readonly ok: true; readonly v: unknown } | { readonly n: number; readonly ok: false; readonly e: IoFailure };

/** What a log commit answers: the segment the record is in, and its size after the commit. */
export interface Committed {
  readonly seq: number;
  readonly bytes: number;
  /** Names a `msg` request created. */
  readonly placed?: readonly string[];
  /** A `msg` whose record was logged but whose body could not be placed (the caller takes the record back). */
  readonly unplaced?: string;
  /** The commit grew its segment's file (no spare was ready): worth asking for spares. */
  readonly grew?: boolean;
  /** The request's due-journal records could not be appended (the journal needs rewriting from memory). */
  readonly unjournaled?: boolean;
}

/**
 * The spool's I/O thread. On this kind of machine every asynchronous file
 * operation costs the event loop a thread-pool round trip (tens of µs of
 * system calls each), and a small message needs about six of them; here the
 * same work runs as plain synchronous calls on a thread of its own, and the
 * event loop pays one message each way per batch.
 *
 * Group commit: every request that arrived while the previous batch was being
 * written and synced is taken at once (`receiveMessageOnPort`), written with
 * one write and made durable with one fdatasync. A failed batch moves the log
 * to a fresh segment (the partial bytes end the old one's replay).
 *
 * Two threads run this program. The `commit` one writes the log and small
 * bodies. The `background` one writes checkpoint state files (a slice at a
 * time between whatever else it is asked) and, when asked (`GroupCommitLog`
 * watches how busy the log is), makes zero-filled spare segments or gives
 * spares back: a segment that reuses a file overwrites blocks it already
 * has, so its fdatasync needs no journal commit.
 * A commit that would grow the current segment past the blocks it has moves
 * the log on to a spare instead, when one is ready.
 *
 * This function is sent to the worker as source text, so it must not use
 * anything from its module: all it needs comes in as arguments.
 */
export function ioWorkerMain(threads: typeof Threads, fs: typeof Fs, path: typeof Path, zlib: typeof Zlib, childProcess: typeof ChildProcess): void {
  const port = threads.parentPort;
  if (!port) throw new Error('the spool I/O worker must run in a worker thread');
  const { walDir } = threads.workerData as { walDir: string };
  const segmentPath = (seq: number): string => path.join(walDir, `${String(seq).padStart(12, '0')}.wal`);
  const sparePath = (seq: number, tag = ''): string => path.join(walDir, `spare-${String(seq).padStart(12, '0')}${tag}.wal`);
  const knownDirs = new Set<string>();
  /** Zero-filled spares made (at start-up, and while the log is busy), and what a quiet log keeps. */
  const MADE_SPARES = 2;
  const SPARE_BYTES = 16 * 1024 * 1024;
  /**
   * Sealed segments kept for reuse: a log written at 80 MB/s (100 KiB
   * messages) fills many segments between two checkpoints, and every one
   * kept is one the log need not grow a new file for.
   */
  const KEPT_SPARES = 8;
  const KEPT_SPARE_BYTES = 128 * 1024 * 1024;

  /**
   * Segment files kept for reuse, named after the last number they had (a
   * zero-filled one has 0): a segment number is always above all of them.
   * Read from the folder each time (rotations are seconds apart), so the two
   * threads that make and take spares need no other coordination.
   */
  const spares = (): { path: string; seq: number }[] => {
    const found: { path: string; seq: number }[] = [];
    let names: string[];
    try {
      names = fs.readdirSync(walDir);
    } catch {
      return found; // the folder was removed under us: it is made again before the next segment
    }
    for (const name of names) {
      const match = /^spare-(\d{12})(-[\w-]+)?\.wal$/.exec(name);
      if (match) found.push({ path: path.join(walDir, name), seq: Number(match[1]) });
    }
    return found;
  };
  const sizeOf = (file: string): number => {
    try {
      return fs.statSync(file).size;
    } catch {
      return 0;
    }
  };
  /** Spares with their sizes, smallest first. */
  const sparesBySize = (): { path: string; seq: number; bytes: number }[] =>
    spares()
      .map((spare) => ({ ...spare, bytes: sizeOf(spare.path) }))
      .sort((x, y) => x.bytes - y.bytes);
  let fd: number | undefined;
  let seq = 0;
  let size = 0;
  /** Bytes the current segment's file had when opened: writes past them extend it (each fdatasync then also commits the journal). */
  let capacity = 0;
  let nextSpareLook = 0;
  const background: Extract<IoRequest, { k: 'state' }>[] = [];
  let backgroundAt = 0;
  let out: IoResponse[] = [];
  let closing: number | undefined;
  /** The due journal being appended to (commit thread). */
  let journal: number | undefined;

  const failure = (n: number, error: unknown): IoResponse => {
    const e = error as NodeJS.ErrnoException;
    return {
      n,
      ok: false,
      e: {
        message: e instanceof Error ? e.message : String(error),
        ...(typeof e.code === 'string' ? { code: e.code } : {}),
        ...(typeof e.syscall === 'string' ? { syscall: e.syscall } : {}),
        ...(typeof e.path === 'string' ? { path: e.path } : {}),
      },
    };
  };

  /** Answers request `n` with what `work` returns, or with the error it throws. */
  const answer = (n: number, work: () => unknown): void => {
    try {
      out.push({ n, ok: true, v: work() });
    } catch (error) {
      out.push(failure(n, error));
    }
  };

  const syncDir = (dir: string): void => {
    const d = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(d);
    } finally {
      fs.closeSync(d);
    }
  };

  const writeAll = (target: number, data: Uint8Array): void => {
    let offset = 0;
    while (offset < data.length) {
      const written = fs.writeSync(target, data, offset, data.length - offset);
      if (written <= 0) throw new Error('short write');
      offset += written;
    }
  };

  /**
   * Opens segment `next`: a spare renamed, when there is one (overwriting
   * blocks a file already has lets fdatasync skip the journal), else a new
   * file. Writes are positional from 0; what the file held before is ignored
   * by replay (its frames carry older segment numbers).
   */
  const startSegment = (next: number): void => {
    fs.mkdirSync(walDir, { recursive: true, mode: 0o700 });
    let opened: number | undefined;
    // the largest is taken first: the most writes before the next move
    const available = sparesBySize();
    let blocks = 0;
    for (let spare = available.pop(); spare && opened === undefined; spare = available.pop()) {
      try {
        fs.renameSync(spare.path, segmentPath(next));
        opened = fs.openSync(segmentPath(next), 'r+');
        blocks = fs.fstatSync(opened).size;
      } catch {
        // gone (someone cleared the folder): try the next, or a new file
      }
    }
    const reused = opened !== undefined;
    opened ??= fs.openSync(segmentPath(next), 'w', 0o600);
    try {
      syncDir(walDir);
    } catch (error) {
      fs.closeSync(opened);
      throw error;
    }
    closeCurrent();
    capacity = reused ? blocks : 0;
    fd = opened;
    seq = next;
    size = 0;
  };

  const closeCurrent = (): void => {
    if (fd === undefined) return;
    try {
      fs.closeSync(fd);
    } catch {
      // the segment is sealed either way
    }
    fd = undefined;
  };

  /**
   * Oldest first, each name change synced before the next: a crash part way
   * leaves only newer segments, and replaying a newer segment alone is safe
   * (an older one alone could bring back what a newer one deleted). Runs on
   * the background thread; `GroupCommitLog` never passes the current segment.
   */
  const recycle = (seqs: readonly number[]): void => {
    const present = sparesBySize();
    let kept = present.length;
    let keptBytes = present.reduce((sum, spare) => sum + spare.bytes, 0);
    for (const old of [...seqs].sort((a, b) => a - b)) {
      try {
        const bytes = sizeOf(segmentPath(old));
        if (kept < KEPT_SPARES && keptBytes + bytes <= KEPT_SPARE_BYTES) {
          fs.renameSync(segmentPath(old), sparePath(old));
          kept += 1;
          keptBytes += bytes;
        } else {
          fs.unlinkSync(segmentPath(old));
        }
      } catch {
        continue; // already gone
      }
      syncDir(walDir); // a failure stops here: no newer segment goes before this one is durably gone
    }
  };

  /** A quiet log keeps only `MADE_SPARES` spares (the largest). */
  const trim = (): void => {
    const extra = sparesBySize().slice(0, -MADE_SPARES);
    for (const spare of extra) fs.rmSync(spare.path, { force: true });
    if (extra.length > 0) syncDir(walDir);
  };

  const prepare = (bytes: number): void => {
    for (const name of fs.readdirSync(walDir)) if (name.startsWith('prepare-')) fs.unlinkSync(path.join(walDir, name));
    const zeros = Buffer.alloc(Math.min(bytes, 1 << 20));
    for (let missing = MADE_SPARES - spares().length; missing > 0; missing--) {
      const tag = `-${process.pid}-${Date.now()}-${missing}`;
      const temporary = path.join(walDir, `prepare${tag}.tmp`);
      const f = fs.openSync(temporary, 'w', 0o600);
      try {
        for (let written = 0; written < bytes; written += zeros.length) writeAll(f, zeros);
        fs.fdatasyncSync(f);
      } finally {
        fs.closeSync(f);
      }
      fs.renameSync(temporary, sparePath(0, tag));
    }
    syncDir(walDir);
  };

  /** Runs `work` in `dir`, making the folder (again) when it is missing. */
  const inDir = <T>(dir: string, work: () => T): T => {
    if (!knownDirs.has(dir)) {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      knownDirs.add(dir);
    }
    try {
      return work();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      return work();
    }
  };

  const writeFile = (file: string, data: Uint8Array | string, flags: string): void => {
    const f = fs.openSync(file, flags, 0o600);
    try {
      if (typeof data === 'string') fs.writeFileSync(f, data);
      else writeAll(f, data);
    } finally {
      fs.closeSync(f);
    }
  };

  const removeAll = (names: readonly string[]): void => {
    for (const name of names) {
      try {
        fs.unlinkSync(name);
      } catch {
        // already gone
      }
    }
  };

  const place = (request: { frame: Uint8Array; bodyAt: number; names: readonly string[] }): string[] => {
    const [first, ...others] = request.names;
    if (first === undefined) throw new Error('message without recipients');
    const created: string[] = [];
    try {
      inDir(path.dirname(first), () => writeFile(first, request.frame.subarray(request.bodyAt), 'wx'));
      created.push(first);
      for (const name of others) {
        try {
          fs.linkSync(first, name);
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
  };

  /** After a failed write: on to a fresh segment (the partial bytes end the old one's replay). */
  const recover = (): void => {
    try {
      startSegment(seq + 1);
    } catch {
      closeCurrent(); // retried by the next commit
    }
  };

  /** When a commit would extend the segment: is there a spare to move on to? (looked at five times a second) */
  const spareReady = (): boolean => {
    const now = Date.now();
    if (now < nextSpareLook) return false;
    nextSpareLook = now + 200;
    return spares().length > 0;
  };

  /** Appends the batch's due-journal records after its log write is synced; false when that failed. */
  const appendJournal = (batch: readonly { due?: Uint8Array | undefined }[]): boolean => {
    const parts = batch.map((c) => c.due).filter((d): d is Uint8Array => d !== undefined);
    if (parts.length === 0) return true;
    if (journal === undefined) return false;
    try {
      writeAll(journal, parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts));
      return true;
    } catch {
      return false;
    }
  };

  interface Pending {
    readonly n: number;
    readonly frame: Uint8Array;
    readonly due?: Uint8Array | undefined;
    /** A message's body, placed once its record is synced. */
    readonly body?: { readonly bodyAt: number; readonly names: readonly string[] };
  }

  /**
   * Writes the batch's records with one write and one fdatasync, then places
   * the small bodies they carry and appends their due-journal records. A body
   * is placed only after its record is durable: a crash in between leaves a
   * record whose replay writes the body, never a body without a record.
   */
  const commit = (batch: Pending[]): void => {
    if (batch.length === 0) return;
    if (seq === 0) {
      // never before `open`: a thread started for requests its dead predecessor left behind writes nothing
      for (const c of batch) out.push(failure(c.n, new Error('write-ahead log is not open')));
      return;
    }
    try {
      const bytes = batch.reduce((sum, c) => sum + c.frame.byteLength, 0);
      if (fd === undefined || (size + bytes > capacity && spareReady())) startSegment(seq + 1);
      // a segment whose name was deleted under us would take writes no replay finds
      else if (fs.fstatSync(fd).nlink === 0) startSegment(seq + 1);
      const target = fd as number;
      for (const { frame } of batch) {
        const view = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
        view.writeUInt32LE(zlib.crc32(view.subarray(8), seq >>> 0), 4);
      }
      const data = batch.length === 1 ? (batch[0] as { frame: Uint8Array }).frame : Buffer.concat(batch.map((c) => c.frame));
      let offset = 0;
      while (offset < data.length) {
        const written = fs.writeSync(target, data, offset, data.length - offset, size + offset);
        if (written <= 0) throw new Error('short write');
        offset += written;
      }
      fs.fdatasyncSync(target);
      const grew = size + data.length > capacity;
      size += data.length;
      const journaled = appendJournal(batch);
      for (const c of batch) {
        const v: Record<string, unknown> = { seq, bytes: size, placed: [] };
        if (c.body) {
          try {
            v['placed'] = place({ frame: c.frame, ...c.body });
          } catch (error) {
            v['unplaced'] = error instanceof Error ? error.message : String(error);
          }
        }
        if (grew) v['grew'] = true;
        if (!journaled && c.due !== undefined) v['unjournaled'] = true;
        out.push({ n: c.n, ok: true, v });
      }
    } catch (error) {
      recover();
      for (const c of batch) out.push(failure(c.n, error));
    }
  };

  const handle = (requests: readonly IoRequest[]): void => {
    let batch: Pending[] = [];
    for (const r of requests) {
      switch (r.k) {
        case 'msg':
          batch.push({ n: r.n, frame: r.frame, due: r.due, body: { bodyAt: r.bodyAt, names: r.names } });
          break;
        case 'wal':
          batch.push({ n: r.n, frame: r.frame, due: r.due });
          break;
        case 'journal': {
          commit(batch); // what came before goes to the previous file
          batch = [];
          answer(r.n, () => {
            const next = fs.openSync(r.path, 'a', 0o600);
            if (journal !== undefined) fs.closeSync(journal);
            journal = next;
            return r.path;
          });
          break;
        }
        case 'put':
          answer(r.n, () => {
            const temporary = `${r.path}.tmp`;
            inDir(path.dirname(r.path), () => writeFile(temporary, r.data, r.continued === true ? 'a' : 'w'));
            if (r.more === true) return r.path;
            const f = fs.openSync(temporary, 'r');
            try {
              fs.fdatasyncSync(f);
            } finally {
              fs.closeSync(f);
            }
            fs.renameSync(temporary, r.path);
            syncDir(path.dirname(r.path));
            return r.path;
          });
          break;
        case 'unlink':
          answer(r.n, () => removeAll(r.paths));
          break;
        case 'read':
          answer(r.n, () => {
            try {
              return fs.readFileSync(r.path);
            } catch (error) {
              if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
              throw error;
            }
          });
          break;
        case 'state':
          background.push(r);
          break;
        case 'syncfs': {
          // a child process blocks only this thread (spawning it on the event loop stalled SMTP for tens of ms)
          let ran = true;
          try {
            childProcess.execFileSync('sync', ['--file-system', r.root], { timeout: 120_000, stdio: 'ignore' });
          } catch {
            ran = false;
          }
          out.push({ n: r.n, ok: true, v: ran });
          break;
        }
        case 'open':
        case 'rotate': {
          commit(batch);
          batch = [];
          const before = seq;
          try {
            if (r.k === 'rotate' && seq === 0) throw new Error('write-ahead log is not open');
            startSegment(r.k === 'open' ? Math.max(r.seq, ...spares().map((spare) => spare.seq + 1)) : seq + 1);
            out.push({ n: r.n, ok: true, v: { seq, sealed: r.k === 'open' ? seq - 1 : before, bytes: size } });
          } catch (error) {
            out.push(r.k === 'open' ? failure(r.n, error) : { n: r.n, ok: true, v: { seq, sealed: seq, bytes: size } });
          }
          break;
        }
        case 'prepare':
          answer(r.n, () => prepare(SPARE_BYTES));
          break;
        case 'trim':
          answer(r.n, trim);
          break;
        case 'recycle':
          answer(r.n, () => recycle(r.seqs));
          break;
        case 'close':
          closing = r.n;
          break;
        default: {
          const unknown = r as { n: number; k: unknown };
          out.push(failure(unknown.n, new Error(`unknown request ${String(unknown.k)}`)));
        }
      }
    }
    commit(batch);
  };

  const writeState = (r: Extract<IoRequest, { k: 'state' }>): void => {
    answer(r.n, () => {
      inDir(path.dirname(r.path), () => writeFile(r.path, r.json, 'w'));
      return r.path;
    });
  };

  const flush = (): void => {
    if (out.length === 0) return;
    port.postMessage(out);
    out = [];
  };

  const take = (): IoRequest[] | undefined => {
    const first = threads.receiveMessageOnPort(port);
    if (!first) return undefined;
    const requests = [...(first.message as IoRequest[])];
    for (let more = threads.receiveMessageOnPort(port); more; more = threads.receiveMessageOnPort(port)) {
      requests.push(...(more.message as IoRequest[]));
    }
    return requests;
  };

  const pump = (first: IoRequest[]): void => {
    let requests: IoRequest[] | undefined = first;
    for (;;) {
      const more = take();
      handle(more ? [...requests, ...more] : requests);
      flush();
      requests = take();
      while (!requests && backgroundAt < background.length) {
        for (let i = 0; i < 32 && backgroundAt < background.length; i++) writeState(background[backgroundAt++] as Extract<IoRequest, { k: 'state' }>);
        if (backgroundAt === background.length) {
          background.length = 0;
          backgroundAt = 0;
        }
        flush();
        requests = take();
      }
      if (!requests) break;
    }
    if (closing !== undefined) {
      if (fd !== undefined) fs.closeSync(fd);
      fd = undefined;
      if (journal !== undefined) fs.closeSync(journal);
      journal = undefined;
      port.postMessage([{ n: closing, ok: true, v: null }]);
      port.close();
    }
  };

  port.on('message', (requests: IoRequest[]) => pump(requests));
}

/** The worker's program: `ioWorkerMain` with its modules. */
export const IO_WORKER_SOURCE = `(${ioWorkerMain.toString()})(require('node:worker_threads'), require('node:fs'), require('node:path'), require('node:zlib'), require('node:child_process'));`;
