/** JSON shapes of the admin API, shared with the CLI client (types only). */
import type { RecipientStatus } from '../domain/envelope.js';
import type { QueueShape } from '../queue/shape.js';

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

/**
 * One page of the queue (`GET /api/queue?limit=&after=`): the waiting
 * recipients of up to `limit` messages, oldest message first.
 */
export interface QueueList {
  /** Entries on this page. */
  readonly count: number;
  /** Recipients waiting in the whole queue (queued or deferred). */
  readonly depth: number;
  readonly recipients: readonly QueueEntry[];
  /** Cursor for the following page (`?after=`); absent on the last page. */
  readonly next?: string;
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

/** One page of stored messages (`GET /api/messages?limit=&after=`), oldest first. */
export interface MessageList {
  /** Messages on this page. */
  readonly count: number;
  readonly messages: readonly MessageView[];
  /** Cursor for the following page (`?after=`); absent on the last page. */
  readonly next?: string;
}

/**
 * `GET /api/queue/shape[?top=N]`: waiting recipients per destination domain
 * and age (Postfix's qshape). `buckets` are upper bounds in minutes; each
 * `counts` has one more column, "older than the last bound". `rows` may be
 * cut to the top N domains; `total` and `domains` always count them all.
 */
export interface QueueShapeView extends QueueShape {
  /** Destination domains with recipients waiting, rows cut by `top` included. */
  readonly domains: number;
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
