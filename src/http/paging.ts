/**
 * Paging of the admin API's listings (`GET /api/queue`, `GET /api/messages`):
 * the `limit` and `after` query parameters and the cursors handed out as
 * `next`. An API cursor wraps the spool's own opaque cursor together with
 * the listing it belongs to and a checksum, so a cursor this API did not
 * hand out (truncated, mistyped, taken from the other listing) is a 400
 * naming `after`, and never reaches the spool. The checksum catches
 * mistakes, not forgery: it is no secret, and the listings are admin-only.
 */
import { createHash } from 'node:crypto';
import type { ListOptions, Page } from '../spool/spool.js';
import { HttpError } from './errors.js';
import { type Query, queryInteger, queryValue, quoted } from './request.js';

export type Listing = 'queue' | 'messages';

export const DEFAULT_PAGE_LIMIT = 100;
export const MAX_PAGE_LIMIT = 1000;

const PART = /^[A-Za-z0-9_-]+$/;
const MAX_CURSOR_LENGTH = 1024;

function checksum(listing: Listing, spoolCursor: string): string {
  return createHash('sha256').update(`gopherpost ${listing} ${spoolCursor}`).digest('base64url').slice(0, 10);
}

/** The API cursor for the page after one whose spool cursor is `spoolCursor` (pure). */
export function encodeCursor(listing: Listing, spoolCursor: string): string {
  return `${Buffer.from(spoolCursor, 'utf8').toString('base64url')}.${checksum(listing, spoolCursor)}`;
}

/** The spool cursor inside an API cursor of `listing`; undefined when it is not one (pure). */
export function decodeCursor(listing: Listing, cursor: string): string | undefined {
  if (cursor.length > MAX_CURSOR_LENGTH) return undefined;
  const dot = cursor.lastIndexOf('.');
  const data = cursor.slice(0, dot);
  const check = cursor.slice(dot + 1);
  if (dot < 0 || !PART.test(data) || !PART.test(check)) return undefined;
  const bytes = Buffer.from(data, 'base64url');
  const spoolCursor = bytes.toString('utf8');
  if (bytes.toString('base64url') !== data || Buffer.byteLength(spoolCursor) !== bytes.length) return undefined;
  return check === checksum(listing, spoolCursor) ? spoolCursor : undefined;
}

/** `?limit=N&after=CURSOR` as spool list options; 400 naming the parameter when either is bad. */
export function parsePageQuery(query: Query, listing: Listing): ListOptions {
  const limit = queryInteger(query, 'limit', 1, MAX_PAGE_LIMIT) ?? DEFAULT_PAGE_LIMIT;
  const after = queryValue(query, 'after');
  if (after === undefined) return { limit };
  const spoolCursor = decodeCursor(listing, after);
  if (spoolCursor === undefined) {
    throw new HttpError(
      400,
      `after=${quoted(after)}: expected the "next" cursor of a previous GET /api/${listing} page`,
    );
  }
  return { limit, after: spoolCursor };
}

/** `{ next }` for a response when the spool has a following page, else nothing. */
export function nextOf(listing: Listing, page: Page<unknown>): { readonly next?: string } {
  return page.next === undefined ? {} : { next: encodeCursor(listing, page.next) };
}
