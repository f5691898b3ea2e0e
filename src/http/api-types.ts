/** JSON shapes of the admin API, shared with the CLI client (types only). */
import type { RecipientStatus } from '../domain/envelope.js';

/** One recipient still waiting for delivery (`GET /api/queue`). */
export interface QueueEntry {
  readonly id: string;
  readonly recipient: string;
  readonly status: 'queued' | 'deferred';
  readonly attempts: number;
  readonly nextAttemptAt: string;
  readonly lastResponse: string | null;
  readonly sender: string;
  readonly receivedAt: string;
  readonly size: number;
}

export interface QueueList {
  readonly count: number;
  readonly recipients: readonly QueueEntry[];
}

export interface RecipientView {
  readonly recipient: string;
  readonly status: RecipientStatus;
  readonly attempts: number;
  readonly nextAttemptAt: string;
  readonly lastResponse: string | null;
  readonly updatedAt: string;
}

/** A stored message (`GET /api/messages/:id`); times are ISO strings. */
export interface MessageView {
  readonly id: string;
  readonly sender: string;
  readonly clientAddress: string;
  readonly heloName: string;
  readonly user: string | null;
  readonly receivedAt: string;
  readonly size: number;
  readonly recipients: readonly RecipientView[];
}

export interface MessageList {
  readonly count: number;
  readonly messages: readonly MessageView[];
}

export interface FlushResult {
  readonly retried: number;
}

export interface RetryResult {
  readonly id: string;
  readonly retried: number;
}

export interface RemoveResult {
  readonly id: string;
  readonly removed: true;
}

export interface AuditSwitchState {
  readonly enabled: boolean;
}
