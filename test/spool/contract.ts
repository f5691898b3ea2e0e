import { Readable } from 'node:stream';
import { firstValueFrom, take, timeout } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { Envelope } from '../../src/domain/envelope.js';
import type { Spool } from '../../src/spool/spool.js';

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
  });
}
