import type { Context } from 'koa';
import type { MessageId } from '../domain/envelope.js';
import { HttpError } from './errors.js';

const MESSAGE_ID = /^[0-9a-z]{20}$/;

/** A message id from the URL: 20 lowercase base32 characters, else 400. */
export function parseMessageId(value: string | undefined): MessageId {
  if (value === undefined || !MESSAGE_ID.test(value)) throw new HttpError(400, 'invalid message id');
  return value;
}

/**
 * Reads a small JSON body whatever its Content-Type (`curl -d` sends
 * `application/x-www-form-urlencoded`), refusing more than `limit` bytes.
 */
export async function readJsonBody(ctx: Context, limit = 16 * 1024): Promise<unknown> {
  const declared = Number(ctx.get('content-length') || '0');
  if (declared > limit) throw new HttpError(413, `request body over ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new HttpError(413, `request body over ${limit} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, 'request body must be JSON');
  }
}
