/**
 * The Redis spool: the `Spool` interface backed by one Redis, so several
 * daemons share one queue (SPEC §4, last bullet). Key layout in
 * `redis/keys.ts`, the atomic steps in `redis/scripts.ts`.
 *
 * Claims. A claim is a lease (`claims` sorted set, score = lease expiry) owned
 * by one node (`owners`, `held:<node>`). Each node heartbeats a liveness entry
 * (`nodes`, on the Redis clock) every `nodeTtlMs / 4`. A recipient is claimable
 * when it is due and unclaimed, when its lease has run out, or when its owner
 * stopped heartbeating for `nodeTtlMs` (the daemon died): then any other node's
 * next claim hands the dead node's claims back first. So a live daemon keeps a
 * claim for the scheduler's whole lease (a slow attempt is never taken from
 * it), and a dead daemon's work resumes elsewhere after about `nodeTtlMs`.
 * `nextDueAt` includes that moment, so the survivors' schedulers wake for it.
 *
 * Durability: `store` resolves only after Redis acknowledged every write; the
 * body is APPENDed in chunks to a temporary key (with an idle expiry) and one
 * MULTI/EXEC renames it into place and writes the record and its indexes.
 * What "acknowledged" is worth depends on the Redis server:
 *
 *   - `appendonly yes` + `appendfsync always`: Redis fsyncs the append-only
 *     file before it replies, so a 250 means the message is on disk, as with
 *     the file spool. Use this when "250 means durable" must hold.
 *   - `appendonly yes` + `appendfsync everysec` (Redis' default once AOF is
 *     on): fsync once a second; a crash of the Redis host (power, kernel) can
 *     lose the last second of acknowledged mail. A crash of the Redis process
 *     alone loses nothing. Much faster; often acceptable.
 *   - `appendonly no` (RDB snapshots only, or nothing): everything since the
 *     last snapshot is lost when Redis restarts. Not durable; the daemon logs
 *     a warning at start-up.
 *   - Replicas protect against losing the Redis host, but replication is
 *     asynchronous: a failover can drop writes the old primary acknowledged.
 *     Run replicas with AOF as well, and (outside this daemon) `WAIT` or
 *     `min-replicas-to-write` narrow that window.
 *   - `maxmemory-policy noeviction` (the default): bodies live in Redis
 *     memory, and an `allkeys-*` policy would evict queued mail (warned).
 *   - One Redis (or a Sentinel-managed primary), not Redis Cluster: the scripts
 *     touch keys of several messages at once.
 *
 * At start-up the daemon reads `CONFIG GET appendonly`/`appendfsync` (or
 * `INFO persistence` where CONFIG is disabled) and logs what the settings mean.
 *
 * Outages: commands fail at once while Redis is unreachable (no offline
 * queue; `commandTimeoutMs` for a Redis that hangs), so `store` rejects with
 * SpoolError and the client gets 451; `check` (readiness) fails. ioredis
 * reconnects in the background; the queue lives in Redis, so nothing queued
 * is lost, and the reconnect wakes the scheduler.
 *
 * Retention: a message whose recipients are all finished gets an expiry of
 * `retentionDays` (body too), besides the daemon's retention sweeper.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { Subject, type Observable } from 'rxjs';
import type { DueRecipient } from '../domain/delivery.js';
import { domainOf, type Envelope, type MessageId, type MessageRecord } from '../domain/envelope.js';
import type { Logger } from '../log/logger.js';
import { newMessageId } from './id.js';
import { initialRecord } from './queue-index.js';
import { appendBody, readBody, type ReceivedBody } from './redis/body.js';
import { createClient, createSubscriber, safeUrl } from './redis/connection.js';
import { evictionNotice, persistenceNotice, readEvictionPolicy, readPersistence, type PersistenceNotice } from './redis/durability.js';
import { memberOf, parseMember, redisKeys, type RedisKeys } from './redis/keys.js';
import { decodeRecord, encodeRecord, field, pairsToObject } from './redis/record.js';
import { claimScript, heartbeatScript, nextDueScript, releaseScript, removeScript, retryScript, updateScript } from './redis/scripts.js';
import { SpoolError, type RecipientUpdate, type Spool } from './spool.js';

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
/** Recipients made due per retry-all script call: Redis is never blocked for long. */
const RETRY_BATCH = 1000;
/** Records fetched per pipeline by `list`. */
const LIST_BATCH = 500;

/**
 * Connects, checks what Redis' persistence settings make of a 250 (logged),
 * subscribes to wake-ups and starts the heartbeat. Rejects with SpoolError
 * when Redis cannot be reached.
 */
export async function openRedisSpool(options: RedisSpoolOptions): Promise<Spool> {
  const connection = { url: options.url, commandTimeoutMs: options.commandTimeoutMs ?? 5_000, connectTimeoutMs: options.connectTimeoutMs ?? 5_000 };
  const redis = createClient(connection);
  let lastError: unknown;
  redis.on('error', (error: unknown) => void (lastError = error)); // later outages are logged on 'close'/'ready'
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    const cause = lastError ?? error;
    throw new SpoolError(`Redis is unreachable at ${safeUrl(options.url)}: ${messageOf(cause)}`, { cause });
  }
  const subscriber = createSubscriber(redis);
  subscriber.on('error', () => undefined);
  try {
    await subscriber.connect();
    const keys = redisKeys(options.prefix);
    await subscriber.subscribe(keys.wake);
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
    this.wakeSubject.next(); // recipients may have fallen due while we could not look
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
      await this.commit(record, received.inline ?? tmp);
    } catch (error) {
      await this.redis.del(tmp).catch(() => undefined);
      throw storageError(error);
    }
    this.wake();
    return record;
  }

  /**
   * One MULTI/EXEC: the body into place (renamed from its temporary key, or
   * SET when small), the record, its due entries, the message list.
   */
  private async commit(record: MessageRecord, body: string | Buffer): Promise<void> {
    const { id } = record;
    const k = this.keys;
    const tx = this.redis.multi();
    if (Buffer.isBuffer(body)) tx.set(k.body(id), body);
    else tx.rename(body, k.body(id)).persist(k.body(id));
    tx.hset(k.msg(id), encodeRecord(record));
    tx.zadd(k.due, ...record.recipients.flatMap((r) => [r.nextAttemptAt, memberOf(id, r.recipient)]));
    tx.zadd(k.messages, record.envelope.receivedAt, id);
    const results = await tx.exec();
    const failed = results === null ? new Error('transaction discarded') : results.find(([error]) => error !== null)?.[0];
    if (failed) {
      await this.removeKeys(record).catch(() => undefined); // a command failed: leave nothing behind
      throw failed;
    }
  }

  async get(id: MessageId): Promise<MessageRecord | undefined> {
    const fields = await this.call(() => this.redis.hgetall(this.keys.msg(id)));
    return decodeRecord(id, fields);
  }

  async list(): Promise<readonly MessageRecord[]> {
    const ids = await this.call(() => this.redis.zrange(this.keys.messages, 0, -1));
    const records: MessageRecord[] = [];
    const gone: string[] = [];
    for (let i = 0; i < ids.length; i += LIST_BATCH) {
      const batch = ids.slice(i, i + LIST_BATCH);
      const pipeline = this.redis.pipeline();
      for (const id of batch) pipeline.hgetall(this.keys.msg(id));
      const results = await this.call(() => pipeline.exec());
      batch.forEach((id, j) => {
        const [error, fields] = results?.[j] ?? [new Error('no reply'), undefined];
        if (error) throw storageError(error);
        const record = decodeRecord(id, isStringRecord(fields) ? fields : {});
        if (record) records.push(record);
        else if (isStringRecord(fields) && Object.keys(fields).length === 0) gone.push(id);
      });
    }
    // expired by retention (or removed meanwhile): drop from the list
    if (gone.length > 0) await this.redis.zrem(this.keys.messages, ...gone).catch(() => undefined);
    return records;
  }

  async openBody(id: MessageId): Promise<AsyncIterable<Buffer>> {
    const key = this.keys.body(id);
    const [size, stored] = await this.call(async () => {
      const results = await this.redis.pipeline().hget(this.keys.msg(id), field.size).strlen(key).exec();
      const [sizeReply, lengthReply] = results ?? [];
      if (!sizeReply || !lengthReply || sizeReply[0] || lengthReply[0]) throw sizeReply?.[0] ?? lengthReply?.[0] ?? new Error('no reply');
      return [sizeReply[1], lengthReply[1]] as const;
    });
    if (typeof size !== 'string') throw new SpoolError(`unknown message ${id}`);
    if (stored !== Number(size)) throw new SpoolError(`message ${id} has no body of ${size} bytes`);
    return readBody(this.redis, key, Number(size), storageError);
  }

  async update(id: MessageId, updates: readonly RecipientUpdate[]): Promise<MessageRecord> {
    const k = this.keys;
    const args: (string | number)[] = [id, k.heldPrefix, this.retentionMs];
    const now = this.now();
    for (const u of updates) {
      args.push(u.recipient, u.status, u.attempts, u.nextAttemptAt, now, u.lastResponse === undefined ? '0' : '1', u.lastResponse ?? '');
    }
    const reply = await this.call(() => updateScript.run(this.redis, [k.msg(id), k.body(id), k.due, k.claims, k.owners], args));
    const record = decodeRecord(id, pairsToObject(strings(reply)));
    if (!record) throw new SpoolError(`message ${id} is unreadable`);
    if (updates.some((u) => u.status === 'queued' || u.status === 'deferred')) this.wake();
    return record;
  }

  async claimDue(now: number, limit: number, leaseMs: number): Promise<readonly DueRecipient[]> {
    if (limit <= 0) return [];
    const k = this.keys;
    const reply = await this.call(() =>
      claimScript.run(
        this.redis,
        [k.due, k.claims, k.owners, k.nodes],
        [now, limit, now + leaseMs, this.node, k.heldPrefix, k.msgPrefix, this.nodeTtlMs],
      ),
    );
    const flat = strings(reply);
    const due: DueRecipient[] = [];
    for (let i = 0; i + 2 < flat.length; i += 3) {
      const member = parseMember(flat[i] ?? '');
      if (!member) continue;
      due.push({
        id: member.id,
        recipient: member.recipient,
        domain: domainOf(member.recipient),
        attempts: Number(flat[i + 1]),
        receivedAt: Number(flat[i + 2]),
      });
    }
    return due;
  }

  async release(id: MessageId, recipients: readonly string[]): Promise<void> {
    if (recipients.length === 0) return;
    const k = this.keys;
    const members = recipients.map((r) => memberOf(id, r));
    await this.call(() => releaseScript.run(this.redis, [k.due, k.claims, k.owners], [this.node, k.heldPrefix, k.msgPrefix, ...members]));
    this.wake();
  }

  async nextDueAt(): Promise<number | undefined> {
    const k = this.keys;
    const reply = await this.call(() => nextDueScript.run(this.redis, [k.due, k.claims, k.nodes], [this.now(), this.node, k.heldPrefix]));
    return typeof reply === 'string' ? Number(reply) : undefined;
  }

  async depth(): Promise<number> {
    const results = await this.call(() => this.redis.pipeline().zcard(this.keys.due).zcard(this.keys.claims).exec());
    return (results ?? []).reduce((sum, [error, count]) => {
      if (error) throw storageError(error);
      return sum + (typeof count === 'number' ? count : 0);
    }, 0);
  }

  async retryNow(id?: MessageId): Promise<number> {
    const k = this.keys;
    const now = this.now();
    let changed = 0;
    if (id !== undefined) {
      const record = await this.get(id);
      const members = (record?.recipients ?? []).filter((r) => r.status === 'queued' || r.status === 'deferred').map((r) => memberOf(id, r.recipient));
      if (members.length > 0) {
        const reply = await this.call(() => retryScript.run(this.redis, [k.due], [now, k.msgPrefix, RETRY_BATCH, ...members]));
        changed = numbers(reply)[1] ?? 0;
      }
    } else {
      for (;;) {
        const reply = numbers(await this.call(() => retryScript.run(this.redis, [k.due], [now, k.msgPrefix, RETRY_BATCH])));
        changed += reply[1] ?? 0;
        if ((reply[0] ?? 0) < RETRY_BATCH) break;
      }
    }
    this.wake();
    return changed;
  }

  async remove(id: MessageId): Promise<boolean> {
    const record = await this.get(id);
    const existed = await this.call(() => this.removeKeys(record ?? { id, recipients: [] }));
    return record !== undefined && existed;
  }

  private async removeKeys(record: Pick<MessageRecord, 'id' | 'recipients'>): Promise<boolean> {
    const k = this.keys;
    const { id } = record;
    const members = record.recipients.map((r) => memberOf(id, r.recipient));
    const reply = await removeScript.run(this.redis, [k.msg(id), k.body(id), k.messages, k.due, k.claims, k.owners], [id, k.heldPrefix, ...members]);
    return reply === 1;
  }

  async check(): Promise<void> {
    if (this.closed) throw new SpoolError('spool is closed');
    await this.call(() => this.redis.ping());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    // Claims still held (an update that failed) are left to lapse with our
    // heartbeat, as after a crash; the scheduler released everything else.
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
    await this.redis.quit().catch(() => this.redis.disconnect());
    this.wakeSubject.complete();
  }

  /** Wakes this daemon's scheduler now and the other daemons' through pub/sub. */
  private wake(): void {
    this.wakeSubject.next();
    void this.redis.publish(this.keys.wake, this.node).catch(() => undefined);
  }

  private async call<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw storageError(error);
    }
  }
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A script's array reply as strings (nil entries become ''). */
function strings(reply: unknown): string[] {
  if (!Array.isArray(reply)) return [];
  return reply.map((v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : ''));
}

function numbers(reply: unknown): number[] {
  if (!Array.isArray(reply)) return [];
  return reply.map((v: unknown) => Number(v));
}

function messageOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return error.errors.map(messageOf).join('; ');
  return error instanceof Error ? error.message || error.name : String(error);
}

function storageError(error: unknown): SpoolError {
  if (error instanceof SpoolError) return error;
  return new SpoolError(`spool storage failed: ${messageOf(error)}`, { cause: error });
}
