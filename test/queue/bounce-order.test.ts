/**
 * The DSN is stored before the recipient is marked bounced (settle.ts), through the real scheduler, a real file
 * spool, real DNS and a real sink answering 550: a spool that refuses to store the DSN leaves the recipient
 * deferred (the bounce is retried with it), and the spool's calls show the DSN stored before the bounced state is
 * written.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Envelope, MessageId, MessageRecord } from '../../src/domain/envelope.js';
import type { RecipientUpdate, Spool } from '../../src/spool/spool.js';
import type { DnsZone } from '../helpers/dns-server.js';
import { startSink, type Sink } from '../helpers/sink.js';
import { createHarness, crlf, type Harness } from './harness.js';

const zone: DnsZone = {
  'example.test': { MX: [{ exchange: 'mx.example.test', priority: 10 }] },
  'mx.example.test': { A: ['127.0.0.1'] },
  'sender.test': { MX: [{ exchange: 'mx.example.test', priority: 10 }] },
};

const body = crlf('From: alice@sender.test', 'To: bob@example.test', 'Subject: to nobody', '', 'body');

/** What the scheduler did to the spool, in order. */
type Call =
  | { readonly kind: 'dsn stored'; readonly id: MessageId }
  | { readonly kind: 'dsn refused' }
  | { readonly kind: 'update'; readonly id: MessageId; readonly statuses: readonly string[] };

/**
 * The harness's spool, with `store` of null-sender messages refused `refuse` times, the first `lose` updates that
 * write a bounced state failing (as if the process died between the DSN and the state), and every call recorded.
 */
function recording(spool: Spool, calls: Call[], refuse: number, lose = 0): Spool {
  let refused = 0;
  let lost = 0;
  const store = async (envelope: Envelope, data: AsyncIterable<Buffer>): Promise<MessageRecord> => {
    if (envelope.sender === '' && refused < refuse) {
      refused += 1;
      calls.push({ kind: 'dsn refused' });
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    }
    const record = await spool.store(envelope, data);
    if (envelope.sender === '') calls.push({ kind: 'dsn stored', id: record.id });
    return record;
  };
  const update = (id: MessageId, updates: readonly RecipientUpdate[]): Promise<MessageRecord> => {
    calls.push({ kind: 'update', id, statuses: updates.map((u) => u.status) });
    if (lost < lose && updates.some((u) => u.status === 'bounced')) {
      lost += 1;
      return Promise.reject(new Error('the state write never happened'));
    }
    return spool.update(id, updates);
  };
  return new Proxy(spool, {
    get(target, property, receiver) {
      if (property === 'store') return store;
      if (property === 'update') return update;
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

let h: Harness;
let sink: Sink;
beforeEach(async () => {
  h = await createHarness(structuredClone(zone));
  sink = await startSink({
    rcpt: (a) => (a.startsWith('bob@') ? { code: 550, message: '5.1.1 <bob@example.test>: no such user' } : undefined),
  });
});
afterEach(async () => {
  await h.close();
  await sink.close();
});

describe('DSN stored before the recipient is marked bounced (§4)', () => {
  it('a DSN the spool cannot store leaves the recipient deferred; the next attempt stores it and bounces', async () => {
    const calls: Call[] = [];
    const stored = await h.store('alice@sender.test', ['bob@example.test'], body);
    h.start({ outboundPort: sink.port, retryBaseSeconds: 1 }, {}, recording(h.spool, calls, 1));
    const first = await h.waitFor('the first outcome', () => h.outcomes('bob@example.test')[0]);
    expect(first).toMatchObject({ outcome: 'deferred', attempts: 1 });
    const afterFirst = await h.spool.get(stored.id);
    expect(afterFirst?.recipients[0]?.status).toBe('deferred');
    expect(calls[0]).toEqual({ kind: 'dsn refused' });
    // retried: 550 again, the DSN stored this time, then bounced, and the DSN delivered from <>
    await h.waitFor('the bounce', () => h.outcomes('bob@example.test').find((e) => e.outcome === 'bounced'));
    const [dsn] = await sink.waitForMessages(1, 10_000);
    expect(dsn?.from).toBe('');
    expect(dsn?.to).toEqual(['alice@sender.test']);
    expect(dsn?.raw.toString()).toMatch(/Final-Recipient: rfc822; ?bob@example\.test/i);
    expect((await h.spool.get(stored.id))?.recipients[0]).toMatchObject({ status: 'bounced', attempts: 2 });
    expect(calls.filter((c) => c.kind === 'dsn stored')).toHaveLength(1);
  });

  it('the DSN is in the spool before the bounced state of its recipient is written', async () => {
    const calls: Call[] = [];
    const stored = await h.store('alice@sender.test', ['bob@example.test'], body);
    h.start({ outboundPort: sink.port }, {}, recording(h.spool, calls, 0));
    await h.waitFor('the bounce', () => h.outcomes('bob@example.test').find((e) => e.outcome === 'bounced'));
    const bouncedAt = calls.findIndex(
      (c) => c.kind === 'update' && c.id === stored.id && c.statuses.includes('bounced'),
    );
    const dsnAt = calls.findIndex((c) => c.kind === 'dsn stored');
    expect(bouncedAt).toBeGreaterThanOrEqual(0);
    expect(dsnAt).toBeGreaterThanOrEqual(0);
    expect(dsnAt).toBeLessThan(bouncedAt);
    const dsn = calls[dsnAt];
    expect(dsn?.kind === 'dsn stored' ? (await h.spool.get(dsn.id))?.envelope.sender : undefined).toBe('');
  });

  it('a bounced state lost after its DSN was stored bounces twice rather than never', async () => {
    const calls: Call[] = [];
    const stored = await h.store('alice@sender.test', ['bob@example.test'], body);
    h.start({ outboundPort: sink.port, retryBaseSeconds: 1 }, { recheckFloorMs: 100 }, recording(h.spool, calls, 0, 1));
    await h.waitFor('the bounce', () => h.outcomes('bob@example.test').find((e) => e.outcome === 'bounced'));
    const dsns = await sink.waitForMessages(2, 10_000);
    expect(dsns.map((m) => [m.from, m.to])).toEqual([
      ['', ['alice@sender.test']],
      ['', ['alice@sender.test']],
    ]);
    expect(calls.filter((c) => c.kind === 'dsn stored')).toHaveLength(2);
    expect((await h.spool.get(stored.id))?.recipients[0]?.status).toBe('bounced');
  });
});
