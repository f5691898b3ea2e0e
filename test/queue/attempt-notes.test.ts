/**
 * The enhanced status code an attempt note keeps for a reply (RFC 3463
 * `class.subject.detail`): found as a word of its own, anywhere in the
 * reply, else the outcome's generic code.
 */
import { describe, expect, it } from 'vitest';
import type { DeliveryJob } from '../../src/domain/job.js';
import { attemptFacts, delayParts, dsnOf } from '../../src/queue/attempt-notes.js';
import type { RecipientUpdate } from '../../src/spool/spool.js';

describe('dsnOf', () => {
  it.each([
    ['550 5.1.1 no such user', 'bounced', '5.1.1'],
    ['4.4.1 connect ECONNREFUSED', 'deferred', '4.4.1'],
    ['451 4.7.500 odd but well formed', 'deferred', '4.7.500'],
    ['452 4.12.3 two-digit subject', 'deferred', '4.12.3'],
    ['550 5.1.1, then more', 'bounced', '5.1.1'],
    ['550 5.1.1', 'bounced', '5.1.1'], // the code ends the reply
    ['550 (5.7.1) blocked', 'bounced', '5.0.0'], // after "(": not a word start
    ['550 see x5.1.1 here', 'bounced', '5.0.0'], // glued to a word
    ['550 version 5.1.1a', 'bounced', '5.0.0'], // followed by a letter
    ['550 mailbox 5.1.1: gone', 'bounced', '5.1.1'],
    ['421 closing (code 4.3.2)', 'deferred', '4.3.2'], // before ")"
    ['550 3.1.1 not a class', 'bounced', '5.0.0'],
    ['550 5.1234.1 too long', 'bounced', '5.0.0'],
    ['550 5.1.1234 too long', 'bounced', '5.0.0'],
    ['550 5.x.1', 'bounced', '5.0.0'],
    ['250 ok', 'sent', '2.0.0'],
    ['451 later', 'deferred', '4.0.0'],
    ['timed out', 'expired', '4.0.0'],
  ] as const)('%j (%s) -> %s', (reply, fate, dsn) => {
    expect(dsnOf(reply, fate)).toBe(dsn);
  });
});

const job = (receivedAt: number, queuedAt?: number): DeliveryJob => ({
  record: {
    id: 'm1',
    envelope: { sender: 'a@s.test', recipients: ['b@d.test'], clientAddress: '127.0.0.1', heloName: 'c', receivedAt },
    size: 1,
    recipients: [],
    ...(queuedAt === undefined ? {} : { queuedAt }),
  },
  domain: 'd.test',
  recipients: [],
});

describe('delayParts', () => {
  it('splits the delay into before the queue, in the queue, connecting and transmitting', () => {
    expect(delayParts(job(1_000, 1_500), { startedAt: 2_000, endedAt: 5_000, transmitMs: 1_000 })).toEqual({
      delayMs: 4_000,
      delays: { beforeQueueMs: 500, queueMs: 500, connectMs: 2_000, transmitMs: 1_000 },
    });
  });

  it('keeps each time at or after the one before it, and the parts within the whole', () => {
    // queued before it arrived, started before it was queued, ended before it started (clocks of other nodes)
    expect(delayParts(job(1_000, 500), { startedAt: 800, endedAt: 700, transmitMs: 50 })).toEqual({
      delayMs: 0,
      delays: { beforeQueueMs: 0, queueMs: 0, connectMs: 0, transmitMs: 0 },
    });
    expect(delayParts(job(1_000), { startedAt: 1_200, endedAt: 1_500, transmitMs: 900 }).delays).toEqual({
      beforeQueueMs: 0,
      queueMs: 200,
      connectMs: 0,
      transmitMs: 300, // no more than the attempt took
    });
    expect(delayParts(job(1_000), { startedAt: 1_000, endedAt: 1_300, transmitMs: -5 }).delays.transmitMs).toBe(0);
    expect(delayParts(job(1_000), { startedAt: 1_000, endedAt: 1_300 }).delays).toEqual({
      beforeQueueMs: 0,
      queueMs: 0,
      connectMs: 300,
      transmitMs: 0,
    });
  });
});

describe('attemptFacts', () => {
  const update = (recipient: string, status: RecipientUpdate['status'], lastResponse?: string): RecipientUpdate => ({
    recipient,
    status,
    attempts: 1,
    nextAttemptAt: 0,
    ...(lastResponse === undefined ? {} : { lastResponse }),
  });

  it('tells each recipient its fate, code and note, in the order of the updates', () => {
    const facts = attemptFacts(
      job(1_000),
      [
        update('a@d.test', 'delivered', '250 2.0.0 ok'),
        update('b@d.test', 'bounced', '550 5.1.1 no'),
        update('c@d.test', 'bounced', '451 4.4.1 later'),
        update('d@d.test', 'deferred'),
      ],
      new Set(['c@d.test']),
      { startedAt: 1_000, endedAt: 3_000, relay: 'mx.d.test[192.0.2.1]:25' },
    );
    expect(facts.map((f) => [f.fate, f.dsn, f.delayMs])).toEqual([
      ['sent', '2.0.0', 2_000],
      ['bounced', '5.1.1', 2_000],
      ['expired', '4.4.1', 2_000],
      ['deferred', '4.0.0', 2_000],
    ]);
    expect(facts[3]?.note).toEqual({ t: 3_000, f: 'deferred', h: 'mx.d.test[192.0.2.1]:25', r: '', d: 2_000 });
    expect(facts[1]?.note).toEqual({
      t: 3_000,
      f: 'bounced',
      h: 'mx.d.test[192.0.2.1]:25',
      r: '550 5.1.1 no',
      d: 2_000,
    });
  });

  it('leaves the host out of the note when none was dialled', () => {
    const [fact] = attemptFacts(job(0), [update('a@d.test', 'bounced', '5.1.10 null MX')], new Set(), {
      startedAt: 0,
      endedAt: 10,
    });
    expect(fact?.note).toEqual({ t: 10, f: 'bounced', r: '5.1.10 null MX', d: 10 });
    expect(fact?.dsn).toBe('5.1.10');
  });
});
