/**
 * Claims in the Redis spool where the record is not what a claim expects
 * (src/spool/redis/claims.ts), against the real Redis on REDIS_URL: an
 * unreadable record is set aside, claimed, with one warning naming it; a
 * limit below one claims nothing.
 */
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { openRedisSpool } from '../../src/spool/redis-spool.js';
import type { Spool } from '../../src/spool/spool.js';
import { REDIS_URL, deleteKeys, redisUnavailable, uniquePrefix, withRedis } from '../helpers/redis.js';
import { envelope } from './contract.js';
import { capturingLogger } from '../helpers/log-lines.js';

const unavailable = await redisUnavailable();
if (unavailable) console.warn(`skipping Redis claim tests: ${unavailable}`);

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function spoolWithLog(): Promise<{
  spool: Spool;
  prefix: string;
  lines: ReturnType<typeof capturingLogger>['lines'];
}> {
  const prefix = uniquePrefix('claims');
  const log = capturingLogger();
  const spool = await openRedisSpool({ url: REDIS_URL, prefix, logger: log.logger });
  cleanup.push(async () => {
    await spool.close();
    await deleteKeys(prefix);
  });
  return { spool, prefix, lines: log.lines };
}

describe.skipIf(unavailable !== undefined)('Redis claims (needs Redis)', () => {
  it('sets an unreadable record aside, claimed, warning once with its id', async () => {
    const { spool, prefix, lines } = await spoolWithLog();
    const at = Date.now();
    const torn = await spool.store(envelope({ recipients: ['a@x.test'] }, at), Readable.from([Buffer.from('x')]));
    const fine = await spool.store(envelope({ recipients: ['b@x.test'] }, at), Readable.from([Buffer.from('y')]));
    await withRedis((r) => r.hset(`${prefix}msg:${torn.id}`, 'e', '{ torn'));
    const claimed = await spool.claim(at, 10);
    expect(claimed.map((m) => m.record.id)).toEqual([fine.id]);
    expect(lines.filter((l) => l.msg === 'claimed message is unreadable; left aside')).toEqual([
      expect.objectContaining({ level: 'warn', component: 'spool', backend: 'redis', id: torn.id }),
    ]);
    // still claimed by this node: no later claim sees it again
    expect(await spool.claim(at + 3_600_000, 10)).toEqual([]);
    expect(await withRedis((r) => r.sismember(`${prefix}claims`, torn.id))).toBe(1);
  });

  it('claims nothing for a limit below one', async () => {
    const { spool } = await spoolWithLog();
    const at = Date.now();
    await spool.store(envelope({ recipients: ['a@x.test'] }, at), Readable.from([Buffer.from('x')]));
    expect(await spool.claim(at, 0)).toEqual([]);
    expect(await spool.claim(at, 0.5)).toEqual([]);
    expect(await spool.claim(at, Number.NaN)).toEqual([]);
    expect((await spool.claim(at, 1.5)).length).toBe(1);
  });
});
