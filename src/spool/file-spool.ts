import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, readdir, rm, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Subject, type Observable } from 'rxjs';
import type { DueRecipient } from '../domain/delivery.js';
import type { Envelope, MessageId, MessageRecord } from '../domain/envelope.js';
import { fsyncDirectory, fsyncFile, syncFilesystem } from './file/fsync.js';
import { GroupCommitLog } from './file/group-commit-log.js';
import { newMessageId } from './id.js';
import { Materializer } from './file/materialize.js';
import { isDateDir, isMessageId, segmentSeq, spoolPaths, type SpoolPaths } from './file/paths.js';
import { replayLog } from './file/replay.js';
import { encodeRecord } from './file/wal-record.js';
import { applyUpdates, initialRecord, QueueIndex } from './queue-index.js';
import { SpoolError, type RecipientUpdate, type Spool } from './spool.js';

export interface FileSpoolOptions {
  readonly path: string;
  readonly now?: () => number;
  /** Bodies up to this size travel inside the write-ahead log (group commit). */
  readonly inlineLimit?: number;
  /** Total bytes of inline bodies held in memory at once, across sessions. */
  readonly inlineBudget?: number;
  /** How often the log is checkpointed (files synced, segments dropped). */
  readonly checkpointMs?: number;
  /**
   * Make two zero-filled 16 MiB spare log segments at start-up (the daemon
   * does), so the log overwrites allocated blocks from its first busy second:
   * fdatasync then skips the journal commit (0.7 ms instead of 1.4 ms here).
   * Without it, spares are made once the log gets busy.
   */
  readonly preallocate?: boolean;
}

/**
 * The file spool. A message is durable when its record is in the group-commit
 * write-ahead log (small bodies inline; large bodies fsynced in tmp/ first);
 * its `.eml` names are then put in place without a sync of their own. State
 * files are written from memory at checkpoints (every state change is in the
 * log first), and a checkpoint (one syncfs) makes everything durable before
 * the log segment is dropped. After a crash, start-up replays the log.
 */
export async function openFileSpool(options: FileSpoolOptions): Promise<Spool & { checkpoint(): Promise<void> }> {
  const paths = spoolPaths(options.path);
  for (const dir of [paths.root, paths.tmp, paths.wal]) await mkdir(dir, { recursive: true, mode: 0o700 });
  const materializer = new Materializer(paths);
  const { nextSegment } = await replayLog(paths, materializer);
  await clearDirectory(paths.tmp);
  const index = new QueueIndex();
  for (const record of await scanRecords(paths)) index.put(record);
  const wal = await GroupCommitLog.open(paths.wal, nextSegment, { preallocate: options.preallocate ?? false });
  return new FileSpool(paths, materializer, index, wal, options);
}

class FileSpool implements Spool {
  private readonly wakeSubject = new Subject<void>();
  readonly wake$: Observable<void> = this.wakeSubject.asObservable();
  private readonly now: () => number;
  private readonly inlineLimit: number;
  private readonly inlineBudget: number;
  private inlineInUse = 0;
  private readonly locks = new Map<MessageId, Promise<unknown>>();
  /**
   * segment → what its records changed and the next checkpoint must make
   * durable in the files: bodies placed (and work still placing them), and
   * messages whose state file is to be (re)written from memory.
   */
  private readonly unsynced = new Map<number, { paths: string[]; pending: Set<Promise<unknown>>; dirty: Set<MessageId> }>();
  private readonly timer: NodeJS.Timeout;
  private checkpointing: Promise<void> | undefined;
  /**
   * Log writes whose follow-up (tracking the segment, placing or removing
   * files) is still running. A checkpoint waits for them after sealing: a
   * commit answered in the same batch as the rotation may not be tracked yet,
   * and a removal may still be unlinking, and the sealed segments are about to
   * be dropped.
   */
  private readonly inflight = new Set<Promise<void>>();

  constructor(
    private readonly paths: SpoolPaths,
    private readonly materializer: Materializer,
    private readonly index: QueueIndex,
    private readonly wal: GroupCommitLog,
    options: FileSpoolOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.inlineLimit = options.inlineLimit ?? 128 * 1024;
    this.inlineBudget = options.inlineBudget ?? 32 * 1024 * 1024;
    this.timer = setInterval(() => void this.checkpoint().catch(() => undefined), options.checkpointMs ?? 2000);
    this.timer.unref();
  }

  async store(envelope: Envelope, body: AsyncIterable<Buffer>): Promise<MessageRecord> {
    const recipients = [...new Set(envelope.recipients)];
    if (recipients.length === 0) throw new SpoolError('a message needs at least one recipient');
    const id = newMessageId(this.now());
    const tmpBody = this.paths.tmpBody(id);
    const received = await this.receive(tmpBody, body);
    const record = initialRecord(id, { ...envelope, recipients }, received.size);
    const { inline, size } = received;
    await this.logging(() => (inline ? this.commitInline(record, inline, size) : this.commitSpilled(record, tmpBody)));
    this.wakeSubject.next();
    return record;
  }

  /**
   * A small body travels inside its log record; the I/O thread writes it to its
   * final names in the same batch as the commit (a crash between the two leaves
   * a file with no record: start-up removes it).
   */
  private async commitInline(record: MessageRecord, chunks: readonly Buffer[], size: number): Promise<void> {
    const { id, envelope } = record;
    const names = envelope.recipients.map((r) => this.paths.bodyFile(id, envelope.receivedAt, r));
    try {
      const { frame, bodyAt } = encodeRecord({ t: 'msg', record, inline: true }, chunks);
      const { seq, placed } = await this.wal.commitMessage(frame, bodyAt, names);
      // indexed in the same step as tracked: the checkpoint that seals `seq` writes its state file from the index
      this.index.put(record);
      this.track(seq, Promise.resolve([...placed, this.paths.dateDir(envelope.receivedAt)]), id);
    } catch (error) {
      throw storageError(error);
    } finally {
      this.inlineInUse = Math.max(0, this.inlineInUse - size);
    }
  }

  /** A large body is already fsynced in tmp/: it is renamed into place after its record commits. */
  private async commitSpilled(record: MessageRecord, tmpBody: string): Promise<void> {
    const { id, envelope } = record;
    let segment: number;
    try {
      segment = await this.wal.append(encodeRecord({ t: 'msg', record, inline: false }).frame);
    } catch (error) {
      await discard(tmpBody);
      throw storageError(error);
    }
    const placing = this.materializer.place(record, tmpBody);
    this.track(segment, placing, id);
    try {
      await placing;
    } catch (error) {
      // committed but not placed: take it back so the client's 451 stays true
      await this.wal.append(encodeRecord({ t: 'del', id, receivedAt: envelope.receivedAt, recipients: envelope.recipients }).frame).catch(() => undefined);
      await this.materializer.remove(id, envelope.receivedAt, envelope.recipients).catch(() => undefined);
      await discard(tmpBody);
      throw storageError(error);
    }
    this.index.put(record);
  }

  /** Reads the body: in memory while small, else streamed to an fsynced tmp file. */
  private async receive(tmpBody: string, body: AsyncIterable<Buffer>): Promise<{ size: number; inline?: Buffer[] }> {
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
        this.inlineInUse += chunk.length;
        if (size > this.inlineLimit || this.inlineInUse > this.inlineBudget) {
          file = await this.openTmp(tmpBody).catch((error: unknown) => {
            throw storageError(error);
          });
          for (const c of chunks) await writeFully(file, c);
          chunks.length = 0;
          this.inlineInUse -= reserved;
          reserved = 0;
        }
      }
      if (!file) return { size, inline: chunks }; // still reserved: released once committed
      await file.datasync();
      await file.close();
      file = undefined;
      await fsyncDirectory(this.paths.tmp);
      return { size };
    } catch (error) {
      this.inlineInUse -= reserved;
      await file?.close().catch(() => undefined);
      await discard(tmpBody);
      throw error instanceof SpoolError || !isFsError(error) ? error : storageError(error);
    }
  }

  /** Opens a file in tmp/, making tmp/ again if it was removed under us. */
  private openTmp(path: string): Promise<FileHandle> {
    return retryAfterMkdir(this.paths.tmp, () => open(path, 'wx', 0o600));
  }

  private track(segment: number, work: Promise<string[]>, dirty: MessageId): void {
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

  get(id: MessageId): Promise<MessageRecord | undefined> {
    return Promise.resolve(this.index.get(id));
  }

  list(): Promise<readonly MessageRecord[]> {
    return Promise.resolve(this.index.all());
  }

  openBody(id: MessageId): Promise<AsyncIterable<Buffer>> {
    const record = this.index.get(id);
    const first = record?.envelope.recipients[0];
    if (!record || first === undefined) return Promise.reject(new SpoolError(`unknown message ${id}`));
    return Promise.resolve(createReadStream(this.paths.bodyFile(id, record.envelope.receivedAt, first)));
  }

  update(id: MessageId, updates: readonly RecipientUpdate[]): Promise<MessageRecord> {
    return this.exclusive(id, () => this.logging(async () => {
      const current = this.index.get(id);
      if (!current) throw new SpoolError(`unknown message ${id}`);
      const next = applyUpdates(current, updates, this.now());
      const segment = await this.wal
        .append(encodeRecord({ t: 'state', id, receivedAt: next.envelope.receivedAt, recipients: next.recipients }).frame)
        .catch((error: unknown) => {
          throw storageError(error);
        });
      // durable in the log now; the state file is rewritten at the next checkpoint
      this.track(segment, Promise.resolve([]), id);
      this.index.put(next);
      this.index.release(id, updates.map((u) => u.recipient));
      if (updates.some((u) => u.status === 'queued' || u.status === 'deferred')) this.wakeSubject.next();
      return next;
    }));
  }

  claimDue(now: number, limit: number, leaseMs: number): Promise<readonly DueRecipient[]> {
    return Promise.resolve(this.index.claimDue(now, limit, leaseMs));
  }

  release(id: MessageId, recipients: readonly string[]): Promise<void> {
    this.index.release(id, recipients);
    this.wakeSubject.next();
    return Promise.resolve();
  }

  nextDueAt(): Promise<number | undefined> {
    return Promise.resolve(this.index.nextDueAt(this.now()));
  }

  depth(): Promise<number> {
    return Promise.resolve(this.index.waiting());
  }

  async retryNow(id?: MessageId): Promise<number> {
    let count = 0;
    const now = this.now();
    for (const [mid, recipients] of this.index.deferred(id)) {
      const record = this.index.get(mid);
      if (!record) continue;
      const updates = record.recipients
        .filter((r) => recipients.includes(r.recipient) && r.nextAttemptAt > now)
        .map((r) => ({ recipient: r.recipient, status: r.status, attempts: r.attempts, nextAttemptAt: now }));
      if (updates.length === 0) continue;
      await this.update(mid, updates);
      count += updates.length;
    }
    this.wakeSubject.next();
    return count;
  }

  remove(id: MessageId): Promise<boolean> {
    return this.exclusive(id, () => this.logging(async () => {
      const record = this.index.get(id);
      if (!record) return false;
      const { receivedAt, recipients } = record.envelope;
      await this.wal.append(encodeRecord({ t: 'del', id, receivedAt, recipients }).frame).catch((error: unknown) => {
        throw storageError(error);
      });
      this.index.delete(id);
      await this.materializer.remove(id, receivedAt, recipients);
      return true;
    }));
  }

  async check(): Promise<void> {
    const probe = join(this.paths.tmp, `.probe-${process.pid}`);
    await writeFile(probe, 'ok', { mode: 0o600 });
    await unlink(probe);
  }

  /** Seals the current log segment, syncs what its records placed, drops it. */
  checkpoint(): Promise<void> {
    if (this.checkpointing) return this.checkpointing;
    if (this.wal.bytes === 0 && this.unsynced.size === 0) return Promise.resolve();
    this.checkpointing = this.runCheckpoint().finally(() => {
      this.checkpointing = undefined;
    });
    return this.checkpointing;
  }

  private async runCheckpoint(): Promise<void> {
    const sealed = await this.wal.rotate();
    if (sealed === this.wal.segment) return; // could not rotate; try again later
    await Promise.all([...this.inflight]);
    const segments = [...this.unsynced.keys()].filter((s) => s <= sealed);
    const placed: string[] = [];
    const dirty = new Set<MessageId>();
    for (const s of segments) {
      const entry = this.unsynced.get(s);
      if (!entry) continue;
      await Promise.all([...entry.pending]);
      placed.push(...entry.paths);
      for (const id of entry.dirty) dirty.add(id);
    }
    const ids = [...dirty];
    for (let i = 0; i < ids.length; i += STATE_BATCH) {
      const written = await Promise.all(ids.slice(i, i + STATE_BATCH).map((id) => this.writeStateFile(id)));
      for (const path of written) if (path) placed.push(path);
    }
    await syncFilesystem(this.paths.root, placed, { syncfs: (root) => this.wal.syncfs(root), fsync: fsyncFile });
    const names = await readdir(this.paths.wal).catch(() => [] as string[]);
    const done = names.map(segmentSeq).filter((s): s is number => s !== undefined && s <= sealed);
    await this.wal.recycle(done);
    for (const s of segments) this.unsynced.delete(s);
  }

  /** Writes a message's state file from memory (under its lock, so a removal cannot interleave). */
  private writeStateFile(id: MessageId): Promise<string | undefined> {
    return this.exclusive(id, async () => {
      const record = this.index.get(id);
      return record ? this.wal.writeState(this.paths.stateFile(id, record.envelope.receivedAt), JSON.stringify(record)) : undefined;
    });
  }

  /** Runs log work the next checkpoint must wait for (see `inflight`). */
  private logging<T>(work: () => Promise<T>): Promise<T> {
    const running = work();
    const settled = running.then(
      () => undefined,
      () => undefined,
    );
    this.inflight.add(settled);
    void settled.then(() => this.inflight.delete(settled));
    return running;
  }

  private exclusive<T>(id: MessageId, work: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(id) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.locks.set(id, settled);
    void settled.then(() => {
      if (this.locks.get(id) === settled) this.locks.delete(id);
    });
    return next;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.checkpoint().catch(() => undefined);
    await this.wal.close();
    this.wakeSubject.complete();
  }
}

async function scanRecords(paths: SpoolPaths): Promise<MessageRecord[]> {
  const files: string[] = [];
  const bodies: { id: string; path: string }[] = [];
  for (const dir of (await readdir(paths.root)).filter(isDateDir)) {
    const full = join(paths.root, dir);
    for (const name of await readdir(full)) {
      if (name.endsWith('.json') && isMessageId(name.slice(0, -5))) files.push(join(full, name));
      else if (name.endsWith('.eml')) bodies.push({ id: name.slice(0, 20), path: join(full, name) });
    }
  }
  const records: MessageRecord[] = [];
  // many reads in flight keep the thread pool busy: start-up with a large queue is bound by them
  for (let i = 0; i < files.length; i += SCAN_BATCH) {
    const batch = await Promise.all(files.slice(i, i + SCAN_BATCH).map(readRecord));
    for (const record of batch) if (record) records.push(record);
  }
  // a body written while a crash stopped its log commit was never acknowledged: remove it
  const known = new Set(records.map((r) => r.id));
  for (const body of bodies) if (!known.has(body.id)) await unlink(body.path).catch(() => undefined);
  return records;
}

const SCAN_BATCH = 64;
const STATE_BATCH = 64;

async function readRecord(file: string): Promise<MessageRecord | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as MessageRecord;
  } catch {
    return undefined; // unreadable state file: left for the operator, never a crash at start-up
  }
}

async function retryAfterMkdir<T>(dir: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return work();
  }
}

async function clearDirectory(dir: string): Promise<void> {
  for (const name of await readdir(dir)) await rm(join(dir, name), { force: true, recursive: true });
}

async function discard(...files: string[]): Promise<void> {
  for (const f of files) await unlink(f).catch(() => undefined);
}

async function writeFully(file: FileHandle, chunk: Buffer): Promise<void> {
  let offset = 0;
  while (offset < chunk.length) {
    const { bytesWritten } = await file.write(chunk, offset, chunk.length - offset);
    offset += bytesWritten;
  }
}

function isFsError(error: unknown): boolean {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string' && (error as NodeJS.ErrnoException).syscall !== undefined;
}

function storageError(error: unknown): SpoolError {
  if (error instanceof SpoolError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new SpoolError(`spool storage failed: ${message}`, { cause: error });
}
