/**
 * Changing recipients' states in Redis (the Redis side of `update` and
 * `retryNow`), over the scripts of state-scripts.ts.
 *
 * Counters: `depth` (waiting recipients) and `shape` (waiting recipients per
 * domain and minute of arrival) change in the same atomic step as the
 * recipient states they count, so reading them costs one command however
 * big the queue is. A message whose recipients are all finished gets an
 * expiry of `retentionMs` (body too) on its last update.
 *
 * In: the connection, key layout, a message id and the recipients' new
 * states (or nothing: every message). Out: the record as it now is and
 * whether an unclaimed message was requeued; the number of recipients made
 * due. The caller wakes the schedulers. Redis failures come out as
 * SpoolError.
 */
import type { Redis } from 'ioredis';
import { HISTORY_LIMIT, domainOf, type MessageId, type MessageRecord } from '../../domain/envelope.js';
import { SpoolError, type RecipientUpdate } from '../spool.js';
import type { RedisKeys } from './keys.js';
import { decodeRecord, pairsToObject } from './record.js';
import { guarded, numbers, strings } from './replies.js';
import { retryBatchScript, retryOneScript, updateScript } from './state-scripts.js';

/** Messages made due per retry-all script call: Redis is never blocked for long. */
const RETRY_BATCH = 1000;

export interface Updated {
  readonly record: MessageRecord;
  /** An unclaimed message went back to `due` (it may be due sooner now). */
  readonly requeued: boolean;
}

/** Applies `updates` (at `now`) in one script: states, indexes, counters, and retention when all are finished. */
export async function updateRecipients(
  redis: Redis,
  keys: RedisKeys,
  id: MessageId,
  updates: readonly RecipientUpdate[],
  now: number,
  retentionMs: number,
): Promise<Updated> {
  const k = keys;
  const args: (string | number)[] = [id, retentionMs, HISTORY_LIMIT];
  for (const u of updates) {
    const hasLast = u.lastResponse === undefined ? '0' : '1';
    args.push(
      u.recipient,
      domainOf(u.recipient),
      u.status,
      u.attempts,
      u.nextAttemptAt,
      now,
      hasLast,
      u.lastResponse ?? '',
      u.note ? JSON.stringify(u.note) : '',
      u.delayNoticeAt === undefined ? '' : u.delayNoticeAt,
    );
  }
  const reply = await guarded(() =>
    updateScript.run(redis, [k.msg(id), k.body(id), k.due, k.waiting, k.owners, k.depth, k.shape], args),
  );
  const [fields, requeued] = Array.isArray(reply) ? (reply as unknown[]) : [];
  const record = decodeRecord(id, pairsToObject(strings(fields)));
  if (!record) throw new SpoolError(`message ${id} is unreadable`);
  return { record, requeued: requeued === 1 };
}

/** Makes one message's waiting recipients (or every message's) due at `now`. Resolves how many changed. */
export async function retryWaiting(redis: Redis, keys: RedisKeys, now: number, id?: MessageId): Promise<number> {
  const k = keys;
  if (id !== undefined)
    return Number(await guarded(() => retryOneScript.run(redis, [k.msg(id), k.due, k.owners], [id, now])));
  let changed = 0;
  // messages due already (their later recipients), then those due later
  for (let offset = 0; ; offset += RETRY_BATCH) {
    const [looked = 0, moved = 0] = numbers(
      await guarded(() => retryBatchScript.run(redis, [k.due], [now, k.msgPrefix, RETRY_BATCH, 'due', offset])),
    );
    changed += moved;
    if (looked < RETRY_BATCH) break;
  }
  for (;;) {
    const [looked = 0, moved = 0] = numbers(
      await guarded(() => retryBatchScript.run(redis, [k.due], [now, k.msgPrefix, RETRY_BATCH, 'later', 0])),
    );
    changed += moved;
    if (looked < RETRY_BATCH) break;
  }
  return changed;
}
