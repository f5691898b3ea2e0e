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

/**
 * One step of a message's life: its receipt, each attempt per recipient (the
 * last 20 per recipient are kept), and its leaving the queue.
 */
export interface HistoryEntry {
  /** ISO time. */
  readonly time: string;
  readonly event: 'received' | 'sent' | 'deferred' | 'bounced' | 'expired' | 'removed';
  readonly recipient?: string;
  /** The host dialled, `name[address]:port`. */
  readonly relay?: string;
  /** Enhanced status code (`2.0.0`, `4.4.1`, `5.1.1`). */
  readonly status?: string;
  /** The remote reply, or the daemon's own reason. */
  readonly reply?: string;
  /** `received`: from DATA to the spool; an attempt: since the message arrived. */
  readonly delayMs?: number;
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
  /** Oldest first. */
  readonly history: readonly HistoryEntry[];
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

/** One destination domain in the console's queue view (`GET /api/destinations`). */
export interface DestinationView {
  readonly domain: string;
  /** Recipients waiting (queued or deferred). */
  readonly waiting: number;
  /** Age of the oldest waiting recipient in seconds (to the minute it arrived); null when none wait. */
  readonly oldestAgeSeconds: number | null;
  /** Whether the destination is on hold (`PUT /api/destinations/:domain/hold`). */
  readonly held: boolean;
  /** The latest deferral or bounce seen since the daemon started, if any. */
  readonly lastError: {
    readonly time: string;
    readonly recipient: string;
    readonly outcome: 'deferred' | 'bounced';
    readonly response: string;
  } | null;
}

/** `GET /api/destinations[?top=N]`: most recipients waiting first; held ones always listed. */
export interface DestinationList {
  /** Destination domains with recipients waiting or on hold, rows cut by `top` included. */
  readonly domains: number;
  readonly destinations: readonly DestinationView[];
}

/** `PUT|DELETE /api/destinations/:domain/hold`. */
export interface HoldResult {
  readonly domain: string;
  readonly held: boolean;
  /** False when the destination already was in that state. */
  readonly changed: boolean;
}

/** `GET /api/stats`: samples of the last hour, oldest first (stats.ts). */
export interface StatsView {
  readonly everySeconds: number;
  readonly samples: readonly {
    readonly time: string;
    readonly received: number;
    readonly delivered: number;
    readonly deferred: number;
    readonly bounced: number;
    readonly depth: number;
  }[];
}
