/**
 * The Redis spool: the `Spool` interface backed by one Redis, so several
 * daemons share one queue (SPEC §4, last bullet). This file is the facade:
 * it opens the connections, owns their lifecycle and hands each call to the
 * module under `redis/` that does it:
 *
 * - `redis/store.ts`: storing a message (body, then one atomic commit) and
 *   reading its body back; what a 250 is worth is `redis/durability.ts`,
 *   whose notice is logged at start-up;
 * - `redis/claims.ts`: claims without leases, taken over from dead nodes;
 * - `redis/node-presence.ts`: this node's heartbeat and the wake-ups;
 * - `redis/state-changes.ts`: recipient updates and retries, with the
 *   counters (`depth`, `shape`) changed in the same atomic step;
 * - `redis/listing.ts`, `redis/retention.ts`, `redis/commit.ts`: listing,
 *   the retention sweep, commit and removal. Key layout: `redis/keys.ts`.
 *
 * Outages: commands fail at once while Redis is unreachable (no offline
 * queue; `commandTimeoutMs` for a Redis that hangs), so `store` rejects with
 * SpoolError and the client gets 451; `check` (readiness) fails. ioredis
 * reconnects in the background; the queue lives in Redis, so nothing queued
 * is lost, and the reconnect wakes the scheduler.
 *
 * Retention: a message whose recipients are all finished gets an expiry of
 * `retentionDays` (body too) on its last update, besides the daemon's
 * retention sweeper (`expire`).
 */
import type { Redis } from 'ioredis';
import type { Observable } from 'rxjs';
import type { ClaimedMessage } from '../domain/delivery.js';
import type { Envelope, MessageId, MessageRecord } from '../domain/envelope.js';
import { claimMessages, nextDue, releaseClaim, type ClaimNode } from './redis/claims.js';
import { removeMessage } from './redis/commit.js';
import { connect, safeUrl } from './redis/connection.js';
import {
  evictionNotice,
  persistenceNotice,
  readEvictionPolicy,
  readPersistence,
  type PersistenceNotice,
} from './redis/durability.js';
import { parseShapeField, redisKeys, type RedisKeys } from './redis/keys.js';
import { listPage } from './redis/listing.js';
import { NodePresence } from './redis/node-presence.js';
import { decodeRecord } from './redis/record.js';
import { guarded } from './redis/replies.js';
import { storageError } from './storage-error.js';
import { expireFinished } from './redis/retention.js';
import { retryWaiting, updateRecipients } from './redis/state-changes.js';
import { openStoredBody, storeMessage } from './redis/store.js';
import {
  SpoolError,
  type ListOptions,
  type Page,
  type RecipientUpdate,
  type ShapeCell,
  type Spool,
  type SpoolLogger,
} from './spool.js';

export interface RedisSpoolOptions {
  /** `redis://…` or `rediss://…` (SMTP_REDIS_URL). */
  readonly url: string;
  /** Prefix of every key and of the wake-up channel (SMTP_REDIS_PREFIX). */
  readonly prefix: string;
  readonly now?: () => number;
  readonly logger?: SpoolLogger;
  /** Finished messages expire after this many days (SMTP_RETENTION_DAYS). Default 7. */
  readonly retentionDays?: number;
  /** A node that has not heartbeaten for this long is dead; its claims are taken over. Default 10 s. */
  readonly nodeTtlMs?: number;
  /** A command without a reply by then fails. Default 5 s. */
  readonly commandTimeoutMs?: number;
  /** Default 5 s. */
  readonly connectTimeoutMs?: number;
  /** A body being received vanishes after this long without a write (crashed writer). Default 15 min. */
  readonly tmpIdleTtlMs?: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Connects, checks what Redis' persistence settings make of a 250 (logged),
 * subscribes to wake-ups and starts the heartbeat. Rejects with SpoolError
 * when Redis cannot be reached.
 */
export async function openRedisSpool(options: RedisSpoolOptions): Promise<Spool> {
  const keys = redisKeys(options.prefix);
  const connection = {
    url: options.url,
    commandTimeoutMs: options.commandTimeoutMs ?? 5_000,
    connectTimeoutMs: options.connectTimeoutMs ?? 5_000,
  };
  const { redis, subscriber } = await connect(connection, keys.wake);
  try {
    const notices = [persistenceNotice(await readPersistence(redis)), evictionNotice(await readEvictionPolicy(redis))];
    for (const notice of notices) if (notice) log(options.logger, notice, options.url);
    const spool = new RedisSpool(redis, subscriber, keys, options);
    await spool.heartbeat();
    return spool;
  } catch (error) {
    redis.disconnect();
    subscriber.disconnect();
    throw storageError(error);
  }
}

function log(logger: SpoolLogger | undefined, notice: PersistenceNotice, url: string): void {
  const fields = { component: 'spool', backend: 'redis', redis: safeUrl(url) };
  if (notice.level === 'warn') logger?.warn(fields, notice.message);
  else logger?.info(fields, notice.message);
}

class RedisSpool implements Spool {
  readonly wake$: Observable<void>;
  private readonly now: () => number;
  private readonly presence: NodePresence;
  /** This node as the claim steps take it. */
  private readonly claimer: ClaimNode;
  private readonly retentionMs: number;
  private readonly tmpIdleTtlMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly subscriber: Redis,
    private readonly keys: RedisKeys,
    options: RedisSpoolOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.retentionMs = Math.round((options.retentionDays ?? 7) * DAY_MS);
    const nodeTtlMs = options.nodeTtlMs ?? 10_000;
    this.tmpIdleTtlMs = options.tmpIdleTtlMs ?? 15 * 60_000;
    this.presence = new NodePresence(redis, subscriber, keys, nodeTtlMs, options.url, options.logger);
    this.wake$ = this.presence.wake$;
    this.claimer = {
      redis,
      keys,
      node: this.presence.node,
      nodeTtlMs,
      ...(options.logger ? { logger: options.logger } : {}),
    };
  }

  /** Keeps this node's claims its own. */
  heartbeat(): Promise<void> {
    return this.presence.heartbeat();
  }

  async store(envelope: Envelope, body: AsyncIterable<Buffer>): Promise<MessageRecord> {
    const record = await storeMessage(this.redis, this.keys, envelope, body, this.now, this.tmpIdleTtlMs);
    this.presence.wake();
    return record;
  }

  async get(id: MessageId): Promise<MessageRecord | undefined> {
    const fields = await guarded(() => this.redis.hgetall(this.keys.msg(id)));
    return decodeRecord(id, fields);
  }

  list(options: ListOptions): Promise<Page<MessageRecord>> {
    return listPage(this.redis, this.keys, options);
  }

  openBody(message: MessageRecord): Promise<AsyncIterable<Buffer>> {
    return openStoredBody(this.redis, this.keys, message);
  }

  async update(id: MessageId, updates: readonly RecipientUpdate[]): Promise<MessageRecord> {
    const { record, requeued } = await updateRecipients(
      this.redis,
      this.keys,
      id,
      updates,
      this.now(),
      this.retentionMs,
    );
    // A claimed message comes back with its release (which wakes); an unclaimed one may be due sooner now.
    if (requeued) this.presence.wake();
    return record;
  }

  claim(now: number, limit: number): Promise<readonly ClaimedMessage[]> {
    return claimMessages(this.claimer, now, limit);
  }

  async release(id: MessageId, notBefore?: number): Promise<void> {
    if (await releaseClaim(this.claimer, id, notBefore)) this.presence.wake();
  }

  nextDueAt(): Promise<number | undefined> {
    return nextDue(this.claimer, this.now());
  }

  async depth(): Promise<number> {
    const count = await guarded(() => this.redis.get(this.keys.depth));
    return Math.max(0, Number(count ?? 0));
  }

  /** The head of the `waiting` zset (scored by arrival): O(log n). */
  async oldestWaitingAt(): Promise<number | undefined> {
    const [, score] = await guarded(() => this.redis.zrange(this.keys.waiting, 0, 0, 'WITHSCORES'));
    return score === undefined ? undefined : Number(score);
  }

  async shape(): Promise<readonly ShapeCell[]> {
    const fields = await guarded(() => this.redis.hgetall(this.keys.shape));
    const cells: ShapeCell[] = [];
    for (const [name, count] of Object.entries(fields)) {
      const cell = parseShapeField(name);
      const recipients = Number(count);
      if (cell && recipients > 0) cells.push({ ...cell, recipients });
    }
    return cells;
  }

  async retryNow(id?: MessageId): Promise<number> {
    const changed = await retryWaiting(this.redis, this.keys, this.now(), id);
    this.presence.wake();
    return changed;
  }

  async remove(id: MessageId): Promise<boolean> {
    const record = await this.get(id);
    const existed = await guarded(() => removeMessage(this.redis, this.keys, record ?? { id, recipients: [] }));
    return record !== undefined && existed;
  }

  expire(before: number, limit: number): Promise<{ readonly removed: number; readonly more: boolean }> {
    return expireFinished(this.redis, this.keys, before, limit);
  }

  async check(): Promise<void> {
    if (this.presence.closed) throw new SpoolError('spool is closed');
    await guarded(() => this.redis.ping());
  }

  async close(): Promise<void> {
    if (this.presence.closed) return;
    this.presence.stop();
    // Claims still held (an attempt cut short) are handed back once our
    // heartbeat lapses, as after a crash; the scheduler released the rest.
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
    await this.redis.quit().catch(() => this.redis.disconnect());
    this.presence.end();
  }
}
