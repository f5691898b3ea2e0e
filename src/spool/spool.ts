import type { Observable } from 'rxjs';
import type { ClaimedMessage } from '../domain/delivery.js';
import type { AttemptNote, Envelope, MessageId, MessageRecord, RecipientStatus } from '../domain/envelope.js';
import type { Logger } from '../log/logger.js';

/** Where a spool reports trouble it handles itself (a lost connection, a failed background checkpoint). */
export type SpoolLogger = Pick<Logger, 'info' | 'warn'>;

/** A change to one recipient's durable state, written after a delivery attempt. */
export interface RecipientUpdate {
  readonly recipient: string;
  readonly status: RecipientStatus;
  readonly attempts: number;
  readonly nextAttemptAt: number;
  readonly lastResponse?: string;
  /** The attempt to add to the recipient's history (the spool keeps the newest `HISTORY_LIMIT`). */
  readonly note?: AttemptNote;
  /** The delay notice was stored at this time (kept from then on, so it is sent once). */
  readonly delayNoticeAt?: number;
}

/** Storage failed: the client gets `451 4.3.0`, nothing partial remains. */
export class SpoolError extends Error {
  override readonly name = 'SpoolError';
}

/** One page of a listing, oldest message first; `next` continues after the last item. */
export interface Page<T> {
  readonly items: readonly T[];
  /** Cursor for the following page; absent on the last page. */
  readonly next?: string;
}

export interface ListOptions {
  /** Cursor from the previous page's `next`. */
  readonly after?: string;
  /** Most items on the page (1..1000). */
  readonly limit: number;
  /** Only messages with recipients still waiting (queued or deferred). */
  readonly waiting?: boolean;
}

/** Waiting recipients of one destination domain that arrived in one minute (`minute`: its start, ms). */
export interface ShapeCell {
  readonly domain: string;
  readonly minute: number;
  readonly recipients: number;
}

/**
 * The queue's one storage seam. The file and Redis backends implement it and
 * pass the same contract suite (test/spool/contract.ts). Every mutation is
 * durable when its promise resolves. Nothing here reads the whole queue: a
 * claim costs the same with a thousand or a million recipients waiting, and
 * listings come a page at a time.
 */
export interface Spool {
  /**
   * Streams `body` (the bytes to keep, trace headers included) into storage and
   * resolves once message and envelope are durable. If `body` errors (size limit,
   * client gone) or storage fails, it rejects and leaves nothing behind.
   */
  store(envelope: Envelope, body: AsyncIterable<Buffer>): Promise<MessageRecord>;
  get(id: MessageId): Promise<MessageRecord | undefined>;
  /** Messages oldest first, one page at a time. */
  list(options: ListOptions): Promise<Page<MessageRecord>>;
  /** The stored message bytes, streamed. */
  openBody(message: MessageRecord): Promise<AsyncIterable<Buffer>>;
  /** Durably applies recipient updates; returns the new record. A claim stays until `release`. */
  update(id: MessageId, updates: readonly RecipientUpdate[]): Promise<MessageRecord>;
  /**
   * Claims up to `limit` whole messages with a waiting recipient due at `now`,
   * earliest due first, so no other claim (in this daemon or another) takes
   * them until they are released. Each comes with its record and the
   * recipients due now (every waiting one after `retryNow`).
   */
  claim(now: number, limit: number): Promise<readonly ClaimedMessage[]>;
  /**
   * Ends a claim. Recipients still waiting become claimable at their next
   * attempt, or not before `notBefore` (a destination that is busy or
   * throttled; not written to the recipients' state).
   */
  release(id: MessageId, notBefore?: number): Promise<void>;
  /** Earliest time an unclaimed waiting message falls due (or a dead daemon's claims come back). */
  nextDueAt(): Promise<number | undefined>;
  /** Recipients still waiting for delivery (queued or deferred), claimed ones included: the queue depth. */
  depth(): Promise<number>;
  /**
   * When the oldest message with a waiting recipient (claimed ones included) arrived, ms; undefined when
   * none waits. Read from an index, never by walking the queue: a metrics scrape asks at every scrape.
   */
  oldestWaitingAt(): Promise<number | undefined>;
  /** Waiting recipients per destination domain and minute of arrival (`qshape`'s input). */
  shape(): Promise<readonly ShapeCell[]>;
  /** Makes the waiting recipients of one message (or all) due now. Returns how many recipients. */
  retryNow(id?: MessageId): Promise<number>;
  /** Removes a message and all its state. */
  remove(id: MessageId): Promise<boolean>;
  /**
   * Retention: removes up to `limit` finished messages (every recipient
   * delivered or bounced) whose last update is before `before`. Looks only at
   * messages that arrived before `before`. Returns how many it removed and
   * whether more may qualify.
   */
  expire(before: number, limit: number): Promise<{ readonly removed: number; readonly more: boolean }>;
  /** Health probe: resolves when storage is writable/reachable, rejects otherwise. */
  check(): Promise<void>;
  /** Emits whenever messages may have become due (new mail, retry, release). */
  readonly wake$: Observable<void>;
  close(): Promise<void>;
}
