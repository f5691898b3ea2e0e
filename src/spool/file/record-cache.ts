/**
 * The message records the file spool keeps in memory, and only those: a
 * record being delivered (claimed), and a record changed since its state
 * file was last written (the next checkpoint writes it from here). Anything
 * else is read from its state file when asked for. So memory follows the
 * work in flight and the last seconds of changes, never the queue or its
 * history.
 */
import type { MessageId, MessageRecord } from '../../domain/envelope.js';

interface Cached {
  record: MessageRecord;
  claimed: boolean;
  /** Bumped by every change; `written` is the version the state file has. */
  version: number;
  written: number;
}

export class RecordCache {
  private readonly entries = new Map<MessageId, Cached>();

  get size(): number {
    return this.entries.size;
  }

  get(id: MessageId): MessageRecord | undefined {
    return this.entries.get(id)?.record;
  }

  has(id: MessageId): boolean {
    return this.entries.has(id);
  }

  /** A new or changed record: kept until its state file has this version. */
  changed(record: MessageRecord): void {
    const entry = this.entries.get(record.id);
    if (entry) {
      entry.record = record;
      entry.version += 1;
    } else {
      this.entries.set(record.id, { record, claimed: false, version: 1, written: 0 });
    }
  }

  /** A record read from its state file, kept while it is delivered. */
  claim(record: MessageRecord): void {
    const entry = this.entries.get(record.id);
    if (entry) entry.claimed = true;
    else this.entries.set(record.id, { record, claimed: true, version: 0, written: 0 });
  }

  release(id: MessageId): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    entry.claimed = false;
    this.evictIfDone(id, entry);
  }

  /** What a checkpoint should write for `id` now, and the version it is. */
  toWrite(id: MessageId): { record: MessageRecord; version: number } | undefined {
    const entry = this.entries.get(id);
    return entry && entry.version > entry.written ? { record: entry.record, version: entry.version } : undefined;
  }

  /** The state file now holds `version`. */
  written(id: MessageId, version: number): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    entry.written = Math.max(entry.written, version);
    this.evictIfDone(id, entry);
  }

  delete(id: MessageId): void {
    this.entries.delete(id);
  }

  /** Records whose state file does not exist yet (new since the last checkpoint). */
  *unwritten(): Generator<MessageRecord> {
    for (const entry of this.entries.values()) if (entry.written === 0 && entry.version > 0) yield entry.record;
  }

  private evictIfDone(id: MessageId, entry: Cached): void {
    if (!entry.claimed && entry.written >= entry.version) this.entries.delete(id);
  }
}
