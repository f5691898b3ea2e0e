import type { MessageRecord } from '../../domain/envelope.js';
import type { MessageView, QueueEntry } from '../api-types.js';

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
  };
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
