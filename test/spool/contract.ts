import { Readable } from 'node:stream';
import { firstValueFrom, take, timeout } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { Envelope } from '../../src/domain/envelope.js';
import { SpoolError, type Spool } from '../../src/spool/spool.js';

export interface SpoolFixture {
  readonly spool: Spool;
  /** Moves the spool's clock. */
  advance(ms: number): void;
  now(): number;
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
        expect((await readAll(await f.spool.openBody(record.id))).toString()).toBe(body);
        expect(await f.spool.get(record.id)).toEqual(record);
        expect((await f.spool.list()).map((r) => r.id)).toContain(record.id);
      } finally {
        await f.close();
      }
    });

    it('keeps address case and removes exact duplicate recipients', async () => {
      const f = await open();
      try {
        const record = await f.spool.store(envelope({ recipients: ['X@Example.test', 'X@Example.test', 'y@example.test'] }, f.now()), bodyOf('a\r\n'));
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
        expect(await f.spool.list()).toEqual([]);
      } finally {
        await f.close();
      }
    });

    it('claims due recipients once, until updated, released or the lease ends', async () => {
      const f = await open();
      try {
        const record = await f.spool.store(envelope({}, f.now()), bodyOf('x\r\n'));
        const first = await f.spool.claimDue(f.now(), 10, 60_000);
        expect(first.map((d) => [d.id, d.recipient, d.domain])).toEqual([
          [record.id, 'Bob@example.test', 'example.test'],
          [record.id, 'carol@example.test', 'example.test'],
        ]);
        expect(await f.spool.claimDue(f.now(), 10, 60_000)).toEqual([]);
        await f.spool.release(record.id, ['carol@example.test']);
        expect((await f.spool.claimDue(f.now(), 10, 60_000)).map((d) => d.recipient)).toEqual(['carol@example.test']);
        f.advance(61_000);
        expect((await f.spool.claimDue(f.now(), 1, 60_000)).length).toBe(1);
      } finally {
        await f.close();
      }
    });

    it('records outcomes durably and schedules deferred recipients', async () => {
      const f = await open();
      try {
        const record = await f.spool.store(envelope({}, f.now()), bodyOf('x\r\n'));
        await f.spool.claimDue(f.now(), 10, 60_000);
        const later = f.now() + 30_000;
        const updated = await f.spool.update(record.id, [
          { recipient: 'Bob@example.test', status: 'delivered', attempts: 1, nextAttemptAt: f.now(), lastResponse: '250 ok' },
          { recipient: 'carol@example.test', status: 'deferred', attempts: 1, nextAttemptAt: later, lastResponse: '451 try later' },
        ]);
        expect(updated.recipients.map((r) => [r.status, r.lastResponse])).toEqual([
          ['delivered', '250 ok'],
          ['deferred', '451 try later'],
        ]);
        expect(await f.spool.nextDueAt()).toBe(later);
        expect(await f.spool.depth()).toBe(1);
        expect(await f.spool.claimDue(f.now(), 10, 60_000)).toEqual([]);
        expect(await f.spool.retryNow(record.id)).toBe(1);
        expect((await f.spool.claimDue(f.now(), 10, 60_000)).map((d) => d.recipient)).toEqual(['carol@example.test']);
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
        await expect(f.spool.openBody(record.id)).rejects.toThrow();
        await expect(f.spool.check()).resolves.toBeUndefined();
      } finally {
        await f.close();
      }
    });

    it('streams a body of many chunks back whole, and an empty body too', async () => {
      const f = await open();
      try {
        const chunks = Array.from({ length: 50 }, (_, i) => Buffer.alloc(16 * 1024 + i, String.fromCharCode(97 + (i % 26))));
        const whole = Buffer.concat(chunks);
        const big = await f.spool.store(envelope({}, f.now()), Readable.from(chunks));
        expect(big.size).toBe(whole.length);
        expect((await readAll(await f.spool.openBody(big.id))).equals(whole)).toBe(true);
        const empty = await f.spool.store(envelope({}, f.now()), Readable.from([] as Buffer[]));
        expect(empty.size).toBe(0);
        expect((await readAll(await f.spool.openBody(empty.id))).length).toBe(0);
      } finally {
        await f.close();
      }
    });

    it('lists oldest first and answers unknown ids', async () => {
      const f = await open();
      try {
        const first = await f.spool.store(envelope({}, f.now()), bodyOf('1\r\n'));
        f.advance(1_000);
        const second = await f.spool.store(envelope({}, f.now()), bodyOf('2\r\n'));
        expect((await f.spool.list()).map((r) => r.id)).toEqual([first.id, second.id]);
        expect(await f.spool.get('00000000000000000000')).toBeUndefined();
        await expect(f.spool.openBody('00000000000000000000')).rejects.toThrow();
        await expect(
          f.spool.update('00000000000000000000', [{ recipient: 'Bob@example.test', status: 'delivered', attempts: 1, nextAttemptAt: f.now() }]),
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
        await f.spool.claimDue(f.now(), 10, 60_000);
        expect(await f.spool.depth()).toBe(2);
        expect(await f.spool.nextDueAt()).toBe(f.now() + 60_000); // the lease's end
        const done = await f.spool.update(record.id, [
          { recipient: 'Bob@example.test', status: 'delivered', attempts: 1, nextAttemptAt: f.now(), lastResponse: '250 ok' },
          { recipient: 'carol@example.test', status: 'bounced', attempts: 1, nextAttemptAt: f.now(), lastResponse: '550 no' },
        ]);
        expect(done.recipients.map((r) => r.status)).toEqual(['delivered', 'bounced']);
        expect(await f.spool.depth()).toBe(0);
        expect(await f.spool.nextDueAt()).toBeUndefined();
        f.advance(120_000);
        expect(await f.spool.claimDue(f.now(), 10, 60_000)).toEqual([]);
        expect((await f.spool.get(record.id))?.recipients.map((r) => r.lastResponse)).toEqual(['250 ok', '550 no']);
      } finally {
        await f.close();
      }
    });

    it('makes every deferred recipient due at once with retryNow()', async () => {
      const f = await open();
      try {
        const a = await f.spool.store(envelope({ recipients: ['a@one.test'] }, f.now()), bodyOf('a\r\n'));
        const b = await f.spool.store(envelope({ recipients: ['b@two.test'] }, f.now()), bodyOf('b\r\n'));
        await f.spool.claimDue(f.now(), 10, 60_000);
        for (const [record, recipient] of [[a, 'a@one.test'], [b, 'b@two.test']] as const) {
          await f.spool.update(record.id, [{ recipient, status: 'deferred', attempts: 1, nextAttemptAt: f.now() + 3_600_000, lastResponse: '451 later' }]);
        }
        expect(await f.spool.claimDue(f.now(), 10, 60_000)).toEqual([]);
        expect(await f.spool.retryNow()).toBe(2);
        expect(await f.spool.retryNow()).toBe(0);
        const due = await f.spool.claimDue(f.now(), 10, 60_000);
        expect(due.map((d) => [d.recipient, d.domain, d.attempts]).sort()).toEqual([
          ['a@one.test', 'one.test', 1],
          ['b@two.test', 'two.test', 1],
        ]);
        // the state keeps the last response; lastResponse is optional in updates
        const kept = await f.spool.update(a.id, [{ recipient: 'a@one.test', status: 'deferred', attempts: 2, nextAttemptAt: f.now() + 1_000 }]);
        expect(kept.recipients[0]?.lastResponse).toBe('451 later');
      } finally {
        await f.close();
      }
    });
  });
}
