import type { Redis } from 'ioredis';

/** Bytes per APPEND and per GETRANGE: bounded memory per session, few round trips. */
export const BODY_CHUNK = 256 * 1024;

/** A received body: its size, and the bytes themselves when they fit one chunk and were never written. */
export interface ReceivedBody {
  readonly size: number;
  readonly inline?: Buffer;
}

/**
 * Streams `body` into `key` with APPEND, at most `chunkBytes` held at once. A
 * body smaller than one chunk is not written at all but returned `inline`, for
 * the commit to SET in one round trip. Every APPEND also (re)sets an idle
 * expiry, so the leftovers of a writer that crashed or lost Redis mid-body
 * vanish on their own; APPEND's reply (the new length) proves the key did not
 * expire in between. Errors of `body` propagate as they are, Redis errors
 * through `onRedisError`.
 */
export async function appendBody(
  redis: Redis,
  key: string,
  body: AsyncIterable<Buffer>,
  idleTtlMs: number,
  onRedisError: (error: unknown) => Error,
  chunkBytes = BODY_CHUNK,
): Promise<ReceivedBody> {
  let size = 0;
  let written = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = async (): Promise<void> => {
    if (pendingBytes === 0) return;
    const data = pending.length === 1 && pending[0] ? pending[0] : Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    written += data.length;
    try {
      const results = await redis.pipeline().append(key, data).pexpire(key, idleTtlMs).exec();
      const failed =
        results === null ? new Error('pipeline discarded') : results.find(([error]) => error !== null)?.[0];
      if (failed) throw failed;
      // APPEND answers the new length: anything else means the key expired (idle too long) or was touched
      const length = results?.[0]?.[1];
      if (length !== written)
        throw new Error(`the partial body in ${key} was lost (${String(length)} bytes, ${written} expected)`);
    } catch (error) {
      throw onRedisError(error);
    }
  };
  for await (const chunk of body) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    size += bytes.length;
    pending.push(bytes);
    pendingBytes += bytes.length;
    if (pendingBytes >= chunkBytes) await flush();
  }
  if (written === 0) return { size, inline: Buffer.concat(pending, pendingBytes) };
  await flush();
  return { size };
}

/**
 * Reads `size` bytes of `key` with GETRANGE, `chunkBytes` at a time. A body
 * that shrinks or vanishes while read (the message was removed) is an error.
 */
export async function* readBody(
  redis: Redis,
  key: string,
  size: number,
  onError: (error: unknown) => Error,
  chunkBytes = BODY_CHUNK,
): AsyncGenerator<Buffer> {
  for (let offset = 0; offset < size; offset += chunkBytes) {
    const end = Math.min(size, offset + chunkBytes) - 1;
    let chunk: Buffer;
    try {
      chunk = await redis.getrangeBuffer(key, offset, end);
    } catch (error) {
      throw onError(error);
    }
    if (chunk.length !== end - offset + 1) throw onError(new Error(`message body ${key} changed while it was read`));
    yield chunk;
  }
}
