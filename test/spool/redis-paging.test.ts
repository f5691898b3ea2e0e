/**
 * Paging a Redis sorted set from a position (src/spool/redis/paging.ts):
 * cursors that are ours round-trip and anything else is refused by name;
 * pages against the real Redis on REDIS_URL stay right across ties of one
 * score longer than a page, and say whether more follow.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, zpage } from '../../src/spool/redis/paging.js';
import { SpoolError } from '../../src/spool/spool.js';
import { REDIS_URL, deleteKeys, redisUnavailable, uniquePrefix } from '../helpers/redis.js';

describe('listing cursors', () => {
  it('round-trips a position', () => {
    const p = { score: 1765094400123, id: '01k97v4a80tlrgddek5t' };
    expect(encodeCursor(p)).toBe('1765094400123_01k97v4a80tlrgddek5t');
    expect(decodeCursor(encodeCursor(p))).toEqual(p);
    expect(decodeCursor('0_a')).toEqual({ score: 0, id: 'a' });
  });

  it.each([
    ['no score', '_abc'],
    ['no separator', 'abc'],
    ['a score that is no number', 'x_abc'],
    ['an endless score', 'Infinity_abc'],
    ['capitals in the id', '5_ABC'],
    ['a foreign first character', '5_!abc'],
    ['a foreign last character', '5_abc!'],
    ['no id', '5_'],
  ])('refuses a cursor with %s, naming it', (_why, cursor) => {
    expect(() => decodeCursor(cursor)).toThrow(new SpoolError(`not a listing cursor: ${JSON.stringify(cursor)}`));
  });
});

const unavailable = await redisUnavailable();
if (unavailable) console.warn(`skipping Redis paging tests: ${unavailable}`);

describe.skipIf(unavailable !== undefined)('pages of a sorted set (needs Redis)', () => {
  const prefix = uniquePrefix('paging');
  const key = `${prefix}set`;
  let redis: Redis;

  beforeAll(async () => {
    redis = new Redis(REDIS_URL);
    // five members at score 10 (more than a page of two), then one each at 20 and 30
    await redis.zadd(key, 10, 'e', 10, 'a', 10, 'c', 10, 'b', 10, 'd', 20, 'f', 30, 'g');
  });
  afterAll(async () => {
    await deleteKeys(prefix);
    redis.disconnect();
  });

  async function walk(count: number, max = '+inf'): Promise<string[][]> {
    const pages: string[][] = [];
    let after: { score: number; id: string } | undefined;
    for (;;) {
      const page = await zpage(redis, key, after, max, count);
      pages.push(page.entries.map((e) => `${e.score}:${e.id}`));
      if (!page.more) return pages;
      after = page.entries[page.entries.length - 1];
    }
  }

  it('walks every member once, in score then byte order, across ties longer than a page', async () => {
    expect(await walk(2)).toEqual([['10:a', '10:b'], ['10:c', '10:d'], ['10:e', '20:f'], ['30:g']]);
    expect(await walk(7)).toEqual([['10:a', '10:b', '10:c', '10:d', '10:e', '20:f', '30:g']]);
    expect(await walk(6)).toEqual([['10:a', '10:b', '10:c', '10:d', '10:e', '20:f'], ['30:g']]);
  });

  it('stops at the upper bound it is given', async () => {
    expect(await walk(3, '(20')).toEqual([
      ['10:a', '10:b', '10:c'],
      ['10:d', '10:e'],
    ]);
    expect(await walk(10, '20')).toEqual([['10:a', '10:b', '10:c', '10:d', '10:e', '20:f']]);
  });

  it('starts after a position even when its member is gone', async () => {
    const page = await zpage(redis, key, { score: 10, id: 'bb' }, '+inf', 3);
    expect(page.entries.map((e) => e.id)).toEqual(['c', 'd', 'e']);
    expect(page.more).toBe(true);
    const last = await zpage(redis, key, { score: 25, id: 'zz' }, '+inf', 3);
    expect(last).toEqual({ entries: [{ score: 30, id: 'g' }], more: false });
  });
});
