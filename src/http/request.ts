import type { Context } from 'koa';
import type { MessageId } from '../domain/envelope.js';
import { HttpError } from './errors.js';

const MESSAGE_ID = /^[0-9a-z]{20}$/;

/** A query string as koa parses it (`ctx.query`). */
export type Query = Readonly<Record<string, string | readonly string[] | undefined>>;

/** A client's value for an error message: quoted, and clipped when long. */
export function quoted(value: string): string {
  return JSON.stringify(value.length > 40 ? value.slice(0, 39) + '…' : value);
}

/** One query parameter given at most once; 400 naming it when repeated. */
export function queryValue(query: Query, name: string): string | undefined {
  const value = query[name];
  if (value === undefined || typeof value === 'string') return value;
  throw new HttpError(400, `${name}: expected one value, got ${value.length}`);
}

/** An integer query parameter in `min..max` (plain digits), else 400 naming it; undefined when absent. */
export function queryInteger(query: Query, name: string, min: number, max: number): number | undefined {
  const value = queryValue(query, name);
  if (value === undefined) return undefined;
  const n = /^\d{1,9}$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= min && n <= max))
    throw new HttpError(400, `${name}=${quoted(value)}: expected an integer from ${min} to ${max}`);
  return n;
}

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
