/**
 * What the scheduler tells the audit bus about an attempt (settle.ts), through
 * a real file spool, DNS server and sink: one `delivery.outcome` per
 * recipient with the host dialled, the codes and the timing, and one
 * `message.removed` once every recipient has finished, not before.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/domain/audit.js';
import { startSink, type Sink } from '../helpers/sink.js';
import { createHarness, crlf, type Harness } from './harness.js';

let h: Harness;
let s: Sink;

beforeEach(async () => {
  h = await createHarness({
    'example.test': { MX: [{ exchange: 'mx.example.test', priority: 10 }] },
    'mx.example.test': { A: ['127.0.0.1'] },
  });
  // carol is refused for now, erin for good, everyone else is taken
  s = await startSink({
    rcpt: (address) =>
      address.startsWith('carol@')
        ? { code: 451, message: '4.2.1 try later' }
        : address.startsWith('erin@')
          ? { code: 550, message: '5.1.1 no such user' }
          : undefined,
  });
});

afterEach(async () => {
  await h.close();
  await s.close();
});

const body = crlf('Subject: events', '', 'body');
const removed = (events: readonly AuditEvent[]) => events.filter((e) => e.type === 'message.removed');

describe('audit events of an attempt', () => {
  it('tells each recipient how the attempt went, and the message removed once all have finished', async () => {
    const receivedAt = Date.now() - 5_000;
    const stored = await h.store('alice@sender.test', ['bob@example.test', 'dan@example.test'], body, receivedAt);
    h.start({ outboundPort: s.port });
    await h.waitFor('the message removed', () => removed(h.events)[0]);
    const [bob] = h.outcomes('bob@example.test');
    expect(bob).toMatchObject({
      type: 'delivery.outcome',
      id: stored.id,
      outcome: 'delivered',
      attempts: 1,
      fate: 'sent',
      dsn: '2.0.0',
      receivedAt,
      relay: `mx.example.test[127.0.0.1]:${s.port}`,
    });
    expect(bob?.response).toMatch(/^250 /);
    expect(bob?.durationMs).toBeGreaterThanOrEqual(0);
    expect(bob?.durationMs).toBeLessThan(5_000);
    expect(bob?.delayMs).toBeGreaterThanOrEqual(5_000); // counted from arrival, not from the attempt
    const parts = bob?.delays;
    expect(
      (parts?.beforeQueueMs ?? 0) + (parts?.queueMs ?? 0) + (parts?.connectMs ?? 0) + (parts?.transmitMs ?? 0),
    ).toBe(bob?.delayMs);
    expect(h.outcomes('dan@example.test').map((e) => e.outcome)).toEqual(['delivered']);
    expect(removed(h.events)).toEqual([{ type: 'message.removed', id: stored.id, reason: 'finished' }]);
  });

  it('does not remove a message while a recipient waits for another try', async () => {
    const stored = await h.store('alice@sender.test', ['bob@example.test', 'carol@example.test'], body);
    h.start({ outboundPort: s.port, retryBaseSeconds: 60 });
    await h.waitFor('carol deferred', () => h.outcomes('carol@example.test')[0]);
    expect(h.outcomes('carol@example.test')[0]).toMatchObject({
      id: stored.id,
      outcome: 'deferred',
      fate: 'deferred',
      dsn: '4.2.1',
      response: '451 4.2.1 try later',
    });
    expect(h.outcomes('bob@example.test').map((e) => e.outcome)).toEqual(['delivered']);
    expect(removed(h.events)).toEqual([]);
  });

  it('tells a refused recipient from one whose lifetime ran out', async () => {
    await h.store('alice@sender.test', ['erin@example.test'], body);
    await h.store('alice@sender.test', ['carol@example.test'], body, Date.now() - 2 * 3_600_000);
    h.start({ outboundPort: s.port, queueLifetimeHours: 1 });
    await h.waitFor('both bounced', () => removed(h.events).length >= 2 || undefined);
    expect(h.outcomes('erin@example.test')).toMatchObject([{ outcome: 'bounced', fate: 'bounced', dsn: '5.1.1' }]);
    expect(h.outcomes('carol@example.test')).toMatchObject([{ outcome: 'bounced', fate: 'expired' }]);
  });
});
