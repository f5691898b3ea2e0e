import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { firstValueFrom, take, timeout } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger, type Logger } from '../../src/log/logger.js';
import { openRedisSpool, type RedisSpoolOptions } from '../../src/spool/redis-spool.js';
import { evictionNotice, persistenceNotice } from '../../src/spool/redis/durability.js';
import { SpoolError, type Spool } from '../../src/spool/spool.js';
import { reservePort } from '../helpers/sink.js';
import { deleteKeys, keysUnder, REDIS_URL, redisUnavailable, startTcpProxy, uniquePrefix, withRedis } from '../helpers/redis.js';
import { envelope, readAll, spoolContract } from './contract.js';

const unavailable = await redisUnavailable();
if (unavailable) console.warn(`skipping the Redis spool tests: ${unavailable}`);

const FILE_PREFIX = uniquePrefix('spool');
let fixtures = 0;
/** Every spool of this file lives under FILE_PREFIX; each fixture gets its own prefix below it. */
function nextPrefix(): string {
  fixtures += 1;
  return `${FILE_PREFIX}${fixtures}:`;
}

function open(options: Partial<RedisSpoolOptions> & { prefix: string }): Promise<Spool> {
  return openRedisSpool({ url: REDIS_URL, ...options });
}

function bodyOf(text: string): AsyncIterable<Buffer> {
  return Readable.from([Buffer.from(text)]);
}

/** A real pino logger whose lines the test reads back as { level, msg }. */
function capturingLogger(): { logger: Logger; lines(): { level: string; msg: string }[] } {
  const lines: { level: string; msg: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        const { level, msg } = JSON.parse(line) as { level: string; msg: string };
        lines.push({ level, msg });
      }
      callback();
    },
  });
  return { logger: createLogger('info', sink), lines: () => lines };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

afterAll(async () => {
  if (!unavailable) await deleteKeys(FILE_PREFIX);
});

describe.skipIf(unavailable !== undefined)('Redis spool', () => {
  spoolContract('redis', async () => {
    const prefix = nextPrefix();
    let clock = Date.UTC(2026, 10, 24, 12, 0, 0);
    const spool = await open({ prefix, now: () => clock });
    return {
      spool,
      advance: (ms) => void (clock += ms),
      now: () => clock,
      close: async () => {
        await spool.close();
        await deleteKeys(prefix);
      },
    };
  });

  describe('two daemons on one prefix', () => {
    it('takes over the claims of a node that stopped heartbeating, not those of a live one', async () => {
      const prefix = nextPrefix();
      const ttl = 1_000;
      const a = await open({ prefix, nodeTtlMs: ttl });
      const b = await open({ prefix, nodeTtlMs: ttl });
      try {
        const record = await a.store(envelope({ receivedAt: Date.now() }), bodyOf('x\r\n'));
        expect((await a.claimDue(Date.now(), 10, 15 * 60_000)).length).toBe(2);
        await sleep(2.5 * ttl); // a keeps heartbeating: its claims stay its own
        expect(await b.claimDue(Date.now(), 10, 15 * 60_000)).toEqual([]);
        await a.close(); // a dies holding both claims (no release)
        const wakeAt = await b.nextDueAt();
        expect(wakeAt).toBeDefined();
        expect(wakeAt).toBeLessThanOrEqual(Date.now() + ttl); // b's scheduler wakes for the takeover
        await sleep(ttl + 200);
        const taken = await b.claimDue(Date.now(), 10, 15 * 60_000);
        expect(taken.map((d) => [d.id, d.recipient])).toEqual([
          [record.id, 'Bob@example.test'],
          [record.id, 'carol@example.test'],
        ]);
        expect(await b.claimDue(Date.now(), 10, 15 * 60_000)).toEqual([]);
      } finally {
        await a.close();
        await b.close();
        await deleteKeys(prefix);
      }
    });

    it('hands a claim whose lease ran out to the other node; the old holder cannot release it', async () => {
      const prefix = nextPrefix();
      let clock = Date.now();
      const a = await open({ prefix, now: () => clock });
      const b = await open({ prefix, now: () => clock });
      try {
        const record = await a.store(envelope({ recipients: ['only@example.test'] }, clock), bodyOf('x\r\n'));
        expect((await a.claimDue(clock, 10, 60_000)).length).toBe(1);
        expect(await b.claimDue(clock + 59_999, 10, 60_000)).toEqual([]);
        clock += 60_000;
        expect((await b.claimDue(clock, 10, 60_000)).map((d) => d.recipient)).toEqual(['only@example.test']);
        await a.release(record.id, ['only@example.test']); // too late: b holds it now
        expect(await a.claimDue(clock, 10, 60_000)).toEqual([]);
        const done = await b.update(record.id, [{ recipient: 'only@example.test', status: 'delivered', attempts: 1, nextAttemptAt: clock, lastResponse: '250 ok' }]);
        expect(done.recipients[0]?.status).toBe('delivered');
        expect((await a.get(record.id))?.recipients[0]?.status).toBe('delivered');
      } finally {
        await a.close();
        await b.close();
        await deleteKeys(prefix);
      }
    });

    it('claims each recipient once when two nodes race for the same queue', async () => {
      const prefix = nextPrefix();
      const a = await open({ prefix });
      const b = await open({ prefix });
      try {
        for (let i = 0; i < 50; i++) await (i % 2 ? a : b).store(envelope({ recipients: [`r${i}@example.test`], receivedAt: Date.now() }), bodyOf(`${i}\r\n`));
        const claimed: string[] = [];
        await Promise.all(
          [a, b, a, b, a, b].map(async (spool) => {
            for (;;) {
              const due = await spool.claimDue(Date.now(), 3, 60_000);
              if (due.length === 0) return;
              claimed.push(...due.map((d) => d.recipient));
            }
          }),
        );
        expect(claimed.length).toBe(50);
        expect(new Set(claimed).size).toBe(50);
        expect(await a.depth()).toBe(50);
      } finally {
        await a.close();
        await b.close();
        await deleteKeys(prefix);
      }
    });

    it('wakes the other daemon when one accepts mail, retries or releases', async () => {
      const prefix = nextPrefix();
      const a = await open({ prefix });
      const b = await open({ prefix });
      try {
        const woke = firstValueFrom(b.wake$.pipe(take(1), timeout(3_000)));
        const record = await a.store(envelope({ receivedAt: Date.now() }), bodyOf('x\r\n'));
        await woke;
        await a.claimDue(Date.now(), 10, 60_000);
        const released = firstValueFrom(b.wake$.pipe(take(1), timeout(3_000)));
        await a.release(record.id, ['Bob@example.test']);
        await released;
        const retried = firstValueFrom(b.wake$.pipe(take(1), timeout(3_000)));
        await a.retryNow();
        await retried;
      } finally {
        await a.close();
        await b.close();
        await deleteKeys(prefix);
      }
    });

    it('keeps prefixes apart', async () => {
      const one = await open({ prefix: nextPrefix() });
      const other = await open({ prefix: nextPrefix() });
      try {
        const record = await one.store(envelope({ receivedAt: Date.now() }), bodyOf('x\r\n'));
        expect(await other.get(record.id)).toBeUndefined();
        expect(await other.list()).toEqual([]);
        expect(await other.claimDue(Date.now(), 10, 60_000)).toEqual([]);
      } finally {
        await one.close();
        await other.close();
      }
    });
  });

  describe('bodies', () => {
    it('streams a 10 MiB body in and out intact, in bounded chunks', async () => {
      const prefix = nextPrefix();
      const spool = await open({ prefix });
      try {
        const hash = createHash('sha256');
        let sent = 0;
        const body = (async function* () {
          for (let i = 0; i < 160; i++) {
            const chunk = randomBytes(64 * 1024);
            hash.update(chunk);
            sent += chunk.length;
            yield chunk;
          }
        })();
        const record = await spool.store(envelope({ receivedAt: Date.now() }), body);
        expect(record.size).toBe(10 * 1024 * 1024);
        expect(sent).toBe(record.size);
        const back = createHash('sha256');
        let received = 0;
        let largest = 0;
        for await (const chunk of await spool.openBody(record.id)) {
          back.update(chunk);
          received += chunk.length;
          largest = Math.max(largest, chunk.length);
        }
        expect(received).toBe(record.size);
        expect(back.digest('hex')).toBe(hash.digest('hex'));
        expect(largest).toBeLessThanOrEqual(256 * 1024);
        expect((await keysUnder(prefix)).filter((k) => k.includes(':tmp:'))).toEqual([]);
      } finally {
        await spool.close();
        await deleteKeys(prefix);
      }
    });

    it('keeps a body being received under an idle expiry and deletes it when the body fails', async () => {
      const prefix = nextPrefix();
      const spool = await open({ prefix, tmpIdleTtlMs: 60_000 });
      try {
        let ttl = -3;
        const failing = (async function* () {
          yield Buffer.alloc(300 * 1024, 'a'); // more than one APPEND chunk: written before the failure
          yield Buffer.alloc(1024, 'b');
          const [tmp] = (await keysUnder(prefix)).filter((k) => k.includes(':tmp:'));
          ttl = tmp ? await withRedis((r) => r.pttl(tmp)) : -2;
          throw new Error('size limit');
        })();
        await expect(spool.store(envelope({ receivedAt: Date.now() }), failing)).rejects.toThrow('size limit');
        expect(ttl).toBeGreaterThan(50_000);
        expect(ttl).toBeLessThanOrEqual(60_000);
        expect(await keysUnder(prefix)).toEqual([`${prefix}nodes`]);
      } finally {
        await spool.close();
        await deleteKeys(prefix);
      }
    });
    it('rejects a body whose partial copy expired while the client was idle, rather than store its tail', async () => {
      const prefix = nextPrefix();
      const spool = await open({ prefix, tmpIdleTtlMs: 100 });
      try {
        const slow = (async function* () {
          yield Buffer.alloc(300 * 1024, 'a');
          await sleep(400);
          yield Buffer.from('tail\r\n');
        })();
        await expect(spool.store(envelope({ receivedAt: Date.now() }), slow)).rejects.toBeInstanceOf(SpoolError);
        expect(await spool.list()).toEqual([]);
        expect(await keysUnder(prefix)).toEqual([`${prefix}nodes`]);
      } finally {
        await spool.close();
        await deleteKeys(prefix);
      }
    });
  });

  describe('retention', () => {
    it('gives a finished message and its body the retention expiry, and a waiting one none', async () => {
      const prefix = nextPrefix();
      const spool = await open({ prefix, retentionDays: 2 });
      try {
        const record = await spool.store(envelope({ receivedAt: Date.now() }), bodyOf('x\r\n'));
        const ttls = (): Promise<number[]> => withRedis(async (r) => [await r.pttl(`${prefix}msg:${record.id}`), await r.pttl(`${prefix}body:${record.id}`)]);
        await spool.update(record.id, [{ recipient: 'Bob@example.test', status: 'delivered', attempts: 1, nextAttemptAt: Date.now() }]);
        expect(await ttls()).toEqual([-1, -1]); // carol still waits
        await spool.update(record.id, [{ recipient: 'carol@example.test', status: 'bounced', attempts: 1, nextAttemptAt: Date.now() }]);
        for (const ttl of await ttls()) {
          expect(ttl).toBeGreaterThan(2 * 86_400_000 - 60_000);
          expect(ttl).toBeLessThanOrEqual(2 * 86_400_000);
        }
        // once expired, the message is gone from the list as well
        await withRedis((r) => r.del(`${prefix}msg:${record.id}`, `${prefix}body:${record.id}`));
        expect(await spool.list()).toEqual([]);
        expect(await withRedis((r) => r.zcard(`${prefix}messages`))).toBe(0);
      } finally {
        await spool.close();
        await deleteKeys(prefix);
      }
    });
  });

  describe('outages', () => {
    it('fails to open, promptly and with SpoolError, when nothing listens', async () => {
      const port = await reservePort();
      const started = Date.now();
      await expect(openRedisSpool({ url: `redis://127.0.0.1:${port}`, prefix: nextPrefix() })).rejects.toBeInstanceOf(SpoolError);
      expect(Date.now() - started).toBeLessThan(3_000);
    });

    it('rejects store and check with SpoolError at once while Redis is away, keeps queued work, and recovers', async () => {
      const prefix = nextPrefix();
      const proxy = await startTcpProxy();
      const log = capturingLogger();
      const spool = await open({ url: proxy.url, prefix, logger: log.logger });
      try {
        const kept = await spool.store(envelope({ receivedAt: Date.now() }), bodyOf('kept\r\n'));
        await proxy.cut();
        await sleep(50);
        const started = Date.now();
        const stored = spool.store(envelope({ receivedAt: Date.now() }), bodyOf('lost\r\n'));
        await expect(stored).rejects.toBeInstanceOf(SpoolError);
        await expect(spool.check()).rejects.toBeInstanceOf(SpoolError);
        await expect(spool.claimDue(Date.now(), 10, 60_000)).rejects.toBeInstanceOf(SpoolError);
        expect(Date.now() - started).toBeLessThan(2_000); // at once, not after a timeout
        expect(log.lines()).toContainEqual({ level: 'warn', msg: 'Redis connection lost; reconnecting' });

        const woke = firstValueFrom(spool.wake$.pipe(take(1), timeout(10_000)));
        await proxy.resume();
        await woke; // the reconnect wakes the scheduler
        await expect(spool.check()).resolves.toBeUndefined();
        expect((await spool.list()).map((r) => r.id)).toEqual([kept.id]);
        expect((await readAll(await spool.openBody(kept.id))).toString()).toBe('kept\r\n');
        expect((await spool.claimDue(Date.now(), 10, 60_000)).map((d) => d.recipient)).toEqual(['Bob@example.test', 'carol@example.test']);
        expect((await keysUnder(prefix)).filter((k) => k.includes(':tmp:'))).toEqual([]);
      } finally {
        await spool.close();
        await proxy.close();
        await deleteKeys(prefix);
      }
    });

    it('rejects a store whose connection drops mid-body, leaving no record', async () => {
      const prefix = nextPrefix();
      const proxy = await startTcpProxy();
      const spool = await open({ url: proxy.url, prefix });
      try {
        const body = (async function* () {
          yield Buffer.alloc(300 * 1024, 'a');
          await proxy.cut();
          yield Buffer.alloc(300 * 1024, 'b');
        })();
        await expect(spool.store(envelope({ receivedAt: Date.now() }), body)).rejects.toBeInstanceOf(SpoolError);
        await proxy.resume();
        await sleep(500);
        const left = await keysUnder(prefix);
        expect(left.filter((k) => !k.endsWith(':nodes') && !k.includes(':tmp:'))).toEqual([]);
        // the partial body may outlive the failed DEL, but only under its idle expiry
        for (const tmp of left.filter((k) => k.includes(':tmp:'))) expect(await withRedis((r) => r.pttl(tmp))).toBeGreaterThan(0);
      } finally {
        await spool.close();
        await proxy.close();
        await deleteKeys(prefix);
      }
    });
  });

  describe('start-up', () => {
    it('says what the persistence settings make of a 250', async () => {
      const prefix = nextPrefix();
      const log = capturingLogger();
      const spool = await open({ prefix, logger: log.logger });
      try {
        const appendonly = await withRedis(async (r) => {
          try {
            const reply = (await r.config('GET', 'appendonly')) as string[];
            return reply[1];
          } catch {
            return undefined;
          }
        });
        if (appendonly === 'no') expect(log.lines()).toContainEqual({ level: 'warn', msg: expect.stringContaining('appendonly no') });
        else expect(log.lines().length).toBeGreaterThan(0);
      } finally {
        await spool.close();
        await deleteKeys(prefix);
      }
    });
  });
});

describe('Redis persistence notices', () => {
  it.each([
    [{ kind: 'none' } as const, 'warn', /appendonly no/],
    [{ kind: 'unknown', reason: 'ERR unknown command CONFIG' } as const, 'warn', /could not read/],
    [{ kind: 'aof', fsync: 'always' } as const, 'info', /every write/],
    [{ kind: 'aof', fsync: 'everysec' } as const, 'info', /up to 1 s/],
    [{ kind: 'aof', fsync: 'no' } as const, 'warn', /appendfsync no/],
  ])('%j → %s', (persistence, level, text) => {
    const notice = persistenceNotice(persistence);
    expect(notice.level).toBe(level);
    expect(notice.message).toMatch(text);
  });

  it('warns about eviction policies that may drop queued mail', () => {
    expect(evictionNotice('noeviction')).toBeUndefined();
    expect(evictionNotice('volatile-lru')).toBeUndefined();
    expect(evictionNotice(undefined)).toBeUndefined();
    expect(evictionNotice('allkeys-lru')?.level).toBe('warn');
  });
});
