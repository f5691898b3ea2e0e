/**
 * Putting a message's bytes into Redis and reading them back (the Redis
 * side of `store` and `openBody`).
 *
 * Durability: `storeMessage` resolves only after Redis acknowledged every
 * write. The body is APPENDed in chunks to a temporary key (with an idle
 * expiry, so a crashed writer leaves nothing for long) and one MULTI/EXEC
 * (commit.ts) renames it into place and writes the record, its indexes and
 * its counts. What that acknowledgement is worth depends on the Redis
 * server's persistence settings: see durability.ts.
 *
 * In: the envelope (recipients de-duplicated here), the body stream, the
 * clock. Out: the new message's record, or SpoolError with nothing left
 * behind; a body as a stream of chunks, checked against its recorded size.
 */
import type { Redis } from 'ioredis';
import type { Envelope, MessageRecord } from '../../domain/envelope.js';
import { newMessageId } from '../id.js';
import { initialRecord } from '../records.js';
import { SpoolError } from '../spool.js';
import { appendBody, readBody, type ReceivedBody } from './body.js';
import { commitMessage } from './commit.js';
import type { RedisKeys } from './keys.js';
import { field } from './record.js';
import { guarded, pipelineReplies } from './replies.js';
import { storageError } from '../storage-error.js';

/** Stores a new message: body first (to a temporary key), then the commit. The caller wakes the schedulers. */
export async function storeMessage(
  redis: Redis,
  keys: RedisKeys,
  envelope: Envelope,
  body: AsyncIterable<Buffer>,
  now: () => number,
  tmpIdleTtlMs: number,
): Promise<MessageRecord> {
  const recipients = [...new Set(envelope.recipients)];
  if (recipients.length === 0) throw new SpoolError('a message needs at least one recipient');
  const id = newMessageId(now());
  const tmp = keys.tmp(id);
  let received: ReceivedBody;
  try {
    received = await appendBody(redis, tmp, body, tmpIdleTtlMs, storageError);
  } catch (error) {
    await redis.del(tmp).catch(() => undefined); // else its idle expiry removes it
    throw error;
  }
  const record = initialRecord(id, { ...envelope, recipients }, received.size, now());
  try {
    await commitMessage(redis, keys, record, received.inline ?? tmp);
  } catch (error) {
    await redis.del(tmp).catch(() => undefined);
    throw storageError(error);
  }
  return record;
}

/** The message's body, once its stored length matches the recorded size. */
export async function openStoredBody(
  redis: Redis,
  keys: RedisKeys,
  message: MessageRecord,
): Promise<AsyncIterable<Buffer>> {
  const { id } = message;
  const key = keys.body(id);
  const [size, stored] = await guarded(async () =>
    pipelineReplies(await redis.pipeline().hget(keys.msg(id), field.size).strlen(key).exec()),
  );
  if (typeof size !== 'string') throw new SpoolError(`unknown message ${id}`);
  if (stored !== Number(size)) throw new SpoolError(`message ${id} has no body of ${size} bytes`);
  return readBody(redis, key, Number(size), storageError);
}
