/** Message records as both spools make and change them (pure). */
import type { MessageId, MessageRecord, RecipientState } from '../domain/envelope.js';
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
    return lastResponse === undefined ? next : { ...next, lastResponse };
  });
  return { ...record, recipients };
}

/** A new message: every recipient queued, due at once. */
export function initialRecord(id: MessageId, envelope: MessageRecord['envelope'], size: number): MessageRecord {
  return {
    id,
    envelope,
    size,
    recipients: envelope.recipients.map((recipient) => ({
      recipient,
      status: 'queued',
      attempts: 0,
      nextAttemptAt: envelope.receivedAt,
      updatedAt: envelope.receivedAt,
    })),
  };
}
