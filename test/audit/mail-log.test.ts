import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createAuditBus } from '../../src/audit/bus.js';
import { createLogger } from '../../src/log/logger.js';
import { logMail } from '../../src/log/mail-log.js';

function capture(): { sink: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  const lines = (): Record<string, unknown>[] =>
    chunks
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { sink, lines };
}

describe('logMail', () => {
  it('logs receipts, outcomes and removals with audit logging off, and nothing else', () => {
    const { sink, lines } = capture();
    const bus = createAuditBus({ enabled: false, replay: 0 });
    const subscription = logMail(createLogger('info', sink), bus.raw$);
    bus.publish({ type: 'session.start', session: 's1', client: '192.0.2.7' });
    bus.publish({
      type: 'message.stored',
      session: 's1',
      id: 'q1',
      sender: 'a@example.test',
      recipients: 1,
      size: 300,
      to: ['b@example.net'],
      client: '192.0.2.7',
      user: 'alice',
      receiptMs: 3,
    });
    // an outcome without the mail log's fields (as older producers make it) still gets a line
    bus.publish({
      type: 'delivery.outcome',
      id: 'q1',
      recipient: 'b@example.net',
      outcome: 'delivered',
      response: '250 ok',
      attempts: 1,
      durationMs: 40,
      receivedAt: Date.now() - 40,
    });
    bus.publish({ type: 'message.removed', id: 'q1', reason: 'finished' });
    subscription.unsubscribe();
    expect(lines().map((l) => [l['component'], l['level'], l['msg'], l['queueId']])).toEqual([
      ['mail', 'info', 'received', 'q1'],
      ['mail', 'info', 'sent', 'q1'],
      ['mail', 'info', 'removed', 'q1'],
    ]);
    expect(lines()[0]).toMatchObject({ from: 'a@example.test', to: ['b@example.net'], tls: 'no', user: 'alice' });
    expect(lines()[1]).toMatchObject({ to: 'b@example.net', relay: 'none', status: 'sent', delayMs: 40 });
    expect(lines()[2]).toMatchObject({ reason: 'finished' });
  });

  it('writes nothing at LOG_LEVEL=warn', () => {
    const { sink, lines } = capture();
    const bus = createAuditBus({ enabled: true, replay: 0 });
    const subscription = logMail(createLogger('warn', sink), bus.raw$);
    bus.publish({ type: 'message.removed', id: 'q1', reason: 'deleted' });
    subscription.unsubscribe();
    expect(lines()).toEqual([]);
  });
});
