import { Readable } from 'node:stream';
import { firstValueFrom, take, timeout } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { HISTORY_LIMIT, type AttemptNote, type Envelope, type MessageRecord } from '../../src/domain/envelope.js';
import type { EnvelopeDsn } from '../../src/domain/dsn.js';
import { SpoolError, type Spool } from '../../src/spool/spool.js';

export interface SpoolFixture {
  readonly spool: Spool;
  /** Moves the spool's clock. */
  advance(ms: number): void;
  now(): number;
  /** Closes the spool and opens it again on the same storage (a daemon restart); `spool` is then the new one. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export function envelope(overrides: Partial<Envelope> = {}, at = Date.now()): Envelope {
  return {
    sender: 'Alice@local.test',
    recipients: ['Bob@example.test', 'carol@example.test'],
    clientAddress: '127.0.0.1',
    heloName: 'client.test',
    receivedAt: at,
    ...overrides,
  };
}

export async function readAll(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}

function bodyOf(text: string): AsyncIterable<Buffer> {
  return Readable.from([Buffer.from(text)]);
}

const claimedIds = async (spool: Spool, now: number, limit = 100): Promise<string[]> =>
  (await spool.claim(now, limit)).map((c) => c.record.id);
const ids = (records: readonly MessageRecord[]): string[] => records.map((r) => r.id);

/** One suite, every backend: the Spool contract. */
export function spoolContract(name: string, open: () => Promise<SpoolFixture>): void {
  describe(`Spool contract: ${name}`, () => {
    it('stores a message once and reads it back byte for byte', async () => {
      const f = await open();
      try {
        const body = 'Subject: hi\r\n\r\n.line with dot\r\nbinary \u00e9\r\n';
        const record = await f.spool.store(envelope({}, f.now()), bodyOf(body));
        expect(record.id).toMatch(/^[0-9a-z]{20}$/);
        expect(record.size).toBe(Buffer.byteLength(body));
        expect(record.recipients.map((r) => [r.recipient, r.status, r.attempts])).toEqual([
          ['Bob@example.test', 'queued', 0],
          ['carol@example.test', 'queued', 0],
        ]);
        expect((await readAll(await f.spool.openBody(record))).toString()).toBe(body);
        expect(await f.spool.get(record.id)).toEqual(record);
        expect((await f.spool.list({ limit: 10 })).items.map((r) => r.id)).toContain(record.id);
      } finally {
        await f.close();
      }
    });

    it('keeps address case and removes exact duplicate recipients', async () => {
      const f = await open();
      try {
        const record = await f.spool.store(
          envelope({ recipients: ['X@Example.test', 'X@Example.test', 'y@example.test'] }, f.now()),
          bodyOf('a\r\n'),
        );
        expect(record.envelope.recipients).toEqual(['X@Example.test', 'y@example.test']);
      } finally {
        await f.close();
      }
    });

    it('rejects and leaves nothing when the body stream fails', async () => {
      const f = await open();
      try {
        const failing = (async function* () {
          yield Buffer.from('partial');
          throw new Error('size limit');
        })();
        await expect(f.spool.store(envelope({}, f.now()), failing)).rejects.toThrow('size limit');
        expect((await f.spool.list({ limit: 10 })).items).toEqual([]);
        expect(await f.spool.depth()).toBe(0);
      } finally {
        await f.close();
      }
    });

    it('claims whole messages once, with their due recipients, until released', async () => {
      const f = await open();
      try {
        const record = await f.spool.store(envelope({}, f.now()), bodyOf('x\r\n'));
        const [first, ...none] = await f.spool.claim(f.now(), 10);
        expect(none).toEqual([]);
        expect(first?.record).toEqual(record);
        expect(first?.due.map((r) => [r.recipient, r.status, r.attempts])).toEqual([
          ['Bob@example.test', 'queued', 0],
          ['carol@example.test', 'queued', 0],
        ]);
        expect(await f.spool.claim(f.now(), 10)).toEqual([]);
        f.advance(3_600_000); // a claim does not run out while its holder lives
        expect(await f.spool.claim(f.now(), 10)).toEqual([]);
        await f.spool.release(record.id);
        expect(await claimedIds(f.spool, f.now())).toEqual([record.id]);
      } finally {
        await f.close();
      }
    });

    it('counts the limit in messages, earliest due first, and never splits a message', async () => {
      const f = await open();
      try {
        const many = Array.from({ length: 7 }, (_, i) => `r${i}@example.test`);
        const a = await f.spool.store(envelope({ recipients: many }, f.now()), bodyOf('a\r\n'));
        f.advance(10);
        const b = await f.spool.store(envelope({ recipients: ['b@example.test'] }, f.now()), bodyOf('b\r\n'));
        f.advance(10);
        const c = await f.spool.store(envelope({ recipients: ['c@other.test'] }, f.now()), bodyOf('c\r\n'));
        const firstTwo = await f.spool.claim(f.now(), 2);
        expect(firstTwo.map((m) => [m.record.id, m.due.length])).toEqual([
          [a.id, 7],
          [b.id, 1],
        ]);
        expect(await claimedIds(f.spool, f.now())).toEqual([c.id]);
      } finally {
        await f.close();
      }
    });

    it('records outcomes durably; released, a deferred recipient waits for its next attempt', async () => {
      const f = await open();
      try {
        const record = await f.spool.store(envelope({}, f.now()), bodyOf('x\r\n'));
        await f.spool.claim(f.now(), 10);
        const later = f.now() + 30_000;
        const updated = await f.spool.update(record.id, [
          {
            recipient: 'Bob@example.test',
            status: 'delivered',
            attempts: 1,
            nextAttemptAt: f.now(),
            lastResponse: '250 ok',
          },
          {
            recipient: 'carol@example.test',
            status: 'deferred',
            attempts: 1,
            nextAttemptAt: later,
            lastResponse: '451 try later',
          },
        ]);
        expect(updated.recipients.map((r) => [r.status, r.lastResponse])).toEqual([
          ['delivered', '250 ok'],
          ['deferred', '451 try later'],
        ]);
        expect(await f.spool.get(record.id)).toEqual(updated);
        expect(await f.spool.depth()).toBe(1);
        await f.spool.release(record.id);
        expect(await f.spool.nextDueAt()).toBe(later);
        expect(await f.spool.claim(f.now(), 10)).toEqual([]);
        f.advance(30_000);
        const [again] = await f.spool.claim(f.now(), 10);
        expect(again?.due.map((r) => [r.recipient, r.attempts, r.lastResponse])).toEqual([
          ['carol@example.test', 1, '451 try later'],
        ]);
      } finally {
        await f.close();
      }
    });

    it('claims only the recipients that are due, and the rest when they fall due', async () => {
      const f = await open();
      try {
        const record = await f.spool.store(
          envelope({ recipients: ['a@one.test', 'b@two.test'] }, f.now()),
          bodyOf('x\r\n'),
        );
        await f.spool.claim(f.now(), 10);
        await f.spool.update(record.id, [
          {
            recipient: 'a@one.test',
            status: 'deferred',
            attempts: 1,
            nextAttemptAt: f.now() + 1_000,
            lastResponse: '451 a',
          },
          {
            recipient: 'b@two.test',
            status: 'deferred',
            attempts: 3,
            nextAttemptAt: f.now() + 5_000,
            lastResponse: '451 b',
          },
        ]);
        await f.spool.release(record.id);
        f.advance(1_000);
        const [early] = await f.spool.claim(f.now(), 10);
        expect(early?.due.map((r) => r.recipient)).toEqual(['a@one.test']);
        await f.spool.update(record.id, [
          { recipient: 'a@one.test', status: 'delivered', attempts: 2, nextAttemptAt: f.now(), lastResponse: '250 a' },
        ]);
        await f.spool.release(record.id);
        expect(await f.spool.nextDueAt()).toBe(f.now() + 4_000);
        f.advance(4_000);
        const [late] = await f.spool.claim(f.now(), 10);
        expect(late?.due.map((r) => [r.recipient, r.attempts])).toEqual([['b@two.test', 3]]);
      } finally {
        await f.close();
      }
    });

    it('holds a released message back until notBefore without touching its state', async () => {
      const f = await open();
      try {
        const record = await f.spool.store(envelope({ recipients: ['a@one.test'] }, f.now()), bodyOf('x\r\n'));
        await f.spool.claim(f.now(), 10);
        await f.spool.release(record.id, f.now() + 2_000);
        expect(await f.spool.claim(f.now(), 10)).toEqual([]);
        expect(await f.spool.nextDueAt()).toBe(f.now() + 2_000);
        expect((await f.spool.get(record.id))?.recipients[0]).toMatchObject({
          status: 'queued',
          attempts: 0,
          nextAttemptAt: record.envelope.receivedAt,
        });
        f.advance(2_000);
        expect(await claimedIds(f.spool, f.now())).toEqual([record.id]);
      } finally {
        await f.close();
      }
    });

    it('wakes listeners on new mail and removes messages', async () => {
      const f = await open();
      try {
        const woke = firstValueFrom(f.spool.wake$.pipe(take(1), timeout(5000)));
        const record = await f.spool.store(envelope({}, f.now()), bodyOf('x\r\n'));
        await woke;
        expect(await f.spool.remove(record.id)).toBe(true);
        expect(await f.spool.remove(record.id)).toBe(false);
        expect(await f.spool.get(record.id)).toBeUndefined();
        expect(await f.spool.depth()).toBe(0);
        expect(await f.spool.claim(f.now(), 10)).toEqual([]);
        await expect(f.spool.openBody(record)).rejects.toThrow();
        await expect(f.spool.check()).resolves.toBeUndefined();
      } finally {
        await f.close();
      }
    });

    it('removes a claimed message, and its release is then a no-op', async () => {
      const f = await open();
      try {
        const record = await f.spool.store(envelope({}, f.now()), bodyOf('x\r\n'));
        await f.spool.claim(f.now(), 10);
        expect(await f.spool.remove(record.id)).toBe(true);
        await f.spool.release(record.id);
        expect(await f.spool.claim(f.now(), 10)).toEqual([]);
        expect(await f.spool.depth()).toBe(0);
        expect(await f.spool.nextDueAt()).toBeUndefined();
      } finally {
        await f.close();
      }
    });

    it('streams a body of many chunks back whole, and an empty body too', async () => {
      const f = await open();
      try {
        const chunks = Array.from({ length: 50 }, (_, i) =>
          Buffer.alloc(16 * 1024 + i, String.fromCharCode(97 + (i % 26))),
        );
        const whole = Buffer.concat(chunks);
        const big = await f.spool.store(envelope({}, f.now()), Readable.from(chunks));
        expect(big.size).toBe(whole.length);
        expect((await readAll(await f.spool.openBody(big))).equals(whole)).toBe(true);
        const empty = await f.spool.store(envelope({}, f.now()), Readable.from([] as Buffer[]));
        expect(empty.size).toBe(0);
        expect((await readAll(await f.spool.openBody(empty))).length).toBe(0);
      } finally {
        await f.close();
      }
    });

    it('lists oldest first a page at a time, all messages or only waiting ones, and answers unknown ids', async () => {
      const f = await open();
      try {
        const stored: MessageRecord[] = [];
        for (let i = 0; i < 5; i++) {
          stored.push(
            await f.spool.store(envelope({ recipients: [`r${i}@example.test`] }, f.now()), bodyOf(`${i}\r\n`)),
          );
          f.advance(1_000);
        }
        const first = await f.spool.list({ limit: 2 });
        expect(ids(first.items)).toEqual(ids(stored.slice(0, 2)));
        const second = await f.spool.list({ limit: 2, ...(first.next ? { after: first.next } : {}) });
        expect(ids(second.items)).toEqual(ids(stored.slice(2, 4)));
        const third = await f.spool.list({ limit: 2, ...(second.next ? { after: second.next } : {}) });
        expect(ids(third.items)).toEqual(ids(stored.slice(4)));
        expect(third.next).toBeUndefined();

        const done = stored[1] as MessageRecord;
        await f.spool.claim(f.now(), 10);
        await f.spool.update(done.id, [
          {
            recipient: 'r1@example.test',
            status: 'delivered',
            attempts: 1,
            nextAttemptAt: f.now(),
            lastResponse: '250 ok',
          },
        ]);
        for (const r of stored) await f.spool.release(r.id);
        const waiting = await f.spool.list({ limit: 10, waiting: true });
        expect(ids(waiting.items)).toEqual(ids(stored.filter((r) => r !== done)));
        const all = await f.spool.list({ limit: 10 });
        expect(ids(all.items)).toEqual(ids(stored));

        expect(await f.spool.get('00000000000000000000')).toBeUndefined();
        await expect(
          f.spool.update('00000000000000000000', [
            { recipient: 'Bob@example.test', status: 'delivered', attempts: 1, nextAttemptAt: f.now() },
          ]),
        ).rejects.toBeInstanceOf(SpoolError);
      } finally {
        await f.close();
      }
    });

    it('counts claimed recipients in the depth, finished ones not, and reports when the next one falls due', async () => {
      const f = await open();
      try {
        expect(await f.spool.nextDueAt()).toBeUndefined();
        expect(await f.spool.depth()).toBe(0);
        const record = await f.spool.store(envelope({}, f.now()), bodyOf('x\r\n'));
        expect(await f.spool.nextDueAt()).toBe(record.envelope.receivedAt);
        expect(await f.spool.depth()).toBe(2);
        await f.spool.claim(f.now(), 10);
        expect(await f.spool.depth()).toBe(2);
        expect(await f.spool.nextDueAt()).toBeUndefined(); // claimed: nothing else waits
        const done = await f.spool.update(record.id, [
          {
            recipient: 'Bob@example.test',
            status: 'delivered',
            attempts: 1,
            nextAttemptAt: f.now(),
            lastResponse: '250 ok',
          },
          {
            recipient: 'carol@example.test',
            status: 'bounced',
            attempts: 1,
            nextAttemptAt: f.now(),
            lastResponse: '550 no',
          },
        ]);
        expect(done.recipients.map((r) => r.status)).toEqual(['delivered', 'bounced']);
        expect(await f.spool.depth()).toBe(0);
        await f.spool.release(record.id);
        expect(await f.spool.nextDueAt()).toBeUndefined();
        f.advance(120_000);
        expect(await f.spool.claim(f.now(), 10)).toEqual([]);
        expect((await f.spool.get(record.id))?.recipients.map((r) => r.lastResponse)).toEqual(['250 ok', '550 no']);
      } finally {
        await f.close();
      }
    });

    it('makes every waiting recipient due at once with retryNow()', async () => {
      const f = await open();
      try {
        const a = await f.spool.store(envelope({ recipients: ['a@one.test'] }, f.now()), bodyOf('a\r\n'));
        const b = await f.spool.store(envelope({ recipients: ['b@two.test'] }, f.now()), bodyOf('b\r\n'));
        await f.spool.claim(f.now(), 10);
        for (const [record, recipient] of [
          [a, 'a@one.test'],
          [b, 'b@two.test'],
        ] as const) {
          await f.spool.update(record.id, [
            {
              recipient,
              status: 'deferred',
              attempts: 1,
              nextAttemptAt: f.now() + 3_600_000,
              lastResponse: '451 later',
            },
          ]);
          await f.spool.release(record.id);
        }
        expect(await f.spool.claim(f.now(), 10)).toEqual([]);
        expect(await f.spool.retryNow()).toBe(2);
        expect(await f.spool.retryNow()).toBe(0);
        const due = await f.spool.claim(f.now(), 10);
        expect(due.flatMap((m) => m.due.map((r) => [r.recipient, r.attempts])).sort()).toEqual([
          ['a@one.test', 1],
          ['b@two.test', 1],
        ]);
        // the state keeps the last response; lastResponse is optional in updates
        const kept = await f.spool.update(a.id, [
          { recipient: 'a@one.test', status: 'deferred', attempts: 2, nextAttemptAt: f.now() + 1_000 },
        ]);
        expect(kept.recipients[0]?.lastResponse).toBe('451 later');
      } finally {
        await f.close();
      }
    });

    it('retries now the later recipients of a message that is partly due already', async () => {
      const f = await open();
      try {
        const m = await f.spool.store(
          envelope({ recipients: ['now@one.test', 'later@two.test'] }, f.now()),
          bodyOf('m\r\n'),
        );
        await f.spool.claim(f.now(), 10);
        await f.spool.update(m.id, [
          {
            recipient: 'later@two.test',
            status: 'deferred',
            attempts: 1,
            nextAttemptAt: f.now() + 3_600_000,
            lastResponse: '451 later',
          },
        ]);
        await f.spool.release(m.id);
        expect(await f.spool.retryNow()).toBe(1);
        const [claimed] = await f.spool.claim(f.now(), 10);
        expect(claimed?.due.map((r) => r.recipient)).toEqual(['now@one.test', 'later@two.test']);
      } finally {
        await f.close();
      }
    });

    it('retries one message now, and not one that is claimed or unknown', async () => {
      const f = await open();
      try {
        const a = await f.spool.store(envelope({ recipients: ['a@one.test', 'b@one.test'] }, f.now()), bodyOf('a\r\n'));
        await f.spool.claim(f.now(), 10);
        expect(await f.spool.retryNow(a.id)).toBe(0); // being attempted
        await f.spool.update(a.id, [
          {
            recipient: 'a@one.test',
            status: 'deferred',
            attempts: 1,
            nextAttemptAt: f.now() + 60_000,
            lastResponse: '451 later',
          },
          {
            recipient: 'b@one.test',
            status: 'deferred',
            attempts: 1,
            nextAttemptAt: f.now() + 90_000,
            lastResponse: '451 later',
          },
        ]);
        await f.spool.release(a.id);
        expect(await f.spool.retryNow(a.id)).toBe(2);
        expect(await f.spool.retryNow('00000000000000000000')).toBe(0);
        const [m] = await f.spool.claim(f.now(), 10);
        expect(m?.due.map((r) => r.recipient)).toEqual(['a@one.test', 'b@one.test']);
      } finally {
        await f.close();
      }
    });

    it('tells when the oldest waiting message arrived, claimed or not, and forgets finished ones', async () => {
      const f = await open();
      try {
        expect(await f.spool.oldestWaitingAt()).toBeUndefined();
        const t0 = f.now();
        const first = await f.spool.store(envelope({ recipients: ['a@one.test'] }, t0), bodyOf('a\r\n'));
        f.advance(60_000);
        const second = await f.spool.store(envelope({ recipients: ['b@two.test'] }, f.now()), bodyOf('b\r\n'));
        expect(await f.spool.oldestWaitingAt()).toBe(t0);
        expect(await claimedIds(f.spool, f.now())).toEqual([first.id, second.id]);
        expect(await f.spool.oldestWaitingAt()).toBe(t0); // claimed mail still waits
        await f.spool.update(first.id, [
          { recipient: 'a@one.test', status: 'deferred', attempts: 1, nextAttemptAt: f.now() + 60_000 },
        ]);
        expect(await f.spool.oldestWaitingAt()).toBe(t0); // deferred mail still waits
        await f.spool.update(first.id, [
          { recipient: 'a@one.test', status: 'delivered', attempts: 2, nextAttemptAt: f.now(), lastResponse: '250 ok' },
        ]);
        expect(await f.spool.oldestWaitingAt()).toBe(second.envelope.receivedAt);
        await f.spool.remove(second.id);
        expect(await f.spool.oldestWaitingAt()).toBeUndefined();
      } finally {
        await f.close();
      }
    });

    it('shapes the waiting recipients by destination domain and minute of arrival', async () => {
      const f = await open();
      try {
        const minute = (at: number): number => Math.floor(at / 60_000) * 60_000;
        const t0 = f.now();
        const a = await f.spool.store(
          envelope({ recipients: ['a@one.test', 'b@One.test', 'c@two.test'] }, t0),
          bodyOf('a\r\n'),
        );
        f.advance(120_000);
        await f.spool.store(envelope({ recipients: ['d@one.test'] }, f.now()), bodyOf('b\r\n'));
        const sorted = (cells: readonly { domain: string; minute: number; recipients: number }[]) =>
          [...cells].sort((x, y) => x.domain.localeCompare(y.domain) || x.minute - y.minute);
        expect(sorted(await f.spool.shape())).toEqual([
          { domain: 'one.test', minute: minute(t0), recipients: 2 },
          { domain: 'one.test', minute: minute(f.now()), recipients: 1 },
          { domain: 'two.test', minute: minute(t0), recipients: 1 },
        ]);
        await f.spool.claim(f.now(), 10);
        await f.spool.update(a.id, [
          { recipient: 'c@two.test', status: 'delivered', attempts: 1, nextAttemptAt: f.now(), lastResponse: '250 ok' },
        ]);
        expect(sorted(await f.spool.shape())).toEqual([
          { domain: 'one.test', minute: minute(t0), recipients: 2 },
          { domain: 'one.test', minute: minute(f.now()), recipients: 1 },
        ]);
      } finally {
        await f.close();
      }
    });

    it('expires finished messages last updated before the cutoff, a limited number at a time, never waiting ones', async () => {
      const f = await open();
      try {
        const finished: MessageRecord[] = [];
        for (let i = 0; i < 3; i++)
          finished.push(
            await f.spool.store(envelope({ recipients: [`d${i}@example.test`] }, f.now()), bodyOf(`${i}\r\n`)),
          );
        const waiting = await f.spool.store(envelope({ recipients: ['w@example.test'] }, f.now()), bodyOf('w\r\n'));
        await f.spool.claim(f.now(), 10);
        for (const [i, r] of finished.entries()) {
          await f.spool.update(r.id, [
            {
              recipient: `d${i}@example.test`,
              status: i === 2 ? 'bounced' : 'delivered',
              attempts: 1,
              nextAttemptAt: f.now(),
              lastResponse: '250 ok',
            },
          ]);
        }
        await f.spool.update(waiting.id, [
          {
            recipient: 'w@example.test',
            status: 'deferred',
            attempts: 1,
            nextAttemptAt: f.now() + 1_000,
            lastResponse: '451 later',
          },
        ]);
        for (const r of [...finished, waiting]) await f.spool.release(r.id);
        expect(await f.spool.expire(f.now(), 10)).toEqual({ removed: 0, more: false }); // updated just now
        f.advance(60_000);
        const cutoff = f.now();
        expect(await f.spool.expire(cutoff, 2)).toEqual({ removed: 2, more: true });
        expect(await f.spool.expire(cutoff, 2)).toEqual({ removed: 1, more: false });
        expect(ids((await f.spool.list({ limit: 10 })).items)).toEqual([waiting.id]);
        expect(await f.spool.depth()).toBe(1);
      } finally {
        await f.close();
      }
    });

    it('keeps the newest attempts of each recipient with its state, bounded, across a restart', async () => {
      const f = await open();
      try {
        const record = await f.spool.store(envelope({}, f.now()), bodyOf('x\r\n'));
        expect(record.queuedAt).toBeGreaterThanOrEqual(record.envelope.receivedAt);
        const total = HISTORY_LIMIT + 5;
        const note = (i: number): AttemptNote => ({
          t: f.now() + i,
          f: 'deferred',
          h: `mx.example.test[192.0.2.${i}]:25`,
          r: `451 4.3.0 try ${i}`,
          d: 1_000 * i,
        });
        for (let i = 1; i <= total; i += 1) {
          await f.spool.update(record.id, [
            {
              recipient: 'Bob@example.test',
              status: 'deferred',
              attempts: i,
              nextAttemptAt: f.now() + 60_000,
              lastResponse: `451 4.3.0 try ${i}`,
              note: note(i),
            },
          ]);
        }
        await f.spool.update(record.id, [
          {
            recipient: 'carol@example.test',
            status: 'delivered',
            attempts: 1,
            nextAttemptAt: f.now(),
            lastResponse: '250 2.0.0 ok',
            note: { t: f.now(), f: 'sent', h: 'mx.example.test[192.0.2.1]:25', r: '250 2.0.0 ok', d: 5 },
          },
        ]);
        const expected = Array.from({ length: HISTORY_LIMIT }, (_, k) => note(total - HISTORY_LIMIT + 1 + k));
        const check = (stored: MessageRecord | undefined): void => {
          expect(stored?.queuedAt).toBe(record.queuedAt);
          expect(stored?.recipients[0]?.history).toEqual(expected);
          expect(stored?.recipients[1]?.history).toEqual([
            { t: f.now(), f: 'sent', h: 'mx.example.test[192.0.2.1]:25', r: '250 2.0.0 ok', d: 5 },
          ]);
        };
        check(await f.spool.get(record.id));
        // an update without a note leaves the history as it is
        await f.spool.update(record.id, [
          { recipient: 'Bob@example.test', status: 'deferred', attempts: total, nextAttemptAt: f.now() + 60_000 },
        ]);
        check(await f.spool.get(record.id));
        await f.restart();
        check(await f.spool.get(record.id));
        expect(
          (await f.spool.list({ limit: 10 })).items.find((m) => m.id === record.id)?.recipients[0]?.history,
        ).toHaveLength(HISTORY_LIMIT);
      } finally {
        await f.close();
      }
    });

    it('loads records that have no history, and a message without attempts has none', async () => {
      const f = await open();
      try {
        const record = await f.spool.store(envelope({}, f.now()), bodyOf('x\r\n'));
        await f.spool.update(record.id, [
          { recipient: 'Bob@example.test', status: 'deferred', attempts: 1, nextAttemptAt: f.now() + 60_000 },
        ]);
        await f.restart();
        const stored = await f.spool.get(record.id);
        expect(stored?.recipients.map((r) => [r.status, r.history])).toEqual([
          ['deferred', undefined],
          ['queued', undefined],
        ]);
      } finally {
        await f.close();
      }
    });

    it('keeps the DSN part of the envelope (RET, ENVID, NOTIFY, ORCPT) across claims and a restart', async () => {
      const f = await open();
      try {
        const dsn: EnvelopeDsn = {
          ret: 'FULL',
          envid: 'QQ314159 +=',
          recipients: {
            'Bob@example.test': { notify: ['SUCCESS', 'DELAY'], orcpt: 'rfc822;bob+old@example.test' },
            'carol@example.test': { notify: ['NEVER'] },
          },
        };
        const record = await f.spool.store(envelope({ dsn }, f.now()), bodyOf('x\r\n'));
        expect(record.envelope.dsn).toEqual(dsn);
        const [claimed] = await f.spool.claim(f.now(), 10);
        expect(claimed?.record.envelope.dsn).toEqual(dsn);
        await f.spool.release(record.id);
        await f.restart();
        expect((await f.spool.get(record.id))?.envelope.dsn).toEqual(dsn);
        const plain = await f.spool.store(envelope({}, f.now()), bodyOf('y\r\n'));
        expect((await f.spool.get(plain.id))?.envelope).not.toHaveProperty('dsn');
      } finally {
        await f.close();
      }
    });

    it('keeps the REQUIRETLS flag of the envelope across claims and a restart', async () => {
      const f = await open();
      try {
        const record = await f.spool.store(envelope({ requireTls: true }, f.now()), bodyOf('x\r\n'));
        expect(record.envelope.requireTls).toBe(true);
        const [claimed] = await f.spool.claim(f.now(), 10);
        expect(claimed?.record.envelope.requireTls).toBe(true);
        await f.spool.release(record.id);
        await f.restart();
        expect((await f.spool.get(record.id))?.envelope.requireTls).toBe(true);
        // records kept before the flag existed, and mail without it, load without it
        const plain = await f.spool.store(envelope({}, f.now()), bodyOf('y\r\n'));
        expect((await f.spool.get(plain.id))?.envelope).not.toHaveProperty('requireTls');
      } finally {
        await f.close();
      }
    });

    it('keeps when a delay notice was sent per recipient, through later updates and a restart', async () => {
      const f = await open();
      try {
        const record = await f.spool.store(envelope({}, f.now()), bodyOf('x\r\n'));
        const noticeAt = f.now() + 5;
        await f.spool.update(record.id, [
          {
            recipient: 'Bob@example.test',
            status: 'deferred',
            attempts: 1,
            nextAttemptAt: f.now() + 60_000,
            delayNoticeAt: noticeAt,
          },
          { recipient: 'carol@example.test', status: 'deferred', attempts: 1, nextAttemptAt: f.now() + 60_000 },
        ]);
        // an update that does not mention the notice keeps it
        await f.spool.update(record.id, [
          { recipient: 'Bob@example.test', status: 'deferred', attempts: 2, nextAttemptAt: f.now() + 120_000 },
        ]);
        const check = (stored: MessageRecord | undefined): void => {
          expect(stored?.recipients.map((r) => [r.recipient, r.attempts, r.delayNoticeAt])).toEqual([
            ['Bob@example.test', 2, noticeAt],
            ['carol@example.test', 1, undefined],
          ]);
        };
        check(await f.spool.get(record.id));
        await f.restart();
        check(await f.spool.get(record.id));
      } finally {
        await f.close();
      }
    });
  });
}
