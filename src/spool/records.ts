/** Message records as both spools make and change them (pure). */
import {
  HISTORY_LIMIT,
  type AttemptNote,
  type MessageId,
  type MessageRecord,
  type RecipientState,
} from '../domain/envelope.js';
import type { RecipientUpdate } from './spool.js';

/** Applies updates to a record's recipients. Unknown recipients are ignored. */
export function applyUpdates(record: MessageRecord, updates: readonly RecipientUpdate[], now: number): MessageRecord {
  const byRecipient = new Map(updates.map((u) => [u.recipient, u]));
  const recipients = record.recipients.map((r): RecipientState => {
    const u = byRecipient.get(r.recipient);
    if (!u) return r;
    const next: RecipientState = {
      recipient: r.recipient,
      status: u.status,
      attempts: u.attempts,
      nextAttemptAt: u.nextAttemptAt,
      updatedAt: now,
    };
    const lastResponse = u.lastResponse ?? r.lastResponse;
    const history = u.note ? appendNote(r.history, u.note) : r.history;
    const delayNoticeAt = u.delayNoticeAt ?? r.delayNoticeAt;
    return {
      ...next,
      ...(lastResponse === undefined ? {} : { lastResponse }),
      ...(history === undefined ? {} : { history }),
      ...(delayNoticeAt === undefined ? {} : { delayNoticeAt }),
    };
  });
  return { ...record, recipients };
}

/** `history` with `note` added, the oldest entries dropped beyond `HISTORY_LIMIT`. */
export function appendNote(history: readonly AttemptNote[] | undefined, note: AttemptNote): readonly AttemptNote[] {
  const all = [...(history ?? []), note];
  return all.length > HISTORY_LIMIT ? all.slice(all.length - HISTORY_LIMIT) : all;
}

/** A new message: every recipient queued, due at once. */
export function initialRecord(
  id: MessageId,
  envelope: MessageRecord['envelope'],
  size: number,
  queuedAt?: number,
): MessageRecord {
  return {
    id,
    envelope,
    size,
    ...(queuedAt === undefined ? {} : { queuedAt }),
    recipients: envelope.recipients.map((recipient) => ({
      recipient,
      status: 'queued',
      attempts: 0,
      nextAttemptAt: envelope.receivedAt,
      updatedAt: envelope.receivedAt,
    })),
  };
}
