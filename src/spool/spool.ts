import type { Observable } from 'rxjs';
import type { DueRecipient } from '../domain/delivery.js';
import type { Envelope, MessageId, MessageRecord, RecipientStatus } from '../domain/envelope.js';

/** A change to one recipient's durable state, written after a delivery attempt. */
export interface RecipientUpdate {
  readonly recipient: string;
  readonly status: RecipientStatus;
  readonly attempts: number;
  readonly nextAttemptAt: number;
  readonly lastResponse?: string;
}

/** Storage failed: the client gets `451 4.3.0`, nothing partial remains. */
export class SpoolError extends Error {
  override readonly name = 'SpoolError';
}

/**
 * The queue's one storage seam. The file and Redis backends implement it and
 * pass the same contract suite. Every mutation is durable when its promise
 * resolves.
 */
export interface Spool {
  /**
   * Streams `body` (the bytes to keep, trace headers included) into storage and
   * resolves once message and envelope are durable. If `body` errors (size limit,
   * client gone) or storage fails, it rejects and leaves nothing behind.
   */
  store(envelope: Envelope, body: AsyncIterable<Buffer>): Promise<MessageRecord>;
  get(id: MessageId): Promise<MessageRecord | undefined>;
  /** All known messages, oldest first. */
  list(): Promise<readonly MessageRecord[]>;
  /** The stored message bytes, streamed. */
  openBody(id: MessageId): Promise<AsyncIterable<Buffer>>;
  /** Durably applies recipient updates; returns the new record. */
  update(id: MessageId, updates: readonly RecipientUpdate[]): Promise<MessageRecord>;
  /**
   * Claims up to `limit` queued/deferred recipients whose next attempt is due at
   * `now`, so no other worker (or daemon) takes them until they are updated,
   * released, or the lease of `leaseMs` runs out.
   */
  claimDue(now: number, limit: number, leaseMs: number): Promise<readonly DueRecipient[]>;
  /** Gives claimed recipients back untouched (shutdown, cancelled attempt). */
  release(id: MessageId, recipients: readonly string[]): Promise<void>;
  /** Earliest next-attempt time of any unclaimed queued/deferred recipient. */
  nextDueAt(): Promise<number | undefined>;
  /** Recipients still waiting for delivery (queued or deferred): the queue depth. */
  depth(): Promise<number>;
  /** Makes deferred recipients of one message (or all) due now. Returns how many. */
  retryNow(id?: MessageId): Promise<number>;
  /** Removes a message and all its state. */
  remove(id: MessageId): Promise<boolean>;
  /** Health probe: resolves when storage is writable/reachable, rejects otherwise. */
  check(): Promise<void>;
  /** Emits whenever recipients may have become due (new mail, retry, release). */
  readonly wake$: Observable<void>;
  close(): Promise<void>;
}
