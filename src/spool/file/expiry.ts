/**
 * Retention for the file spool: finds finished messages whose last update is
 * before a cutoff. Only date folders up to the cutoff's day are walked, and
 * only messages that arrived before the cutoff (their id's time) are read;
 * messages the due index knows still wait and are skipped unread.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { MessageId, MessageRecord } from '../../domain/envelope.js';
import { isFinished } from '../../domain/envelope.js';
import { stateIds } from './listing.js';
import { idTime } from './message-ids.js';
import { dateDirOf, isDateDir } from './paths.js';

export interface ExpiryDeps {
  readonly root: string;
  /** The message still has waiting recipients (it stays). */
  readonly waiting: (id: MessageId) => boolean;
  readonly load: (id: MessageId) => Promise<MessageRecord | undefined>;
  readonly remove: (id: MessageId) => Promise<boolean>;
  /** Messages whose state file is not written yet (checked first). */
  readonly unwritten: Iterable<MessageId>;
}

/** State files read at once. */
const BATCH = 64;

export function lastUpdateOf(record: MessageRecord): number {
  return record.recipients.reduce((last, s) => Math.max(last, s.updatedAt), record.envelope.receivedAt);
}

export function isExpired(record: MessageRecord, before: number): boolean {
  return (
    record.recipients.length > 0 &&
    record.recipients.every((r) => isFinished(r.status)) &&
    lastUpdateOf(record) < before
  );
}

export async function expireFinished(
  deps: ExpiryDeps,
  before: number,
  limit: number,
): Promise<{ removed: number; more: boolean }> {
  const last = dateDirOf(before);
  const dirs = (await readdir(deps.root).catch(() => [] as string[])).filter((d) => isDateDir(d) && d <= last).sort();
  let removed = 0;
  let batch: MessageId[] = [];
  const flush = async (): Promise<void> => {
    const records = await Promise.all(batch.map((id) => deps.load(id).catch(() => undefined)));
    batch = [];
    for (const record of records) {
      if (removed >= limit) return;
      if (record && isExpired(record, before) && (await deps.remove(record.id))) removed += 1;
    }
  };
  const candidates = async function* (): AsyncGenerator<MessageId> {
    yield* deps.unwritten;
    for (const dir of dirs) yield* stateIds(join(deps.root, dir));
  };
  for await (const id of candidates()) {
    if (idTime(id) >= before || deps.waiting(id)) continue;
    batch.push(id);
    if (batch.length >= BATCH) await flush();
    if (removed >= limit) return { removed, more: true };
  }
  await flush();
  return { removed, more: removed >= limit };
}
