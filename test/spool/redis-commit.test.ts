/**
 * A Redis store whose transaction fails part-way (src/spool/redis/commit.ts),
 * against the real Redis on REDIS_URL: the queue's `waiting` set is made a
 * string, so its ZADD inside the MULTI/EXEC fails while the other commands
 * run. The store must be refused (the client gets no 250), and what the
 * other commands wrote is taken back.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openRedisSpool } from '../../src/spool/redis-spool.js';
import { REDIS_URL, deleteKeys, keysUnder, redisUnavailable, uniquePrefix, withRedis } from '../helpers/redis.js';
import { envelope, readAll } from './contract.js';

const unavailable = await redisUnavailable();
if (unavailable) console.warn(`skipping Redis commit tests: ${unavailable}`);

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const body = (text: string) =>
  (async function* () {
    yield Buffer.from(text);
  })();

describe.skipIf(unavailable !== undefined)('Redis commit that fails part-way (needs Redis)', () => {
  it('refuses the message and takes back what the transaction wrote', async () => {
    const prefix = uniquePrefix('commit');
    const spool = await openRedisSpool({ url: REDIS_URL, prefix });
    cleanup.push(async () => {
      await spool.close();
      await deleteKeys(prefix);
    });
    await withRedis((r) => r.set(`${prefix}waiting`, 'not a sorted set'));
    await expect(spool.store(envelope({ recipients: ['a@x.test'] }, Date.now()), body('x\r\n'))).rejects.toThrow();
    // nothing of the message: no record, no body, not listed, not due, not counted
    expect(
      (await keysUnder(prefix)).filter((k) => k.startsWith(`${prefix}msg:`) || k.startsWith(`${prefix}body:`)),
    ).toEqual([]);
    expect(await withRedis((r) => r.zcard(`${prefix}messages`))).toBe(0);
    expect(await withRedis((r) => r.zcard(`${prefix}due`))).toBe(0);
    expect(await spool.depth()).toBe(0);
    // the key put right, the next message is stored as usual
    await withRedis((r) => r.del(`${prefix}waiting`));
    const next = await spool.store(envelope({ recipients: ['b@x.test'] }, Date.now()), body('fine\r\n'));
    expect((await readAll(await spool.openBody(next))).toString()).toBe('fine\r\n');
    expect(await spool.depth()).toBe(1);
  });
});
