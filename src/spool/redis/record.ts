/**
 * A record as a `msg:<id>` hash and back, and what a claim hands out: pure
 * functions, no Redis calls.
 */
import {
  isWaiting,
  type AttemptNote,
  type Envelope,
  type MessageRecord,
  type RecipientState,
  type RecipientStatus,
} from '../../domain/envelope.js';

/** Field names inside a `msg:<id>` hash (see keys.ts). */
export const field = {
  envelope: 'e',
  receivedAt: 't',
  size: 'z',
  queuedAt: 'q',
  status: (r: string) => `s:${r}`,
  attempts: (r: string) => `a:${r}`,
  nextAttemptAt: (r: string) => `n:${r}`,
  updatedAt: (r: string) => `u:${r}`,
  lastResponse: (r: string) => `l:${r}`,
  /** The recipient's last attempts, one JSON `AttemptNote` per line, oldest first. */
  history: (r: string) => `h:${r}`,
  /** When the recipient's delay notice was stored (absent until then). */
  delayNoticeAt: (r: string) => `w:${r}`,
} as const;

/**
 * The recipients a claim at `now` hands out: waiting ones whose next attempt
 * has come, in RCPT order. (`retryNow` writes `now` as the next attempt, so
 * after it every waiting recipient is among them.)
 */
export function dueRecipients(record: MessageRecord, now: number): RecipientState[] {
  return record.recipients.filter((r) => isWaiting(r.status) && r.nextAttemptAt <= now);
}

/** The hash fields of a new record (pure). */
export function encodeRecord(record: MessageRecord): Record<string, string> {
  const fields: Record<string, string> = {
    [field.envelope]: JSON.stringify(record.envelope),
    [field.receivedAt]: String(record.envelope.receivedAt),
    [field.size]: String(record.size),
  };
  if (record.queuedAt !== undefined) fields[field.queuedAt] = String(record.queuedAt);
  for (const r of record.recipients) {
    fields[field.status(r.recipient)] = r.status;
    fields[field.attempts(r.recipient)] = String(r.attempts);
    fields[field.nextAttemptAt(r.recipient)] = String(r.nextAttemptAt);
    fields[field.updatedAt(r.recipient)] = String(r.updatedAt);
    if (r.lastResponse !== undefined) fields[field.lastResponse(r.recipient)] = r.lastResponse;
    if (r.history && r.history.length > 0)
      fields[field.history(r.recipient)] = r.history.map((n) => JSON.stringify(n)).join('\n');
    if (r.delayNoticeAt !== undefined) fields[field.delayNoticeAt(r.recipient)] = String(r.delayNoticeAt);
  }
  return fields;
}

const STATUSES: ReadonlySet<string> = new Set<RecipientStatus>(['queued', 'deferred', 'delivered', 'bounced']);

/** A record from its hash (HGETALL as an object); undefined when absent or unreadable. */
export function decodeRecord(id: string, fields: Readonly<Record<string, string>>): MessageRecord | undefined {
  const json = fields[field.envelope];
  if (json === undefined) return undefined;
  let envelope: Envelope;
  try {
    envelope = JSON.parse(json) as Envelope;
  } catch {
    return undefined;
  }
  const recipients: RecipientState[] = [];
  for (const recipient of envelope.recipients) {
    const status = fields[field.status(recipient)];
    if (status === undefined || !STATUSES.has(status)) return undefined;
    const state: RecipientState = {
      recipient,
      status: status as RecipientStatus,
      attempts: Number(fields[field.attempts(recipient)] ?? 0),
      nextAttemptAt: Number(fields[field.nextAttemptAt(recipient)] ?? envelope.receivedAt),
      updatedAt: Number(fields[field.updatedAt(recipient)] ?? envelope.receivedAt),
    };
    const lastResponse = fields[field.lastResponse(recipient)];
    const history = decodeHistory(fields[field.history(recipient)]);
    const delayNoticeAt = fields[field.delayNoticeAt(recipient)];
    recipients.push({
      ...state,
      ...(lastResponse === undefined ? {} : { lastResponse }),
      ...(history ? { history } : {}),
      ...(delayNoticeAt === undefined ? {} : { delayNoticeAt: Number(delayNoticeAt) }),
    });
  }
  const queuedAt = fields[field.queuedAt];
  const record: MessageRecord = { id, envelope, size: Number(fields[field.size] ?? 0), recipients };
  return queuedAt === undefined ? record : { ...record, queuedAt: Number(queuedAt) };
}

/** A recipient's history field back as notes; a line that does not parse is skipped. */
function decodeHistory(text: string | undefined): AttemptNote[] | undefined {
  if (text === undefined || text === '') return undefined;
  const notes: AttemptNote[] = [];
  for (const line of text.split('\n')) {
    try {
      notes.push(JSON.parse(line) as AttemptNote);
    } catch {
      // a damaged line loses that attempt only
    }
  }
  return notes;
}

/** A flat `[field, value, field, value, …]` reply (HGETALL from a script) as an object. */
export function pairsToObject(flat: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i] as string] = flat[i + 1] as string;
  return out;
}
