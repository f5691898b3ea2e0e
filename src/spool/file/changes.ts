/**
 * Every change to the file spool, in log order: a message stored, its
 * recipients' states updated, a message removed. Each is appended to the
 * write-ahead log (with its due-journal record) under the message's lock,
 * then reflected in memory (record cache, due index) and tracked for the
 * next checkpoint, which writes state files from memory (`writeStateFile`).
 *
 * In: envelopes and bodies, updates, removals. Out: committed records;
 * `wake` whenever a message may have become due.
 */
import type { Envelope, MessageId, MessageRecord } from '../../domain/envelope.js';
import { newMessageId } from '../id.js';
import { applyUpdates, initialRecord } from '../records.js';
import { SpoolError, type RecipientUpdate } from '../spool.js';
import { storageError } from '../storage-error.js';
import { discard, type BodyIntake } from './body-intake.js';
import type { Checkpointer } from './checkpointer.js';
import { applyRecords, type DueFiles } from './due-files.js';
import type { DueIndex } from './due-index.js';
import { encodeJournalRecord, journalRecordOf } from './due-journal.js';
import type { GroupCommitLog } from './group-commit-log.js';
import { KeyedLock } from './keyed-lock.js';
import type { Materializer } from './materialize.js';
import type { SpoolPaths } from './paths.js';
import type { RecordCache } from './record-cache.js';
import { encodeRecord } from './wal-record.js';

export interface ChangeDeps {
  readonly paths: SpoolPaths;
  readonly wal: GroupCommitLog;
  readonly materializer: Materializer;
  readonly index: DueIndex;
  readonly files: DueFiles;
  readonly cache: RecordCache;
  readonly intake: BodyIntake;
  readonly checkpoints: Checkpointer;
  readonly load: (id: MessageId) => Promise<MessageRecord | undefined>;
  readonly now: () => number;
  readonly wake: () => void;
}

export class SpoolChanges {
  private readonly locks = new KeyedLock<MessageId>();
  private readonly paths: SpoolPaths;
  private readonly wal: GroupCommitLog;
  private readonly materializer: Materializer;
  private readonly index: DueIndex;
  private readonly files: DueFiles;
  private readonly cache: RecordCache;
  private readonly intake: BodyIntake;
  private readonly checkpoints: Checkpointer;

  constructor(private readonly deps: ChangeDeps) {
    ({
      paths: this.paths,
      wal: this.wal,
      materializer: this.materializer,
      index: this.index,
      files: this.files,
    } = deps);
    ({ cache: this.cache, intake: this.intake, checkpoints: this.checkpoints } = deps);
  }

  async store(envelope: Envelope, body: AsyncIterable<Buffer>): Promise<MessageRecord> {
    const recipients = [...new Set(envelope.recipients)];
    if (recipients.length === 0) throw new SpoolError('a message needs at least one recipient');
    // the id carries the acceptance time: its date names the message's folder
    const id = newMessageId(envelope.receivedAt);
    const tmpBody = this.paths.tmpBody(id);
    const { inline, size } = await this.intake.receive(tmpBody, body);
    const record = initialRecord(id, { ...envelope, recipients }, size, this.deps.now());
    await this.checkpoints.logging(() =>
      inline ? this.commitInline(record, inline, size) : this.commitSpilled(record, tmpBody),
    );
    this.deps.wake();
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
      this.checkpoints.track(
        committed.seq,
        Promise.resolve([...committed.placed, this.paths.dateDir(envelope.receivedAt)]),
        id,
      );
    } catch (error) {
      throw storageError(error);
    } finally {
      this.intake.release(size);
    }
  }

  /** A large body is already fsynced in tmp/: it is renamed into place after its record commits. */
  private async commitSpilled(record: MessageRecord, tmpBody: string): Promise<void> {
    const { id } = record;
    const due = journalRecordOf(record);
    let segment: number;
    try {
      const committed = await this.wal.append(
        encodeRecord({ t: 'msg', record, inline: false }).frame,
        encodeJournalRecord(due),
      );
      this.journaled(committed);
      segment = committed.seq;
    } catch (error) {
      await discard(tmpBody);
      throw storageError(error);
    }
    const placing = this.materializer.place(record, tmpBody);
    this.checkpoints.track(segment, placing, id);
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
    await discard(...placed);
    await this.materializer.remove(id, envelope.receivedAt, envelope.recipients).catch(() => undefined);
  }

  /** After a commit: count its journal record, and note when the journal missed it. */
  private journaled(committed: { unjournaled?: boolean }): void {
    this.files.appendedRecords(1);
    if (committed.unjournaled === true) this.files.markBroken();
  }

  update(id: MessageId, updates: readonly RecipientUpdate[]): Promise<MessageRecord> {
    return this.locks.run(id, () =>
      this.checkpoints.logging(async () => {
        const current = await this.deps.load(id);
        if (!current) throw new SpoolError(`unknown message ${id}`);
        const next = applyUpdates(current, updates, this.deps.now());
        const due = journalRecordOf(next);
        const frame = encodeRecord({
          t: 'state',
          id,
          receivedAt: next.envelope.receivedAt,
          recipients: next.recipients,
        }).frame;
        const committed = await this.wal.append(frame, encodeJournalRecord(due)).catch((error: unknown) => {
          throw storageError(error);
        });
        this.journaled(committed);
        // durable in the log now; the state file is rewritten at the next checkpoint
        this.checkpoints.track(committed.seq, Promise.resolve([]), id);
        this.cache.changed(next);
        applyRecords(this.index, [due]);
        if (due.kind === 'set' && !this.index.isClaimed(id)) this.deps.wake();
        return next;
      }),
    );
  }

  remove(id: MessageId): Promise<boolean> {
    return this.locks.run(id, () =>
      this.checkpoints.logging(async () => {
        const record = await this.deps.load(id);
        if (!record) return false;
        const { receivedAt, recipients } = record.envelope;
        const del = encodeRecord({ t: 'del', id, receivedAt, recipients }).frame;
        const committed = await this.wal
          .append(del, encodeJournalRecord({ kind: 'drop', id }))
          .catch((error: unknown) => {
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

  /**
   * Writes a message's state file from memory (under its lock, so a removal cannot interleave); the record may then
   * leave memory.
   */
  writeStateFile(id: MessageId): Promise<string | undefined> {
    return this.locks.run(id, async () => {
      const pending = this.cache.toWrite(id);
      if (!pending) return undefined;
      const path = this.paths.stateFile(id, pending.record.envelope.receivedAt);
      await this.wal.writeState(path, JSON.stringify(pending.record));
      this.cache.written(id, pending.version);
      return path;
    });
  }
}
