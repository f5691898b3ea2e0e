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
 *
 * This file is the facade over its parts: start-up (`file/recovery.ts`),
 * changes in log order (`file/changes.ts`, taking bodies through
 * `file/body-intake.ts`), reads (`file/record-lookup.ts`), claims
 * (`file/claim-due.ts`) and checkpoints (`file/checkpointer.ts`).
 */
import { unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Subject, type Observable } from 'rxjs';
import type { ClaimedMessage } from '../domain/delivery.js';
import { isWaiting, type Envelope, type MessageId, type MessageRecord } from '../domain/envelope.js';
import { BodyIntake } from './file/body-intake.js';
import { SpoolChanges } from './file/changes.js';
import { Checkpointer } from './file/checkpointer.js';
import { claimDue } from './file/claim-due.js';
import type { DueFiles } from './file/due-files.js';
import type { DueIndex } from './file/due-index.js';
import { expireFinished } from './file/expiry.js';
import type { GroupCommitLog } from './file/group-commit-log.js';
import { pageOfIds } from './file/listing.js';
import type { Materializer } from './file/materialize.js';
import { spoolPaths, type SpoolPaths } from './file/paths.js';
import { SpoolReader } from './file/reader.js';
import { RecordCache } from './file/record-cache.js';
import { RecordLookup } from './file/record-lookup.js';
import { recover } from './file/recovery.js';
import type { ListOptions, Page, RecipientUpdate, ShapeCell, Spool, SpoolLogger } from './spool.js';
import { messageOf } from './storage-error.js';

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
  /** Told when a periodic checkpoint fails (once, until one succeeds again). */
  readonly logger?: SpoolLogger;
}

export type FileSpool = Spool & { checkpoint(): Promise<void>; compactJournal(): Promise<void> };

export async function openFileSpool(options: FileSpoolOptions): Promise<FileSpool> {
  const paths = spoolPaths(options.path);
  const { materializer, index, files, wal, hadJournal } = await recover(paths, options.preallocate ?? false);
  const spool = new FileSpoolImpl(paths, materializer, index, files, wal, options);
  if (!hadJournal) await spool.compactJournal(); // a journal for a spool that had none
  return spool;
}

class FileSpoolImpl implements FileSpool {
  private readonly wakeSubject = new Subject<void>();
  readonly wake$: Observable<void> = this.wakeSubject.asObservable();
  private readonly now: () => number;
  private readonly inlineLimit: number;
  private readonly intake: BodyIntake;
  private readonly cache = new RecordCache();
  private readonly lookup: RecordLookup;
  private readonly changes: SpoolChanges;
  private readonly checkpoints: Checkpointer;
  private readonly timer: NodeJS.Timeout;
  private checkpointFailing = false;

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
    this.intake = new BodyIntake(paths.tmp, this.inlineLimit, options.inlineBudget ?? 32 * 1024 * 1024);
    this.lookup = new RecordLookup(paths, this.cache, new SpoolReader(paths.wal), this.inlineLimit);
    this.checkpoints = new Checkpointer({
      paths,
      wal,
      files,
      index,
      writeState: (id) => this.changes.writeStateFile(id),
    });
    const wake = (): void => this.wakeSubject.next();
    const { cache, intake, checkpoints, load } = this;
    this.changes = new SpoolChanges({
      paths,
      wal,
      materializer,
      index,
      files,
      cache,
      intake,
      checkpoints,
      load,
      now: this.now,
      wake,
    });
    const logger = options.logger;
    this.timer = setInterval(() => void this.periodicCheckpoint(logger), options.checkpointMs ?? 2000);
    this.timer.unref();
  }

  store(envelope: Envelope, body: AsyncIterable<Buffer>): Promise<MessageRecord> {
    return this.changes.store(envelope, body);
  }

  update(id: MessageId, updates: readonly RecipientUpdate[]): Promise<MessageRecord> {
    return this.changes.update(id, updates);
  }

  remove(id: MessageId): Promise<boolean> {
    return this.changes.remove(id);
  }

  get(id: MessageId): Promise<MessageRecord | undefined> {
    return this.load(id);
  }

  private readonly load = (id: MessageId): Promise<MessageRecord | undefined> => this.lookup.load(id);

  async list(options: ListOptions): Promise<Page<MessageRecord>> {
    const limit = Math.min(Math.max(Math.floor(options.limit), 1), 1000);
    const ids = options.waiting
      ? this.index.page(options.after, limit + 1)
      : await pageOfIds(
          this.paths.root,
          options.after,
          limit + 1,
          [...this.cache.unwritten()].map((r) => r.id),
        );
    const page = ids.slice(0, limit);
    const items = (await Promise.all(page.map((id) => this.load(id).catch(() => undefined)))).filter(
      (r): r is MessageRecord => r !== undefined,
    );
    const last = page[page.length - 1];
    return ids.length > limit && last !== undefined ? { items, next: last } : { items };
  }

  openBody(message: MessageRecord): Promise<AsyncIterable<Buffer>> {
    return this.lookup.openBody(message);
  }

  claim(now: number, limit: number): Promise<readonly ClaimedMessage[]> {
    return claimDue(this.index, this.cache, this.load, now, limit);
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

  oldestWaitingAt(): Promise<number | undefined> {
    return Promise.resolve(this.index.oldest());
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

  expire(before: number, limit: number): Promise<{ readonly removed: number; readonly more: boolean }> {
    const deps = {
      root: this.paths.root,
      waiting: (id: MessageId) => this.index.has(id),
      load: (id: MessageId) => this.load(id),
      remove: (id: MessageId) => this.remove(id),
    };
    return expireFinished({ ...deps, unwritten: [...this.cache.unwritten()].map((r) => r.id) }, before, limit);
  }

  async check(): Promise<void> {
    const probe = join(this.paths.tmp, `.probe-${process.pid}`);
    await writeFile(probe, 'ok', { mode: 0o600 });
    await unlink(probe);
  }

  checkpoint(): Promise<void> {
    return this.checkpoints.checkpoint();
  }

  /**
   * A checkpoint on the timer. A failure loses nothing (every change stays in
   * the log, which is kept until a checkpoint succeeds) but the log grows:
   * the operator is told once, and again when checkpoints work again.
   */
  private async periodicCheckpoint(logger: SpoolLogger | undefined): Promise<void> {
    try {
      await this.checkpoint();
      if (this.checkpointFailing)
        logger?.info({ component: 'spool', backend: 'file' }, 'spool checkpoints succeed again');
      this.checkpointFailing = false;
    } catch (error) {
      if (!this.checkpointFailing) {
        logger?.warn(
          { component: 'spool', backend: 'file', err: messageOf(error) },
          'spool checkpoint failed; changes stay in the write-ahead log and it is tried again',
        );
      }
      this.checkpointFailing = true;
    }
  }

  compactJournal(): Promise<void> {
    return this.checkpoints.compactJournal();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.checkpoint().catch(() => undefined);
    await this.wal.close();
    await this.lookup.close();
    this.wakeSubject.complete();
  }
}
