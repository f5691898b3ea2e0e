import { isFinished, type MessageRecord } from '../../domain/envelope.js';
import { dsnOf } from '../../queue/attempt-notes.js';
import type { HistoryEntry, MessageView, QueueEntry } from '../api-types.js';

export function isoTime(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : '';
}

export function messageView(message: MessageRecord): MessageView {
  return {
    id: message.id,
    sender: message.envelope.sender,
    clientAddress: message.envelope.clientAddress,
    heloName: message.envelope.heloName,
    user: message.envelope.user ?? null,
    receivedAt: isoTime(message.envelope.receivedAt),
    size: message.size,
    recipients: message.recipients.map((state) => ({
      recipient: state.recipient,
      status: state.status,
      attempts: state.attempts,
      nextAttemptAt: isoTime(state.nextAttemptAt),
      lastResponse: state.lastResponse ?? null,
      updatedAt: isoTime(state.updatedAt),
    })),
    history: historyOf(message),
  };
}

/**
 * The message's life from its record: the receipt, every kept attempt of
 * every recipient in time order, and `removed` once no recipient waits.
 */
export function historyOf(message: MessageRecord): HistoryEntry[] {
  const { receivedAt } = message.envelope;
  const received: HistoryEntry = {
    time: isoTime(receivedAt),
    event: 'received',
    ...(message.queuedAt === undefined ? {} : { delayMs: Math.max(0, message.queuedAt - receivedAt) }),
  };
  const attempts = message.recipients
    .flatMap((state) =>
      (state.history ?? []).map((n) => ({
        at: n.t,
        entry: {
          time: isoTime(n.t),
          event: n.f,
          recipient: state.recipient,
          ...(n.h === undefined ? {} : { relay: n.h }),
          status: dsnOf(n.r, n.f),
          reply: n.r,
          delayMs: n.d,
        } satisfies HistoryEntry,
      })),
    )
    .sort((a, b) => a.at - b.at)
    .map((x) => x.entry);
  const entries: HistoryEntry[] = [received, ...attempts];
  if (message.recipients.length > 0 && message.recipients.every((s) => isFinished(s.status))) {
    const last = message.recipients.reduce((t, s) => Math.max(t, s.updatedAt), receivedAt);
    entries.push({ time: isoTime(last), event: 'removed' });
  }
  return entries;
}

/** Recipients not finished (queued or deferred), one entry each, oldest message first. */
export function queueEntries(messages: readonly MessageRecord[]): QueueEntry[] {
  return messages.flatMap((message) =>
    message.recipients.flatMap((state): QueueEntry[] =>
      state.status === 'queued' || state.status === 'deferred'
        ? [
            {
              id: message.id,
              recipient: state.recipient,
              status: state.status,
              attempts: state.attempts,
              nextAttemptAt: isoTime(state.nextAttemptAt),
              lastResponse: state.lastResponse ?? null,
              sender: message.envelope.sender,
              receivedAt: isoTime(message.envelope.receivedAt),
              size: message.size,
            },
          ]
        : [],
    ),
  );
}
