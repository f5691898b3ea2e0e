/**
 * The Redis spool: the `Spool` interface backed by one Redis, so several
 * daemons share one queue (SPEC §4, last bullet). Key layout in
 * `redis/keys.ts`; the atomic steps in `redis/claim-scripts.ts` and
 * `redis/state-scripts.ts`; the store commit, listing and retention in their
 * own modules under `redis/`.
 *
 * Claims. A claim takes a whole message out of `due` and records its owner
 * (`claims`, `owners`, `held:<node>`). It has no lease: it stays until the
 * owner releases it, however long an attempt takes. Each node heartbeats a
 * liveness entry (`nodes`, on the Redis clock) every `nodeTtlMs / 4`; a node
 * that stopped for `nodeTtlMs` (the daemon died) is dead, and any other
 * node's next claim first hands the dead node's claims back to `due`. So a
 * dead daemon's work resumes elsewhere after about `nodeTtlMs`, and
 * `nextDueAt` includes that moment so the survivors' schedulers wake for it.
 *
 * Counters. `depth` (waiting recipients) and `shape` (waiting recipients per
 * domain and minute of arrival) change in the same atomic step as the
 * recipient states they count (store, update, remove), so reading them costs
 * one command however big the queue is.
 *
 * Durability: `store` resolves only after Redis acknowledged every write; the
 * body is APPENDed in chunks to a temporary key (with an idle expiry) and one
 * MULTI/EXEC renames it into place and writes the record, its indexes and
 * its counts. What that acknowledgement is worth depends on the Redis
 * server's persistence settings: see `redis/durability.ts`, whose notice the
 * daemon logs at start-up.
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
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { Subject, type Observable } from 'rxjs';
import type { ClaimedMessage } from '../domain/delivery.js';
import { domainOf, type Envelope, type MessageId, type MessageRecord } from '../domain/envelope.js';
import type { Logger } from '../log/logger.js';
import { newMessageId } from './id.js';
import { appendBody, readBody, type ReceivedBody } from './redis/body.js';
import { claimScript, heartbeatScript, nextDueScript, releaseScript } from './redis/claim-scripts.js';
import { commitMessage, removeMessage } from './redis/commit.js';
import { connect, safeUrl } from './redis/connection.js';
import { evictionNotice, persistenceNotice, readEvictionPolicy, readPersistence, type PersistenceNotice } from './redis/durability.js';
import { parseShapeField, redisKeys, type RedisKeys } from './redis/keys.js';
import { listPage } from './redis/listing.js';
import { initialRecord } from './records.js';
import { decodeRecord, dueRecipients, field, pairsToObject } from './redis/record.js';
import { guarded, numbers, pipelineReplies, storageError, strings } from './redis/replies.js';
import { expireFinished } from './redis/retention.js';
import { retryBatchScript, retryOneScript, updateScript } from './redis/state-scripts.js';
import { SpoolError, type ListOptions, type Page, type RecipientUpdate, type ShapeCell, type Spool } from './spool.js';

export type SpoolLogger = Pick<Logger, 'info' | 'warn'>;

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
/** Messages made due per retry-all script call: Redis is never blocked for long. */
const RETRY_BATCH = 1000;

/**
 * Connects, checks what Redis' persistence settings make of a 250 (logged),
 * subscribes to wake-ups and starts the heartbeat. Rejects with SpoolError
 * when Redis cannot be reached.
 */
export async function openRedisSpool(options: RedisSpoolOptions): Promise<Spool> {
  const keys = redisKeys(options.prefix);
  const connection = { url: options.url, commandTimeoutMs: options.commandTimeoutMs ?? 5_000, connectTimeoutMs: options.connectTimeoutMs ?? 5_000 };
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
  private readonly wakeSubject = new Subject<void>();
  readonly wake$: Observable<void> = this.wakeSubject.asObservable();
  private readonly now: () => number;
  private readonly node = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly retentionMs: number;
  private readonly nodeTtlMs: number;
  private readonly tmpIdleTtlMs: number;
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  private lost = false;

  constructor(
    private readonly redis: Redis,
    private readonly subscriber: Redis,
    private readonly keys: RedisKeys,
    private readonly options: RedisSpoolOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.retentionMs = Math.round((options.retentionDays ?? 7) * DAY_MS);
    this.nodeTtlMs = options.nodeTtlMs ?? 10_000;
    this.tmpIdleTtlMs = options.tmpIdleTtlMs ?? 15 * 60_000;
    this.timer = setInterval(() => void this.heartbeat().catch(() => undefined), Math.max(50, Math.floor(this.nodeTtlMs / 4)));
    this.timer.unref();
    subscriber.on('message', (channel: string, from: string) => {
      if (channel === keys.wake && from !== this.node) this.wakeSubject.next();
    });
    redis.on('close', () => this.onLost());
    redis.on('ready', () => this.onRestored());
  }

  private onLost(): void {
    if (this.closed || this.lost) return;
    this.lost = true;
    this.options.logger?.warn({ component: 'spool', backend: 'redis', redis: safeUrl(this.options.url) }, 'Redis connection lost; reconnecting');
  }

  private onRestored(): void {
    if (this.closed || !this.lost) return;
    this.lost = false;
    this.options.logger?.info({ component: 'spool', backend: 'redis', redis: safeUrl(this.options.url) }, 'Redis connection restored');
    void this.heartbeat().catch(() => undefined);
    this.wakeSubject.next(); // messages may have fallen due while we could not look
  }

  /** Keeps this node's claims its own. */
  async heartbeat(): Promise<void> {
    if (this.closed) return;
    await heartbeatScript.run(this.redis, [this.keys.nodes], [this.node, this.nodeTtlMs]);
  }

  async store(envelope: Envelope, body: AsyncIterable<Buffer>): Promise<MessageRecord> {
    const recipients = [...new Set(envelope.recipients)];
    if (recipients.length === 0) throw new SpoolError('a message needs at least one recipient');
    const id = newMessageId(this.now());
    const tmp = this.keys.tmp(id);
    let received: ReceivedBody;
    try {
      received = await appendBody(this.redis, tmp, body, this.tmpIdleTtlMs, storageError);
    } catch (error) {
      await this.redis.del(tmp).catch(() => undefined); // else its idle expiry removes it
      throw error;
    }
    const record = initialRecord(id, { ...envelope, recipients }, received.size);
    try {
      await commitMessage(this.redis, this.keys, record, received.inline ?? tmp);
    } catch (error) {
      await this.redis.del(tmp).catch(() => undefined);
      throw storageError(error);
    }
    this.wake();
    return record;
  }

  async get(id: MessageId): Promise<MessageRecord | undefined> {
    const fields = await guarded(() => this.redis.hgetall(this.keys.msg(id)));
    return decodeRecord(id, fields);
  }

  list(options: ListOptions): Promise<Page<MessageRecord>> {
    return listPage(this.redis, this.keys, options);
  }

  async openBody(message: MessageRecord): Promise<AsyncIterable<Buffer>> {
    const { id } = message;
    const key = this.keys.body(id);
    const [size, stored] = await guarded(async () => pipelineReplies(await this.redis.pipeline().hget(this.keys.msg(id), field.size).strlen(key).exec()));
    if (typeof size !== 'string') throw new SpoolError(`unknown message ${id}`);
    if (stored !== Number(size)) throw new SpoolError(`message ${id} has no body of ${size} bytes`);
    return readBody(this.redis, key, Number(size), storageError);
  }

  async update(id: MessageId, updates: readonly RecipientUpdate[]): Promise<MessageRecord> {
    const k = this.keys;
    const now = this.now();
    const args: (string | number)[] = [id, this.retentionMs];
    for (const u of updates) {
      const hasLast = u.lastResponse === undefined ? '0' : '1';
      args.push(u.recipient, domainOf(u.recipient), u.status, u.attempts, u.nextAttemptAt, now, hasLast, u.lastResponse ?? '');
    }
    const reply = await guarded(() => updateScript.run(this.redis, [k.msg(id), k.body(id), k.due, k.waiting, k.owners, k.depth, k.shape], args));
    const [fields, requeued] = Array.isArray(reply) ? (reply as unknown[]) : [];
    const record = decodeRecord(id, pairsToObject(strings(fields)));
    if (!record) throw new SpoolError(`message ${id} is unreadable`);
    // A claimed message comes back with its release (which wakes); an unclaimed one may be due sooner now.
    if (requeued === 1) this.wake();
    return record;
  }

  async claim(now: number, limit: number): Promise<readonly ClaimedMessage[]> {
    const count = Math.floor(limit);
    if (!(count > 0)) return [];
    const k = this.keys;
    const reply = await guarded(() =>
      claimScript.run(this.redis, [k.due, k.claims, k.owners, k.nodes], [now, count, this.node, k.heldPrefix, k.msgPrefix, this.nodeTtlMs]),
    );
    const claimed: ClaimedMessage[] = [];
    for (const entry of Array.isArray(reply) ? (reply as unknown[]) : []) {
      const [id = '', flat] = Array.isArray(entry) ? (entry as unknown[]) : [];
      const record = decodeRecord(String(id), pairsToObject(strings(flat)));
      // Unreadable: it stays claimed (out of every daemon's way) until this node stops.
      if (!record) this.options.logger?.warn({ component: 'spool', backend: 'redis', id }, 'claimed message is unreadable; left aside');
      else claimed.push({ record, due: dueRecipients(record, now) });
    }
    return claimed;
  }

  async release(id: MessageId, notBefore?: number): Promise<void> {
    const k = this.keys;
    const args = [id, this.node, k.heldPrefix, k.msgPrefix, notBefore ?? ''];
    const released = await guarded(() => releaseScript.run(this.redis, [k.due, k.claims, k.owners], args));
    if (released === 1) this.wake();
  }

  async nextDueAt(): Promise<number | undefined> {
    const k = this.keys;
    const reply = await guarded(() => nextDueScript.run(this.redis, [k.due, k.nodes], [this.now(), this.node, k.heldPrefix]));
    return typeof reply === 'string' ? Number(reply) : undefined;
  }

  async depth(): Promise<number> {
    const count = await guarded(() => this.redis.get(this.keys.depth));
    return Math.max(0, Number(count ?? 0));
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
    const k = this.keys;
    const now = this.now();
    let changed = 0;
    if (id !== undefined) {
      changed = Number(await guarded(() => retryOneScript.run(this.redis, [k.msg(id), k.due, k.owners], [id, now])));
    } else {
      // messages due already (their later recipients), then those due later
      for (let offset = 0; ; offset += RETRY_BATCH) {
        const [looked = 0, moved = 0] = numbers(await guarded(() => retryBatchScript.run(this.redis, [k.due], [now, k.msgPrefix, RETRY_BATCH, 'due', offset])));
        changed += moved;
        if (looked < RETRY_BATCH) break;
      }
      for (;;) {
        const [looked = 0, moved = 0] = numbers(await guarded(() => retryBatchScript.run(this.redis, [k.due], [now, k.msgPrefix, RETRY_BATCH, 'later', 0])));
        changed += moved;
        if (looked < RETRY_BATCH) break;
      }
    }
    this.wake();
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
    if (this.closed) throw new SpoolError('spool is closed');
    await guarded(() => this.redis.ping());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    // Claims still held (an attempt cut short) are handed back once our
    // heartbeat lapses, as after a crash; the scheduler released the rest.
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
    await this.redis.quit().catch(() => this.redis.disconnect());
    this.wakeSubject.complete();
  }

  /** Wakes this daemon's scheduler now and the other daemons' through pub/sub. */
  private wake(): void {
    this.wakeSubject.next();
    void this.redis.publish(this.keys.wake, this.node).catch(() => undefined);
  }
}
