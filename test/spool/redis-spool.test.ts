import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { firstValueFrom, take, timeout } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger, type Logger } from '../../src/log/logger.js';
import { openRedisSpool, type RedisSpoolOptions } from '../../src/spool/redis-spool.js';
import { evictionNotice, persistenceNotice } from '../../src/spool/redis/durability.js';
import type { MessageRecord } from '../../src/domain/envelope.js';
import { SpoolError, type RecipientUpdate, type Spool } from '../../src/spool/spool.js';
import { eventually } from '../helpers/eventually.js';
import { reservePort } from '../helpers/sink.js';
import {
  deleteKeys,
  keysUnder,
  REDIS_URL,
  redisUnavailable,
  startTcpProxy,
  uniquePrefix,
  withRedis,
} from '../helpers/redis.js';
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

async function claimedIds(spool: Spool, now: number, limit = 100): Promise<string[]> {
  return (await spool.claim(now, limit)).map((m) => m.record.id);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

afterAll(async () => {
  if (!unavailable) await deleteKeys(FILE_PREFIX);
});

describe.skipIf(unavailable !== undefined)(`Redis spool${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  spoolContract('redis', async () => {
    const prefix = nextPrefix();
    let clock = Date.UTC(2026, 10, 24, 12, 0, 0);
    let spool = await open({ prefix, now: () => clock });
    return {
      get spool() {
        return spool;
      },
      advance: (ms) => void (clock += ms),
      now: () => clock,
      restart: async () => {
        await spool.close();
        spool = await open({ prefix, now: () => clock });
      },
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
        expect(await claimedIds(a, Date.now())).toEqual([record.id]);
        // the thing under test is that nothing happens: a keeps heartbeating past 2 TTLs, its claim stays its own
        await sleep(2.5 * ttl);
        expect(await b.claim(Date.now(), 10)).toEqual([]);
        await a.close(); // a dies holding the claim (no release)
        const wakeAt = await b.nextDueAt();
        expect(wakeAt).toBeDefined();
        expect(wakeAt).toBeLessThanOrEqual(Date.now() + ttl); // b's scheduler wakes for the takeover
        // a's heartbeat runs out after ttl: b's claim then takes the message over
        let claimed: Awaited<ReturnType<Spool['claim']>> = [];
        await eventually(
          async () => (claimed = await b.claim(Date.now(), 10)).length > 0,
          ttl + 3_000,
          () => "b's takeover of a's claim",
        );
        const [taken, ...none] = claimed;
        expect(none).toEqual([]);
        expect(taken?.record).toEqual(record);
        expect(taken?.due.map((r) => r.recipient)).toEqual(['Bob@example.test', 'carol@example.test']);
        expect(await b.claim(Date.now(), 10)).toEqual([]);
      } finally {
        await a.close();
        await b.close();
        await deleteKeys(prefix);
      }
    });

    it('never lets a live node lose its claim, however long it holds it', async () => {
      const prefix = nextPrefix();
      let clock = Date.now();
      const a = await open({ prefix, now: () => clock });
      const b = await open({ prefix, now: () => clock });
      try {
        const record = await a.store(envelope({ recipients: ['only@example.test'] }, clock), bodyOf('x\r\n'));
        expect(await claimedIds(a, clock)).toEqual([record.id]);
        for (const hours of [1, 6, 48]) {
          clock += hours * 3_600_000;
          expect(await b.claim(clock, 10)).toEqual([]);
          expect(await a.claim(clock, 10)).toEqual([]);
          // b may look again when a's heartbeat would lapse, never for a due time
          expect(await b.nextDueAt()).toBeGreaterThan(clock);
        }
        await a.release(record.id);
        expect(await claimedIds(b, clock)).toEqual([record.id]);
      } finally {
        await a.close();
        await b.close();
        await deleteKeys(prefix);
      }
    });

    it('leaves the new owner its claim when the node that lost it releases it', async () => {
      const prefix = nextPrefix();
      const a = await open({ prefix, nodeTtlMs: 60_000 });
      const [aNode] = await withRedis((r) => r.zrange(`${prefix}nodes`, 0, -1));
      const b = await open({ prefix, nodeTtlMs: 60_000 });
      try {
        const record = await a.store(
          envelope({ recipients: ['only@example.test'], receivedAt: Date.now() }),
          bodyOf('x\r\n'),
        );
        expect(await claimedIds(a, Date.now())).toEqual([record.id]);
        // a stalls past its heartbeat (as in a long pause): b's next claim takes a's claim over
        await withRedis((r) => r.zadd(`${prefix}nodes`, 0, aNode ?? ''));
        expect(await claimedIds(b, Date.now())).toEqual([record.id]);
        const bNode = await withRedis((r) => r.hget(`${prefix}owners`, record.id));
        expect(bNode).not.toBe(aNode);
        await a.release(record.id); // too late: b holds it now
        expect(await withRedis((r) => r.hget(`${prefix}owners`, record.id))).toBe(bNode);
        expect(await a.claim(Date.now(), 10)).toEqual([]);
        expect(await withRedis((r) => r.smembers(`${prefix}held:${bNode ?? ''}`))).toEqual([record.id]);
        const done = await b.update(record.id, [
          {
            recipient: 'only@example.test',
            status: 'delivered',
            attempts: 1,
            nextAttemptAt: Date.now(),
            lastResponse: '250 ok',
          },
        ]);
        expect(done.recipients[0]?.status).toBe('delivered');
        await b.release(record.id);
        expect((await a.get(record.id))?.recipients[0]?.status).toBe('delivered');
        expect(
          await withRedis((r) => r.exists(`${prefix}owners`, `${prefix}claims`, `${prefix}held:${bNode ?? ''}`)),
        ).toBe(0);
      } finally {
        await a.close();
        await b.close();
        await deleteKeys(prefix);
      }
    });

    it('claims each message once when two nodes race for the same queue', async () => {
      const prefix = nextPrefix();
      const a = await open({ prefix });
      const b = await open({ prefix });
      try {
        for (let i = 0; i < 50; i++) {
          await (i % 2 ? a : b).store(
            envelope({ recipients: [`r${i}@example.test`, `s${i}@other.test`], receivedAt: Date.now() }),
            bodyOf(`${i}\r\n`),
          );
        }
        const claimed: string[] = [];
        const recipients: string[] = [];
        await Promise.all(
          [a, b, a, b, a, b].map(async (spool) => {
            for (;;) {
              const batch = await spool.claim(Date.now(), 3);
              if (batch.length === 0) return;
              claimed.push(...batch.map((m) => m.record.id));
              recipients.push(...batch.flatMap((m) => m.due.map((r) => r.recipient)));
            }
          }),
        );
        expect(claimed.length).toBe(50);
        expect(new Set(claimed).size).toBe(50);
        expect(new Set(recipients).size).toBe(100); // whole messages: never split between nodes
        expect(await a.depth()).toBe(100);
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
        await a.claim(Date.now(), 10);
        const released = firstValueFrom(b.wake$.pipe(take(1), timeout(3_000)));
        await a.release(record.id);
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
        expect((await other.list({ limit: 10 })).items).toEqual([]);
        expect(await other.claim(Date.now(), 10)).toEqual([]);
        expect(await other.depth()).toBe(0);
      } finally {
        await one.close();
        await other.close();
      }
    });
  });

  describe('indexes and counters', () => {
    /** A spool on its own prefix with a clock the test moves. */
    async function clocked(): Promise<{
      spool: Spool;
      prefix: string;
      clock: { now: number };
      close(): Promise<void>;
    }> {
      const prefix = nextPrefix();
      const clock = { now: Date.UTC(2026, 10, 24, 12, 0, 0) };
      const spool = await open({ prefix, now: () => clock.now });
      return { spool, prefix, clock, close: async () => (await spool.close(), await deleteKeys(prefix)) };
    }
    const delivered = (recipient: string, at: number): RecipientUpdate => ({
      recipient,
      status: 'delivered',
      attempts: 1,
      nextAttemptAt: at,
      lastResponse: '250 ok',
    });
    const deferred = (recipient: string, at: number): RecipientUpdate => ({
      recipient,
      status: 'deferred',
      attempts: 1,
      nextAttemptAt: at,
      lastResponse: '451 later',
    });
    const sortedShape = async (spool: Spool): Promise<[string, number, number][]> =>
      (await spool.shape())
        .map((c): [string, number, number] => [c.domain, c.minute, c.recipients])
        .sort((x, y) => x[0].localeCompare(y[0]) || x[1] - y[1]);

    it('lays the keys out as documented, a claimed message out of due', async () => {
      const { spool, prefix, clock, close } = await clocked();
      try {
        const record = await spool.store(envelope({}, clock.now), bodyOf('x\r\n'));
        const node = (await withRedis((r) => r.zrange(`${prefix}nodes`, 0, -1)))[0] ?? '';
        const layout = (...names: string[]): string[] => names.map((n) => `${prefix}${n}`).sort();
        expect(await keysUnder(prefix)).toEqual(
          layout(`body:${record.id}`, 'depth', 'due', 'messages', `msg:${record.id}`, 'nodes', 'shape', 'waiting'),
        );
        await spool.claim(clock.now, 10);
        expect(await keysUnder(prefix)).toEqual(
          layout(
            `body:${record.id}`,
            'claims',
            'depth',
            `held:${node}`,
            'messages',
            `msg:${record.id}`,
            'nodes',
            'owners',
            'shape',
            'waiting',
          ),
        );
        await spool.release(record.id, clock.now + 5_000);
        expect(await withRedis((r) => r.zscore(`${prefix}due`, record.id))).toBe(String(clock.now + 5_000));
        expect(await withRedis((r) => r.exists(`${prefix}claims`, `${prefix}owners`, `${prefix}held:${node}`))).toBe(0);
      } finally {
        await close();
      }
    });

    it('says whether a remove found the message, and refuses checks once closed (closing twice is fine)', async () => {
      const { spool, clock, close } = await clocked();
      try {
        const record = await spool.store(envelope({}, clock.now), bodyOf('x\r\n'));
        expect(await spool.remove('00000000000000000000')).toBe(false);
        expect(await spool.remove(record.id)).toBe(true);
        expect(await spool.remove(record.id)).toBe(false);
        await spool.check();
      } finally {
        await close();
      }
      await expect(spool.check()).rejects.toThrow(new SpoolError('spool is closed'));
      await spool.close();
    });

    it('keeps depth and shape right through store, update, remove and expire', async () => {
      const { spool, prefix, clock, close } = await clocked();
      try {
        const t0 = clock.now;
        const t1 = t0 + 60_000;
        const m1 = await spool.store(
          envelope({ recipients: ['a@one.test', 'B@ONE.test', 'c@two.test'] }, t0),
          bodyOf('1\r\n'),
        );
        clock.now = t1;
        const m2 = await spool.store(envelope({ recipients: ['d@two.test'] }, t1), bodyOf('2\r\n'));
        clock.now += 1; // same minute, a later message
        const m3 = await spool.store(envelope({ recipients: ['e@three.test'] }, clock.now), bodyOf('3\r\n'));
        expect(await spool.depth()).toBe(5);
        expect(await sortedShape(spool)).toEqual([
          ['one.test', t0, 2],
          ['three.test', t1, 1],
          ['two.test', t0, 1],
          ['two.test', t1, 1],
        ]);
        expect(await claimedIds(spool, clock.now)).toEqual([m1.id, m2.id, m3.id]);
        await spool.update(m1.id, [
          delivered('a@one.test', t1),
          deferred('B@ONE.test', t1 + 1_000),
          { ...delivered('c@two.test', t1), status: 'bounced' },
        ]);
        await spool.update(m2.id, [deferred('d@two.test', t1 + 1_000)]);
        await spool.update(m2.id, [deferred('d@two.test', t1 + 2_000)]); // waiting stays waiting: no change
        await spool.update(m3.id, [delivered('e@three.test', t1)]);
        await spool.update(m3.id, [delivered('e@three.test', t1)]); // finished twice counts once
        await spool.update(m3.id, [deferred('nobody@three.test', t1)]); // not a recipient: ignored
        expect(await spool.depth()).toBe(2);
        expect(await sortedShape(spool)).toEqual([
          ['one.test', t0, 1],
          ['two.test', t1, 1],
        ]);
        for (const m of [m1, m2, m3]) await spool.release(m.id);
        expect(await spool.remove(m2.id)).toBe(true);
        expect(await spool.remove(m2.id)).toBe(false);
        expect(await spool.depth()).toBe(1);
        expect(await sortedShape(spool)).toEqual([['one.test', t0, 1]]);
        await spool.update(m1.id, [delivered('B@ONE.test', t1)]);
        expect(await spool.depth()).toBe(0);
        expect(await spool.shape()).toEqual([]);
        expect(await withRedis((r) => r.exists(`${prefix}shape`))).toBe(0); // cells at zero are deleted
        clock.now += 60_000;
        expect(await spool.expire(clock.now, 10)).toEqual({ removed: 2, more: false });
        expect(await spool.depth()).toBe(0);
        expect(await keysUnder(prefix)).toEqual([`${prefix}depth`, `${prefix}nodes`]);
      } finally {
        await close();
      }
    });

    it('pages through the queue with a cursor, across ties, removals and expired records', async () => {
      const { spool, prefix, clock, close } = await clocked();
      try {
        const stored: MessageRecord[] = [];
        for (let i = 0; i < 14; i++) {
          if (i % 3 === 0) clock.now += 1_000; // three messages share each millisecond
          stored.push(
            await spool.store(envelope({ recipients: [`r${i}@example.test`] }, clock.now), bodyOf(`${i}\r\n`)),
          );
        }
        const order = [...stored]
          .sort((x, y) => x.envelope.receivedAt - y.envelope.receivedAt || (x.id < y.id ? -1 : 1))
          .map((r) => r.id);
        const walk = async (
          options: { waiting?: boolean },
          between?: (page: number) => Promise<void>,
        ): Promise<string[][]> => {
          const pages: string[][] = [];
          let after: string | undefined;
          do {
            const page = await spool.list({ limit: 4, ...options, ...(after === undefined ? {} : { after }) });
            pages.push(page.items.map((r) => r.id));
            after = page.next;
            await between?.(pages.length);
          } while (after !== undefined);
          return pages;
        };
        expect(await walk({})).toEqual([order.slice(0, 4), order.slice(4, 8), order.slice(8, 12), order.slice(12)]);

        // between pages: the last item listed is removed, one ahead is removed, one ahead expires
        const gone = new Set<string>();
        const pages = await walk({}, async (n) => {
          if (n !== 1) return;
          for (const id of [order[3], order[5]] as string[]) {
            await spool.remove(id);
            gone.add(id);
          }
          await withRedis((r) => r.del(`${prefix}msg:${order[9] ?? ''}`));
          gone.add(order[9] as string);
        });
        expect(pages.flat()).toEqual([...order.slice(0, 4), ...order.slice(4).filter((id) => !gone.has(id))]);
        expect(pages.map((p) => p.length)).toEqual([4, 4, 4]); // pages are filled past stale ids
        expect(await withRedis((r) => r.zscore(`${prefix}messages`, order[9] ?? ''))).toBeNull(); // dropped on the way

        const left = order.filter((id) => !gone.has(id));
        await spool.claim(clock.now, 100);
        for (const id of left.filter((_, i) => i % 2 === 0)) {
          const record = stored.find((r) => r.id === id) as MessageRecord;
          await spool.update(id, [delivered(record.envelope.recipients[0] ?? '', clock.now)]);
        }
        for (const id of left) await spool.release(id);
        expect((await walk({ waiting: true })).flat()).toEqual(left.filter((_, i) => i % 2 === 1));
        await expect(spool.list({ limit: 4, after: 'not a cursor' })).rejects.toBeInstanceOf(SpoolError);
      } finally {
        await close();
      }
    });

    it('moves an unclaimed message in due when it is updated', async () => {
      const { spool, clock, close } = await clocked();
      try {
        const record = await spool.store(
          envelope({ recipients: ['a@one.test', 'b@one.test'] }, clock.now),
          bodyOf('x\r\n'),
        );
        await spool.update(record.id, [
          deferred('a@one.test', clock.now + 5_000),
          deferred('b@one.test', clock.now + 9_000),
        ]);
        expect(await spool.nextDueAt()).toBe(clock.now + 5_000);
        expect(await spool.claim(clock.now, 10)).toEqual([]);
        clock.now += 5_000;
        const [m] = await spool.claim(clock.now, 10);
        expect(m?.due.map((r) => r.recipient)).toEqual(['a@one.test']);
      } finally {
        await close();
      }
    });

    it('retries every waiting message in batches, and each once', async () => {
      const { spool, clock, close } = await clocked();
      try {
        const count = 1_050; // more than one retry batch
        const later = clock.now + 3_600_000;
        for (let i = 0; i < count; i += 150) {
          await Promise.all(
            Array.from({ length: Math.min(150, count - i) }, (_, j) =>
              spool.store(envelope({ recipients: [`r${i + j}@example.test`] }, later), bodyOf('x\r\n')),
            ),
          );
        }
        expect(await spool.claim(clock.now, 10)).toEqual([]);
        expect(await spool.retryNow()).toBe(count);
        expect(await spool.retryNow()).toBe(0);
        expect(await spool.nextDueAt()).toBe(clock.now);
        expect((await spool.claim(clock.now, 2 * count)).length).toBe(count);
      } finally {
        await close();
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
        for await (const chunk of await spool.openBody(record)) {
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
          // the client idles until Redis has expired the partial copy
          await eventually(
            async () => (await keysUnder(prefix)).some((k) => k.includes(':tmp:')),
            3_000,
            () => 'the partial copy in Redis',
          );
          await eventually(
            async () => !(await keysUnder(prefix)).some((k) => k.includes(':tmp:')),
            3_000,
            () => 'the partial copy to expire',
          );
          yield Buffer.from('tail\r\n');
        })();
        await expect(spool.store(envelope({ receivedAt: Date.now() }), slow)).rejects.toBeInstanceOf(SpoolError);
        expect((await spool.list({ limit: 10 })).items).toEqual([]);
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
        const ttls = (): Promise<number[]> =>
          withRedis(async (r) => [
            await r.pttl(`${prefix}msg:${record.id}`),
            await r.pttl(`${prefix}body:${record.id}`),
          ]);
        await spool.update(record.id, [
          { recipient: 'Bob@example.test', status: 'delivered', attempts: 1, nextAttemptAt: Date.now() },
        ]);
        expect(await ttls()).toEqual([-1, -1]); // carol still waits
        await spool.update(record.id, [
          { recipient: 'carol@example.test', status: 'bounced', attempts: 1, nextAttemptAt: Date.now() },
        ]);
        for (const ttl of await ttls()) {
          expect(ttl).toBeGreaterThan(2 * 86_400_000 - 60_000);
          expect(ttl).toBeLessThanOrEqual(2 * 86_400_000);
        }
        // once expired, the message is gone from the list as well
        await withRedis((r) => r.del(`${prefix}msg:${record.id}`, `${prefix}body:${record.id}`));
        expect((await spool.list({ limit: 10 })).items).toEqual([]);
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
      await expect(openRedisSpool({ url: `redis://127.0.0.1:${port}`, prefix: nextPrefix() })).rejects.toBeInstanceOf(
        SpoolError,
      );
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
        await eventually(
          () => log.lines().some((l) => l.msg === 'Redis connection lost; reconnecting'),
          3_000,
          () => 'the spool to notice the lost connection',
        );
        const started = Date.now();
        const stored = spool.store(envelope({ receivedAt: Date.now() }), bodyOf('lost\r\n'));
        await expect(stored).rejects.toBeInstanceOf(SpoolError);
        await expect(spool.check()).rejects.toBeInstanceOf(SpoolError);
        await expect(spool.claim(Date.now(), 10)).rejects.toBeInstanceOf(SpoolError);
        expect(Date.now() - started).toBeLessThan(2_000); // at once, not after a timeout
        expect(log.lines()).toContainEqual({ level: 'warn', msg: 'Redis connection lost; reconnecting' });

        const woke = firstValueFrom(spool.wake$.pipe(take(1), timeout(10_000)));
        await proxy.resume();
        await woke; // the reconnect wakes the scheduler
        await expect(spool.check()).resolves.toBeUndefined();
        expect((await spool.list({ limit: 10 })).items.map((r) => r.id)).toEqual([kept.id]);
        expect((await readAll(await spool.openBody(kept))).toString()).toBe('kept\r\n');
        const [claimed] = await spool.claim(Date.now(), 10);
        expect(claimed?.due.map((r) => r.recipient)).toEqual(['Bob@example.test', 'carol@example.test']);
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
        // once the spool answers again, anything it queued while cut off has reached Redis (one ordered connection)
        await eventually(
          () =>
            spool.check().then(
              () => true,
              () => false,
            ),
          5_000,
          () => 'the spool to reach Redis again',
        );
        const left = await keysUnder(prefix);
        expect(left.filter((k) => !k.endsWith(':nodes') && !k.includes(':tmp:'))).toEqual([]);
        // the partial body may outlive the failed DEL, but only under its idle expiry
        for (const tmp of left.filter((k) => k.includes(':tmp:')))
          expect(await withRedis((r) => r.pttl(tmp))).toBeGreaterThan(0);
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
        // what this Redis says, asked here directly: the notice the spool logged must be the one for it
        const [appendonly, appendfsync] = await withRedis(async (r) => [
          ((await r.config('GET', 'appendonly')) as string[])[1],
          ((await r.config('GET', 'appendfsync')) as string[])[1],
        ]);
        const persistence =
          appendonly === 'yes' ? { kind: 'aof' as const, fsync: appendfsync } : { kind: 'none' as const };
        const notice = persistenceNotice(persistence);
        expect(log.lines()).toContainEqual({ level: notice.level, msg: notice.message });
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
