/**
 * Redis replies into typed values and Lua scripts by SHA
 * (src/spool/redis/replies.ts, lua.ts): the script runs are against the real
 * Redis on REDIS_URL, with scripts no other test loads (a random constant in
 * each), so the first run meets NOSCRIPT.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LuaScript } from '../../src/spool/redis/lua.js';
import { guarded, isStringRecord, numbers, pipelineReplies, strings } from '../../src/spool/redis/replies.js';
import { SpoolError } from '../../src/spool/spool.js';
import { REDIS_URL, deleteKeys, redisUnavailable, uniquePrefix } from '../helpers/redis.js';

describe('Redis replies', () => {
  it('tells a hash reply from arrays, nil and scalars', () => {
    expect(isStringRecord({ a: '1' })).toBe(true);
    expect(isStringRecord({})).toBe(true);
    expect(isStringRecord(null)).toBe(false);
    expect(isStringRecord(['a'])).toBe(false);
    expect(isStringRecord('a')).toBe(false);
    expect(isStringRecord(undefined)).toBe(false);
  });

  it('reads array replies as strings and numbers, nil entries as empty, anything else as nothing', () => {
    expect(strings(['a', 7, null, 'b'])).toEqual(['a', '7', '', 'b']);
    expect(strings('a')).toEqual([]);
    expect(strings(null)).toEqual([]);
    expect(numbers(['1', 2, '3.5'])).toEqual([1, 2, 3.5]);
    expect(numbers(undefined)).toEqual([]);
  });

  it('gives a pipeline’s replies in order, and throws its first error or its discarding', () => {
    expect(
      pipelineReplies([
        [null, 'a'],
        [null, 2],
      ]),
    ).toEqual(['a', 2]);
    const first = new Error('WRONGTYPE first');
    expect(() =>
      pipelineReplies([
        [null, 'a'],
        [first, null],
        [new Error('second'), null],
      ]),
    ).toThrow(first);
    expect(() => pipelineReplies(null)).toThrow('pipeline discarded');
  });

  it('turns any failure of a step into SpoolError, and lets results through', async () => {
    expect(await guarded(() => Promise.resolve(5))).toBe(5);
    const error = await guarded(() => Promise.reject(new Error('READONLY You can’t write'))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpoolError);
    expect((error as Error).message).toMatch(/READONLY/);
  });
});

const unavailable = await redisUnavailable();
if (unavailable) console.warn(`skipping Redis script tests: ${unavailable}`);

describe.skipIf(unavailable !== undefined)('Lua scripts by SHA (needs Redis)', () => {
  const prefix = uniquePrefix('scripts');
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    await deleteKeys(prefix);
    redis.disconnect();
  });

  it('loads a script Redis lacks on its first run, then runs it by SHA', async () => {
    const tag = randomBytes(6).toString('hex');
    const script = new LuaScript(`return {KEYS[1], ARGV[1], '${tag}'}`);
    expect(await script.run(redis, [`${prefix}k`], ['v'])).toEqual([`${prefix}k`, 'v', tag]);
    expect(await script.run(redis, [`${prefix}k2`], [7])).toEqual([`${prefix}k2`, '7', tag]);
  });

  it('runs a failing script once per call: its error is not taken for NOSCRIPT', async () => {
    const tag = randomBytes(6).toString('hex');
    const counter = `${prefix}runs-${tag}`;
    const script = new LuaScript(`redis.call('INCR', KEYS[1]) return redis.error_reply('BOOM ${tag}')`);
    await expect(script.run(redis, [counter], [])).rejects.toThrow(`BOOM ${tag}`);
    await expect(script.run(redis, [counter], [])).rejects.toThrow(`BOOM ${tag}`);
    expect(await redis.get(counter)).toBe('2');
  });
});
