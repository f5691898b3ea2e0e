/**
 * Walking a sorted set a page at a time, in (score, member) order, from a
 * position rather than an offset: a page stays right when members before it
 * are removed meanwhile (expired, delivered), and each page costs the page,
 * not the members before it. The position travels as an opaque cursor.
 */
import type { Redis } from 'ioredis';
import { SpoolError } from '../spool.js';

/** The last member of a page and its score; the next page starts after it. */
export interface Position {
  readonly score: number;
  readonly id: string;
}

export interface ZPage {
  readonly entries: readonly Position[];
  /** Whether members follow the last entry. */
  readonly more: boolean;
}

/** The opaque form of a position, for `Page.next` (pure). */
export function encodeCursor(p: Position): string {
  return `${p.score}_${p.id}`;
}

/** A cursor back into a position; SpoolError when it is not one of ours (pure). */
export function decodeCursor(cursor: string): Position {
  const bar = cursor.indexOf('_');
  const score = Number(cursor.slice(0, bar));
  const id = cursor.slice(bar + 1);
  if (bar <= 0 || !Number.isFinite(score) || !/^[0-9a-z]+$/.test(id))
    throw new SpoolError(`not a listing cursor: ${JSON.stringify(cursor)}`);
  return { score, id };
}

/** After `p` in a sorted set's order: higher score, or the same score and a later member (Redis compares bytes). */
function isAfter(score: number, id: string, p: Position | undefined): boolean {
  return (
    p === undefined || score > p.score || (score === p.score && Buffer.compare(Buffer.from(id), Buffer.from(p.id)) > 0)
  );
}

/**
 * Up to `count` members of `key` after `after` with a score up to `max` (a
 * ZRANGEBYSCORE bound such as `+inf` or `(123`). Asks from `after`'s score and
 * skips the members of that same score up to `after` itself: only ties cost
 * extra, and members sharing a millisecond are few.
 */
export async function zpage(
  redis: Redis,
  key: string,
  after: Position | undefined,
  max: string,
  count: number,
): Promise<ZPage> {
  const min = after === undefined ? '-inf' : String(after.score);
  const entries: Position[] = [];
  let offset = 0;
  for (;;) {
    const want = count + 1 - entries.length; // one more than the page: does another follow?
    const flat = await redis.zrangebyscore(key, min, max, 'WITHSCORES', 'LIMIT', offset, want);
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const id = flat[i] as string;
      const score = Number(flat[i + 1]);
      if (isAfter(score, id, after)) entries.push({ score, id });
    }
    const fetched = flat.length / 2;
    if (fetched < want || entries.length > count) break;
    offset += fetched;
  }
  return { entries: entries.slice(0, count), more: entries.length > count };
}
