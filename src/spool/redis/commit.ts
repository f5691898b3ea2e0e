/**
 * The last step of `store`: one MULTI/EXEC puts the body into place and
 * writes the record, its index entries and its counts, so another daemon sees
 * the whole message or none of it. Undoing a commit that failed halfway goes
 * through `removeScript`, which counts from the record just as this counted.
 */
import type { Redis } from 'ioredis';
import { domainOf, type MessageRecord } from '../../domain/envelope.js';
import { shapeField, type RedisKeys } from './keys.js';
import { encodeRecord } from './record.js';
import { removeScript } from './state-scripts.js';

/** `shape` increments of a new message: waiting recipients per field (pure). */
export function shapeCounts(record: MessageRecord): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of record.recipients) {
    const name = shapeField(domainOf(r.recipient), record.envelope.receivedAt);
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}

/**
 * `body` is the temporary key the body was APPENDed to (renamed into place),
 * or the bytes themselves when they fit one chunk (SET). A new message is
 * due at its arrival: every recipient is queued with that next attempt.
 */
export async function commitMessage(
  redis: Redis,
  keys: RedisKeys,
  record: MessageRecord,
  body: string | Buffer,
): Promise<void> {
  const { id } = record;
  const receivedAt = record.envelope.receivedAt;
  const tx = redis.multi();
  if (Buffer.isBuffer(body)) tx.set(keys.body(id), body);
  else tx.rename(body, keys.body(id)).persist(keys.body(id));
  tx.hset(keys.msg(id), encodeRecord(record));
  tx.zadd(keys.messages, receivedAt, id);
  tx.zadd(keys.waiting, receivedAt, id);
  tx.zadd(keys.due, receivedAt, id);
  tx.incrby(keys.depth, record.recipients.length);
  for (const [name, count] of shapeCounts(record)) tx.hincrby(keys.shape, name, count);
  const results = await tx.exec();
  const failed = results === null ? new Error('transaction discarded') : results.find(([error]) => error !== null)?.[0];
  if (failed) {
    await removeMessage(redis, keys, record).catch(() => undefined); // a command failed: leave nothing behind
    throw failed;
  }
}

/** Runs `removeScript` for a record (its recipients name the counters to take it off). Resolves whether it existed. */
export async function removeMessage(
  redis: Redis,
  keys: RedisKeys,
  record: Pick<MessageRecord, 'id' | 'recipients'>,
): Promise<boolean> {
  const { id } = record;
  const k = keys;
  const pairs = record.recipients.flatMap((r) => [r.recipient, domainOf(r.recipient)]);
  const reply = await removeScript.run(
    redis,
    [k.msg(id), k.body(id), k.messages, k.due, k.waiting, k.claims, k.owners, k.depth, k.shape],
    [id, k.heldPrefix, ...pairs],
  );
  return reply === 1;
}
