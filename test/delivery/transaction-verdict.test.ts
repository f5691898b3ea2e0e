/**
 * What one transaction's replies say about each recipient
 * (src/delivery/transaction-verdict.ts): the RCPT reply when it refused, the
 * DATA reply when it accepted, each classified at its own stage; a 421
 * anywhere is the host hanging up; which failures are the host's.
 */
import { describe, expect, it } from 'vitest';
import { SmtpClientError } from '../../src/delivery/smtp/errors.js';
import type { Reply } from '../../src/delivery/smtp/reply.js';
import { hangUpOf, isHostFailure, laterFailure, recipientResults } from '../../src/delivery/transaction-verdict.js';

const reply = (code: number, text: string): Reply => ({ code, lines: [text] });

describe('recipient results', () => {
  it('gives an accepted recipient the DATA reply, and a refused one its own RCPT reply', () => {
    const results = recipientResults(['ok@x.test', 'no@x.test'], {
      rcpt: [reply(250, '2.1.5 ok'), reply(550, '5.1.1 no such user')],
      data: reply(250, '2.0.0 queued as 1'),
      dsn: false,
    });
    expect(results).toEqual([
      { recipient: 'ok@x.test', outcome: { kind: 'delivered', response: '250 2.0.0 queued as 1' } },
      { recipient: 'no@x.test', outcome: { kind: 'failed', response: '550 5.1.1 no such user' } },
    ]);
  });

  it('classifies each reply at its own stage: 552 at RCPT waits, 552 after DATA fails', () => {
    const results = recipientResults(['full@x.test', 'big@x.test'], {
      rcpt: [reply(552, '4.2.2 mailbox full'), reply(250, 'ok')],
      data: reply(552, '5.3.4 message too big'),
      dsn: false,
    });
    expect(results.map((r) => r.outcome)).toEqual([
      { kind: 'deferred', response: '552 4.2.2 mailbox full' },
      { kind: 'failed', response: '552 5.3.4 message too big' },
    ]);
  });

  it('counts only 2xx as an accepting RCPT reply: 200 accepts, a stray 300 is the recipient’s own (odd) answer', () => {
    const results = recipientResults(['a@x.test', 'b@x.test'], {
      rcpt: [reply(200, 'fine'), reply(300, 'what')],
      data: reply(250, 'done'),
      dsn: false,
    });
    expect(results.map((r) => r.outcome)).toEqual([
      { kind: 'delivered', response: '250 done' },
      { kind: 'deferred', response: '300 what' },
    ]);
  });

  it('defers a recipient no reply speaks for (the transaction ended before DATA)', () => {
    const results = recipientResults(['a@x.test', 'b@x.test'], { rcpt: [reply(550, 'no')], dsn: false });
    expect(results[1]).toEqual({
      recipient: 'b@x.test',
      outcome: { kind: 'deferred', response: '4.0.0 no reply for this recipient' },
    });
  });
});

describe('hang-ups and host failures', () => {
  it('finds a 421 in the RCPT replies or the DATA reply, and nothing else', () => {
    expect(hangUpOf({ rcpt: [reply(250, 'ok'), reply(421, 'closing')], dsn: false })).toEqual(reply(421, 'closing'));
    expect(hangUpOf({ rcpt: [reply(250, 'ok')], data: reply(421, 'bye'), dsn: false })).toEqual(reply(421, 'bye'));
    expect(hangUpOf({ rcpt: [reply(450, 'later')], data: reply(554, 'no'), dsn: false })).toBeUndefined();
  });

  it('names its client errors as such, with the step and the server’s reply', () => {
    const error = new SmtpClientError('EREPLY', 'refused', 'MAIL FROM', reply(550, '5.7.1 no'));
    expect(error.name).toBe('SmtpClientError');
    expect(error).toMatchObject({ code: 'EREPLY', command: 'MAIL FROM', responseCode: 550, response: '550 5.7.1 no' });
  });

  it('blames the host for connection failures and for a body that could not be read, not for a refused message', () => {
    expect(isHostFailure(new SmtpClientError('ECONNECTION', 'reset', 'DATA'))).toBe(true);
    expect(isHostFailure(new SmtpClientError('ESTREAM', 'spool read failed', 'DATA'))).toBe(true);
    expect(isHostFailure(new SmtpClientError('ELIMITS', 'too many', 'RCPT TO'))).toBe(false);
    expect(isHostFailure(new SmtpClientError('EENVELOPE', 'bad address', 'RCPT TO'))).toBe(false);
  });

  it('defers the waiting recipients of a later transaction the host broke, and keeps a message verdict otherwise', () => {
    expect(
      laterFailure(new SmtpClientError('ECONNECTION', 'connection lost', 'DATA'), ['a@x.test', 'b@x.test']),
    ).toEqual([
      { recipient: 'a@x.test', outcome: { kind: 'deferred', response: '4.4.1 connection lost' } },
      { recipient: 'b@x.test', outcome: { kind: 'deferred', response: '4.4.1 connection lost' } },
    ]);
    expect(laterFailure(new SmtpClientError('EENVELOPE', 'bad address', 'RCPT TO'), ['a@x.test'])).toEqual([
      { recipient: 'a@x.test', outcome: { kind: 'failed', response: '5.1.3 bad address' } },
    ]);
  });
});
