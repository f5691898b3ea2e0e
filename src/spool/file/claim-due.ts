/**
 * Claiming due messages from the file spool: the due index gives the ids,
 * their records are loaded, and each becomes a claim with its due
 * recipients, or goes back to the index: later when its record could not be
 * read (never dropped for an I/O error), at its own time when the index's
 * time was stale, or out of the index when the message is gone.
 */
import type { ClaimedMessage } from '../../domain/delivery.js';
import { isWaiting, type MessageId, type MessageRecord } from '../../domain/envelope.js';
import { applyRecords } from './due-files.js';
import type { DueIndex } from './due-index.js';
import { journalRecordOf } from './due-journal.js';
import type { RecordCache } from './record-cache.js';

/** How long a message whose state file could not be read waits before it is tried again. */
const UNREADABLE_WAIT_MS = 60_000;

type Loaded = { readonly record: MessageRecord | undefined } | { readonly error: unknown };

export async function claimDue(
  index: DueIndex,
  cache: RecordCache,
  load: (id: MessageId) => Promise<MessageRecord | undefined>,
  now: number,
  limit: number,
): Promise<ClaimedMessage[]> {
  const popped = index.popDue(now, limit);
  const loaded = await Promise.all(
    popped.map(({ id }) =>
      load(id).then(
        (record): Loaded => ({ record }),
        (error: unknown): Loaded => ({ error }),
      ),
    ),
  );
  const claimed: ClaimedMessage[] = [];
  popped.forEach(({ id, forced }, i) => {
    const result = loaded[i];
    if (!index.isClaimed(id)) return; // removed while it was read
    if (!result || 'error' in result) {
      index.release(id, now + UNREADABLE_WAIT_MS);
      return;
    }
    const { record } = result;
    if (!record) {
      index.drop(id);
      return;
    }
    const due = record.recipients.filter((r) => isWaiting(r.status) && (forced || r.nextAttemptAt <= now));
    if (due.length === 0) {
      // due early (a stale time): back to the heap at the record's own next attempt
      applyRecords(index, [journalRecordOf(record)]);
      index.release(id);
      return;
    }
    cache.claim(record);
    claimed.push({ record, due });
  });
  return claimed;
}
