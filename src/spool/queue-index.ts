import type { DueRecipient } from '../domain/delivery.js';
import type { MessageId, MessageRecord, RecipientState } from '../domain/envelope.js';
import { domainOf, isFinished } from '../domain/envelope.js';
import type { RecipientUpdate } from './spool.js';

interface Entry {
  record: MessageRecord;
  /** recipient → lease expiry (ms). */
  readonly claims: Map<string, number>;
}

/**
 * In-memory view of the queue for one process: records by id, which messages
 * still have work, and claims (leases) on recipients being attempted.
 */
export class QueueIndex {
  private readonly entries = new Map<MessageId, Entry>();
  private readonly active = new Set<MessageId>();

  get size(): number {
    return this.entries.size;
  }

  get(id: MessageId): MessageRecord | undefined {
    return this.entries.get(id)?.record;
  }

  all(): MessageRecord[] {
    return [...this.entries.values()].map((e) => e.record).sort((a, b) => a.envelope.receivedAt - b.envelope.receivedAt || (a.id < b.id ? -1 : 1));
  }

  put(record: MessageRecord): void {
    const entry = this.entries.get(record.id);
    if (entry) entry.record = record;
    else this.entries.set(record.id, { record, claims: new Map() });
    if (record.recipients.some((r) => !isFinished(r.status))) this.active.add(record.id);
    else this.active.delete(record.id);
  }

  delete(id: MessageId): void {
    this.entries.delete(id);
    this.active.delete(id);
  }

  claimDue(now: number, limit: number, leaseMs: number): DueRecipient[] {
    const due: DueRecipient[] = [];
    for (const id of this.active) {
      if (due.length >= limit) break;
      const entry = this.entries.get(id);
      if (!entry) continue;
      for (const r of entry.record.recipients) {
        if (due.length >= limit) break;
        if (!isWaiting(r) || r.nextAttemptAt > now) continue;
        const lease = entry.claims.get(r.recipient);
        if (lease !== undefined && lease > now) continue;
        entry.claims.set(r.recipient, now + leaseMs);
        due.push({
          id,
          recipient: r.recipient,
          domain: domainOf(r.recipient),
          attempts: r.attempts,
          receivedAt: entry.record.envelope.receivedAt,
        });
      }
    }
    return due;
  }

  release(id: MessageId, recipients: readonly string[]): void {
    const entry = this.entries.get(id);
    for (const r of recipients) entry?.claims.delete(r);
  }

  nextDueAt(now: number): number | undefined {
    let next: number | undefined;
    for (const id of this.active) {
      const entry = this.entries.get(id);
      if (!entry) continue;
      for (const r of entry.record.recipients) {
        if (!isWaiting(r)) continue;
        const lease = entry.claims.get(r.recipient);
        const at = lease !== undefined && lease > now ? Math.max(lease, r.nextAttemptAt) : r.nextAttemptAt;
        if (next === undefined || at < next) next = at;
      }
    }
    return next;
  }

  /** Queued or deferred recipients across all messages. */
  waiting(): number {
    let count = 0;
    for (const id of this.active) count += this.entries.get(id)?.record.recipients.filter(isWaiting).length ?? 0;
    return count;
  }

  /** Recipients of one message (or all) that are deferred: candidates for "retry now". */
  deferred(id?: MessageId): Map<MessageId, string[]> {
    const out = new Map<MessageId, string[]>();
    const ids = id === undefined ? [...this.active] : [id];
    for (const mid of ids) {
      const record = this.entries.get(mid)?.record;
      const waiting = record?.recipients.filter(isWaiting).map((r) => r.recipient) ?? [];
      if (waiting.length > 0) out.set(mid, waiting);
    }
    return out;
  }
}

function isWaiting(r: RecipientState): boolean {
  return r.status === 'queued' || r.status === 'deferred';
}

/** Applies updates to a record's recipients (pure). Unknown recipients are ignored. */
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
