/**
 * The file spool. A message is durable when its record is in the group-commit
 * write-ahead log (small bodies inline, written to their final names right
 * after the log write is synced; large bodies fsynced in tmp/ first and
 * renamed after). State files are written from memory at checkpoints (every
 * change is in the log first), and a checkpoint (one syncfs) makes
 * everything durable before the log segment is dropped. After a crash,
 * start-up replays the log.
 *
 * What it holds in memory is bounded by the work in flight (see
 * docs/queue.md): the due index (a compact entry per waiting message, kept
 * across restarts by the due journal, `file/due-files.ts`) and the records
 * being delivered or changed since the last checkpoint (`RecordCache`).
 * Finished messages live on disk only.
 */
import { createReadStream } from 'node:fs';
import { appendFile, mkdir, open, readFile, readdir, rm, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Subject, type Observable } from 'rxjs';
import type { ClaimedMessage } from '../domain/delivery.js';
import { domainOf, isWaiting, type Envelope, type MessageId, type MessageRecord } from '../domain/envelope.js';
import { fsyncDirectory, fsyncFile, syncFilesystem } from './file/fsync.js';
import { DueFiles, applyRecords } from './file/due-files.js';
import type { DueEntry, DueIndex } from './file/due-index.js';
import { encodeJournalRecord, type JournalRecord } from './file/due-journal.js';
import { expireFinished } from './file/expiry.js';
import { GroupCommitLog } from './file/group-commit-log.js';
import { pageOfIds } from './file/listing.js';
import { Materializer } from './file/materialize.js';
import { idTime } from './file/message-ids.js';
import { isDateDir, isMessageId, segmentSeq, spoolPaths, type SpoolPaths } from './file/paths.js';
import { SpoolReader } from './file/reader.js';
import { RecordCache } from './file/record-cache.js';
import { finishReplay, replayLog } from './file/replay.js';
import { encodeRecord } from './file/wal-record.js';
import { newMessageId } from './id.js';
import { applyUpdates, initialRecord } from './records.js';
import { SpoolError, type ListOptions, type Page, type RecipientUpdate, type ShapeCell, type Spool } from './spool.js';

export interface FileSpoolOptions {
  readonly path: string;
  readonly now?: () => number;
  /** Bodies up to this size travel inside the write-ahead log (group commit), and are read back whole. */
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

const DAY_MS = 86_400_000;
const STATE_BATCH = 64;
/** How long a message whose state file could not be read waits before it is tried again. */
const UNREADABLE_WAIT_MS = 60_000;

export type FileSpool = Spool & { checkpoint(): Promise<void>; compactJournal(): Promise<void> };

export async function openFileSpool(options: FileSpoolOptions): Promise<FileSpool> {
  const paths = spoolPaths(options.path);
  for (const dir of [paths.root, paths.tmp, paths.wal]) await mkdir(dir, { recursive: true, mode: 0o700 });
  const materializer = new Materializer(paths);
  const { files, index, exists } = await DueFiles.load(paths.due);
  const replay = await replayLog(paths, materializer);
  // the index learns what the replay changed; written to the journal before the segments go
  const records = exists ? [...replayedRecords(replay.states)] : await rebuildRecords(paths);
  if (records.length > 0) {
    await appendFile(files.path, Buffer.concat(records.map(encodeJournalRecord)), { mode: 0o600 });
    applyRecords(index, records);
    files.appendedRecords(records.length);
  }
  await finishReplay(paths, replay, [files.path]);
  await clearDirectory(paths.tmp);
  const wal = await GroupCommitLog.open(paths.wal, replay.nextSegment, { preallocate: options.preallocate ?? false });
  await wal.useJournal(files.path);
  const spool = new FileSpoolImpl(paths, materializer, index, files, wal, options);
  if (!exists) await spool.compactJournal(); // a journal for a spool that had none
  return spool;
}

class FileSpoolImpl implements FileSpool {
  private readonly wakeSubject = new Subject<void>();
  readonly wake$: Observable<void> = this.wakeSubject.asObservable();
  private readonly now: () => number;
  private readonly inlineLimit: number;
  private readonly inlineBudget: number;
  private inlineInUse = 0;
  private readonly cache = new RecordCache();
  private readonly reader: SpoolReader;
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
   * files, updating the index) is still running. A checkpoint waits for them
   * after sealing: a commit answered in the same batch as the rotation may not
   * be tracked yet, and the sealed segments are about to be dropped. A journal
   * compaction waits for them too.
   */
  private readonly inflight = new Set<Promise<void>>();

  constructor(
    private readonly paths: SpoolPaths,
    private readonly materializer: Materializer,
    private readonly index: DueIndex,
    private readonly files: DueFiles,
    private readonly wal: GroupCommitLog,
    options: FileSpoolOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.inlineLimit = options.inlineLimit ?? 128 * 1024;
    this.inlineBudget = options.inlineBudget ?? 32 * 1024 * 1024;
    this.reader = new SpoolReader(paths.wal);
    this.timer = setInterval(() => void this.checkpoint().catch(() => undefined), options.checkpointMs ?? 2000);
    this.timer.unref();
  }

  async store(envelope: Envelope, body: AsyncIterable<Buffer>): Promise<MessageRecord> {
    const recipients = [...new Set(envelope.recipients)];
    if (recipients.length === 0) throw new SpoolError('a message needs at least one recipient');
    // the id carries the acceptance time: its date names the message's folder
    const id = newMessageId(envelope.receivedAt);
    const tmpBody = this.paths.tmpBody(id);
    const received = await this.receive(tmpBody, body);
    const record = initialRecord(id, { ...envelope, recipients }, received.size);
    const { inline, size } = received;
    await this.logging(() => (inline ? this.commitInline(record, inline, size) : this.commitSpilled(record, tmpBody)));
    this.wakeSubject.next();
    return record;
  }

  /**
   * A small body travels inside its log record; the I/O thread writes it to
   * its final names right after the record is synced (a crash in between:
   * the replay writes them).
   */
  private async commitInline(record: MessageRecord, chunks: readonly Buffer[], size: number): Promise<void> {
    const { id, envelope } = record;
    const names = envelope.recipients.map((r) => this.paths.bodyFile(id, envelope.receivedAt, r));
    try {
      const { frame, bodyAt } = encodeRecord({ t: 'msg', record, inline: true }, chunks);
      const due = journalRecordOf(record);
      const committed = await this.wal.commitMessage(frame, bodyAt, names, encodeJournalRecord(due));
      this.journaled(committed);
      if (committed.unplaced !== undefined) {
        await this.takeBack(record, committed.placed);
        throw new SpoolError(`spool storage failed: ${committed.unplaced}`);
      }
      // indexed in the same step as tracked: the checkpoint that seals the segment writes the state file from the cache
      this.cache.changed(record);
      applyRecords(this.index, [due]);
      this.track(committed.seq, Promise.resolve([...committed.placed, this.paths.dateDir(envelope.receivedAt)]), id);
    } catch (error) {
      throw storageError(error);
    } finally {
      this.inlineInUse = Math.max(0, this.inlineInUse - size);
    }
  }

  /** A large body is already fsynced in tmp/: it is renamed into place after its record commits. */
  private async commitSpilled(record: MessageRecord, tmpBody: string): Promise<void> {
    const { id } = record;
    const due = journalRecordOf(record);
    let segment: number;
    try {
      const committed = await this.wal.append(encodeRecord({ t: 'msg', record, inline: false }).frame, encodeJournalRecord(due));
      this.journaled(committed);
      segment = committed.seq;
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
      await this.takeBack(record, []);
      await discard(tmpBody);
      throw storageError(error);
    }
    this.cache.changed(record);
    applyRecords(this.index, [due]);
  }

  /** Logs the removal of a message whose commit cannot be completed (best effort), and removes its files. */
  private async takeBack(record: MessageRecord, placed: readonly string[]): Promise<void> {
    const { id, envelope } = record;
    const del = encodeRecord({ t: 'del', id, receivedAt: envelope.receivedAt, recipients: envelope.recipients }).frame;
    await this.wal.append(del, encodeJournalRecord({ kind: 'drop', id })).catch(() => undefined);
    for (const name of placed) await unlink(name).catch(() => undefined);
    await this.materializer.remove(id, envelope.receivedAt, envelope.recipients).catch(() => undefined);
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

  /** After a commit: count its journal record, and note when the journal missed it. */
  private journaled(committed: { unjournaled?: boolean }): void {
    this.files.appendedRecords(1);
    if (committed.unjournaled === true) this.files.markBroken();
  }

  get(id: MessageId): Promise<MessageRecord | undefined> {
    return this.load(id);
  }

  /** A record from memory, or from its state file (undefined: no such message). */
  private async load(id: MessageId): Promise<MessageRecord | undefined> {
    const cached = this.cache.get(id);
    if (cached) return cached;
    const at = idTime(id);
    if (!isMessageId(id) || Number.isNaN(at)) return undefined;
    // the id's date, or the day before for ids made a moment after the acceptance time
    for (const day of [at, at - DAY_MS]) {
      const data = await this.reader.read(this.paths.stateFile(id, day)).catch((error: unknown) => {
        throw storageError(error);
      });
      if (!data) continue;
      try {
        return JSON.parse(data.toString('utf8')) as MessageRecord;
      } catch (error) {
        throw new SpoolError(`the state file of ${id} is unreadable`, { cause: error });
      }
    }
    return undefined;
  }

  async list(options: ListOptions): Promise<Page<MessageRecord>> {
    const limit = Math.min(Math.max(Math.floor(options.limit), 1), 1000);
    const ids = options.waiting
      ? this.index.page(options.after, limit + 1)
      : await pageOfIds(this.paths.root, options.after, limit + 1, [...this.cache.unwritten()].map((r) => r.id));
    const page = ids.slice(0, limit);
    const items = (await Promise.all(page.map((id) => this.load(id).catch(() => undefined)))).filter((r): r is MessageRecord => r !== undefined);
    const last = page[page.length - 1];
    return ids.length > limit && last !== undefined ? { items, next: last } : { items };
  }

  async openBody(message: MessageRecord): Promise<AsyncIterable<Buffer>> {
    const first = message.envelope.recipients[0];
    if (first === undefined) throw new SpoolError(`message ${message.id} has no recipients`);
    const path = this.paths.bodyFile(message.id, message.envelope.receivedAt, first);
    if (message.size > this.inlineLimit) return createReadStream(path);
    const body = await this.reader.read(path).catch((error: unknown) => {
      throw storageError(error);
    });
    if (!body) throw new SpoolError(`unknown message ${message.id}`);
    return once(body);
  }

  update(id: MessageId, updates: readonly RecipientUpdate[]): Promise<MessageRecord> {
    return this.exclusive(id, () =>
      this.logging(async () => {
        const current = await this.load(id);
        if (!current) throw new SpoolError(`unknown message ${id}`);
        const next = applyUpdates(current, updates, this.now());
        const due = journalRecordOf(next);
        const frame = encodeRecord({ t: 'state', id, receivedAt: next.envelope.receivedAt, recipients: next.recipients }).frame;
        const committed = await this.wal.append(frame, encodeJournalRecord(due)).catch((error: unknown) => {
          throw storageError(error);
        });
        this.journaled(committed);
        // durable in the log now; the state file is rewritten at the next checkpoint
        this.track(committed.seq, Promise.resolve([]), id);
        this.cache.changed(next);
        applyRecords(this.index, [due]);
        if (due.kind === 'set' && !this.index.isClaimed(id)) this.wakeSubject.next();
        return next;
      }),
    );
  }

  async claim(now: number, limit: number): Promise<readonly ClaimedMessage[]> {
    const popped = this.index.popDue(now, limit);
    const loaded = await Promise.all(popped.map(({ id }) => this.load(id).then((record) => ({ record }), (error: unknown) => ({ error }))));
    const claimed: ClaimedMessage[] = [];
    popped.forEach(({ id, forced }, i) => {
      const result = loaded[i];
      if (!this.index.isClaimed(id)) return; // removed while it was read
      if (!result || 'error' in result) {
        this.index.release(id, now + UNREADABLE_WAIT_MS); // an I/O error: try again later, never drop it
        return;
      }
      const { record } = result;
      if (!record) {
        this.index.drop(id);
        return;
      }
      const due = record.recipients.filter((r) => isWaiting(r.status) && (forced || r.nextAttemptAt <= now));
      if (due.length === 0) {
        // due early (a stale time): back to the heap at the record's own next attempt
        applyRecords(this.index, [journalRecordOf(record)]);
        this.index.release(id);
        return;
      }
      this.cache.claim(record);
      claimed.push({ record, due });
    });
    return claimed;
  }

  release(id: MessageId, notBefore?: number): Promise<void> {
    this.index.release(id, notBefore);
    this.cache.release(id);
    this.wakeSubject.next();
    return Promise.resolve();
  }

  nextDueAt(): Promise<number | undefined> {
    return Promise.resolve(this.index.nextDue());
  }

  depth(): Promise<number> {
    return Promise.resolve(this.index.depth);
  }

  shape(): Promise<readonly ShapeCell[]> {
    return Promise.resolve(this.index.shape());
  }

  /**
   * Retry now, in memory: the due index makes the messages due with all their
   * waiting recipients (the next claim takes them; a restart before that
   * goes back to their recorded times). Messages already partly due are
   * counted from their records.
   */
  async retryNow(id?: MessageId): Promise<number> {
    const now = this.now();
    const { moved, partly } = this.index.force(now, id);
    let count = moved;
    for (const pid of partly) {
      const record = await this.load(pid).catch(() => undefined);
      count += record?.recipients.filter((r) => isWaiting(r.status) && r.nextAttemptAt > now).length ?? 0;
    }
    if (count > 0) this.wakeSubject.next();
    return count;
  }

  remove(id: MessageId): Promise<boolean> {
    return this.exclusive(id, () =>
      this.logging(async () => {
        const record = await this.load(id);
        if (!record) return false;
        const { receivedAt, recipients } = record.envelope;
        const del = encodeRecord({ t: 'del', id, receivedAt, recipients }).frame;
        const committed = await this.wal.append(del, encodeJournalRecord({ kind: 'drop', id })).catch((error: unknown) => {
          throw storageError(error);
        });
        this.journaled(committed);
        this.index.drop(id);
        this.cache.delete(id);
        await this.materializer.remove(id, receivedAt, recipients);
        return true;
      }),
    );
  }

  expire(before: number, limit: number): Promise<{ readonly removed: number; readonly more: boolean }> {
    const deps = { root: this.paths.root, waiting: (id: MessageId) => this.index.has(id), load: (id: MessageId) => this.load(id), remove: (id: MessageId) => this.remove(id) };
    return expireFinished({ ...deps, unwritten: [...this.cache.unwritten()].map((r) => r.id) }, before, limit);
  }

  async check(): Promise<void> {
    const probe = join(this.paths.tmp, `.probe-${process.pid}`);
    await writeFile(probe, 'ok', { mode: 0o600 });
    await unlink(probe);
  }

  /** Seals the current log segment, syncs what its records placed, drops it; rewrites the due journal when it has grown. */
  checkpoint(): Promise<void> {
    if (this.checkpointing) return this.checkpointing;
    const compact = this.files.needsCompaction(this.index.size);
    if (this.wal.bytes === 0 && this.unsynced.size === 0 && !compact) return Promise.resolve();
    this.checkpointing = this.runCheckpoint()
      .then(() => (this.files.needsCompaction(this.index.size) ? this.compactJournal() : undefined))
      .finally(() => {
        this.checkpointing = undefined;
      });
    return this.checkpointing;
  }

  /** Rewrites the due journal from the index (start-up without one, or grown past twice the queue). */
  compactJournal(): Promise<void> {
    return this.files.compact(this.wal, this.index, () => Promise.all([...this.inflight]).then(() => undefined));
  }

  private async runCheckpoint(): Promise<void> {
    const sealed = await this.wal.rotate();
    if (sealed === this.wal.segment) return; // could not rotate; try again later
    await Promise.all([...this.inflight]);
    const segments = [...this.unsynced.keys()].filter((s) => s <= sealed);
    const placed: string[] = [this.files.path];
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

  /** Writes a message's state file from memory (under its lock, so a removal cannot interleave); the record may then leave memory. */
  private writeStateFile(id: MessageId): Promise<string | undefined> {
    return this.exclusive(id, async () => {
      const pending = this.cache.toWrite(id);
      if (!pending) return undefined;
      const path = this.paths.stateFile(id, pending.record.envelope.receivedAt);
      await this.wal.writeState(path, JSON.stringify(pending.record));
      this.cache.written(id, pending.version);
      return path;
    });
  }

  /** Runs log work the next checkpoint (and journal compaction) must wait for (see `inflight`). */
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
    await this.reader.close();
    this.wakeSubject.complete();
  }
}

/** What the due index must know of a record: when it is next due and who waits where, or that nothing waits. */
export function journalRecordOf(record: MessageRecord): JournalRecord {
  let due = Infinity;
  let last = -Infinity;
  const domains = new Map<string, number>();
  for (const r of record.recipients) {
    if (!isWaiting(r.status)) continue;
    due = Math.min(due, r.nextAttemptAt);
    last = Math.max(last, r.nextAttemptAt);
    const domain = domainOf(r.recipient);
    domains.set(domain, (domains.get(domain) ?? 0) + 1);
  }
  if (domains.size === 0) return { kind: 'drop', id: record.id };
  const entry: DueEntry = { id: record.id, due, last, domains: [...domains] };
  return { kind: 'set', entry };
}

function* replayedRecords(states: ReadonlyMap<MessageId, MessageRecord['recipients'] | undefined>): Generator<JournalRecord> {
  for (const [id, recipients] of states) {
    if (!recipients) yield { kind: 'drop', id };
    else yield journalRecordOf({ id, recipients, envelope: { sender: '', recipients: [], clientAddress: '', heloName: '', receivedAt: 0 }, size: 0 });
  }
}

/**
 * A spool without a due journal (made before it existed, or whose `due/`
 * folder was removed): the waiting messages are found by reading every state
 * file once, and bodies without a state file (left by a crash of an older
 * version mid-store) are removed.
 */
async function rebuildRecords(paths: SpoolPaths): Promise<JournalRecord[]> {
  const records: JournalRecord[] = [];
  for (const dir of (await readdir(paths.root)).filter(isDateDir)) {
    const full = join(paths.root, dir);
    const names = await readdir(full);
    const known = new Set<string>();
    for (const name of names.filter((n) => n.endsWith('.json') && isMessageId(n.slice(0, -5)))) {
      try {
        const record = JSON.parse(await readFile(join(full, name), 'utf8')) as MessageRecord;
        known.add(record.id);
        const due = journalRecordOf(record);
        if (due.kind === 'set') records.push(due);
      } catch {
        known.add(name.slice(0, -5)); // unreadable state file: left for the operator, never a crash at start-up
      }
    }
    for (const name of names) if (name.endsWith('.eml') && !known.has(name.slice(0, 20))) await unlink(join(full, name)).catch(() => undefined);
  }
  return records;
}

/** One buffer as a stream of one chunk. */
function once(body: Buffer): AsyncIterable<Buffer> {
  return {
    [Symbol.asyncIterator]: () => {
      let done = false;
      return { next: () => Promise.resolve(done ? { done: true, value: undefined } : ((done = true), { done: false, value: body })) };
    },
  };
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
