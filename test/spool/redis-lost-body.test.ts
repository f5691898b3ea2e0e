/**
 * A Redis store whose temporary body key is lost while the body still
 * arrives (src/spool/redis/body.ts), against the real Redis on REDIS_URL:
 * the key is deleted between two chunks, as an idle expiry or an operator
 * would. The store is refused (the next APPEND's length gives it away), and
 * nothing of the message is left: no record, no body, no place in the queue,
 * no count; the next message is stored as usual.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openRedisSpool } from '../../src/spool/redis-spool.js';
import { REDIS_URL, deleteKeys, keysUnder, redisUnavailable, uniquePrefix, withRedis } from '../helpers/redis.js';
import { eventually } from '../helpers/eventually.js';
import { envelope, readAll } from './contract.js';

const unavailable = await redisUnavailable();
if (unavailable) console.warn(`skipping Redis lost-body tests: ${unavailable}`);

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe.skipIf(unavailable !== undefined)('Redis body lost while it arrives (needs Redis)', () => {
  it('refuses the message and leaves nothing of it', async () => {
    const prefix = uniquePrefix('lost-body');
    const spool = await openRedisSpool({ url: REDIS_URL, prefix });
    cleanup.push(async () => {
      await spool.close();
      await deleteKeys(prefix);
    });
    const before = (await keysUnder(prefix)).sort();
    let open = (): void => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    async function* body(): AsyncGenerator<Buffer> {
      yield Buffer.alloc(300 * 1024, 'a'); // over one chunk: written to the temporary key
      await gate;
      yield Buffer.from('\r\nthe end\r\n');
    }
    const storing = spool.store(envelope({ recipients: ['a@x.test', 'b@y.test'] }, Date.now()), body());
    let tmp: string | undefined;
    await eventually(
      async () => {
        tmp = (await keysUnder(prefix)).find((k) => k.startsWith(`${prefix}tmp:`));
        return tmp !== undefined;
      },
      5_000,
      () => 'the temporary body key',
    );
    await withRedis((r) => r.del(tmp ?? ''));
    open();
    await expect(storing).rejects.toThrow();
    expect((await keysUnder(prefix)).sort()).toEqual(before.filter((k) => !k.startsWith(`${prefix}tmp:`)));
    expect(await spool.depth()).toBe(0);
    expect((await spool.list({ limit: 10 })).items).toEqual([]);
    expect(await spool.claim(Date.now() + 1_000, 10)).toEqual([]);
    // and the next message is stored as usual
    const next = await spool.store(
      envelope({ recipients: ['c@x.test'] }, Date.now()),
      (async function* () {
        yield Buffer.from('fine\r\n');
      })(),
    );
    expect((await readAll(await spool.openBody(next))).toString()).toBe('fine\r\n');
  });
});
