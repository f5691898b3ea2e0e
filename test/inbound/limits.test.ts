import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkMessageCount, limitsExtension } from '../../src/policy/session-limits.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { ehlo, type RawSmtp } from '../helpers/smtp-client.js';

// RFC 9422 LIMITS inbound: RCPTMAX and MAILMAX advertised from the configuration, and enforced.

let d: TestDaemon;

beforeAll(async () => {
  d = await startTestDaemon({ SMTP_MAX_RECIPIENTS: '3', SMTP_MAX_MESSAGES_PER_CONNECTION: '2' });
});
afterAll(async () => {
  await d.stop();
});

/** One message on an open session; the reply to the end of DATA. */
async function message(client: RawSmtp, to = 'rcpt@example.test'): Promise<number> {
  expect((await client.command('MAIL FROM:<sender@mx.local.test>')).code).toBe(250);
  expect((await client.command(`RCPT TO:<${to}>`)).code).toBe(250);
  expect((await client.command('DATA')).code).toBe(354);
  return (await client.command('Subject: limits\r\n\r\nhello\r\n.')).code;
}

describe('LIMITS (RFC 9422) inbound', () => {
  it('advertises RCPTMAX and MAILMAX from the configuration in EHLO', async () => {
    const client = await ehlo(d.port);
    const reply = await client.command('EHLO client.test');
    expect(reply.lines).toContain('LIMITS RCPTMAX=3 MAILMAX=2');
    client.close();
  });

  it('answers the RCPT past RCPTMAX with 452 4.5.3', async () => {
    const client = await ehlo(d.port);
    await client.command('MAIL FROM:<sender@mx.local.test>');
    for (const n of [1, 2, 3]) expect((await client.command(`RCPT TO:<r${n}@example.test>`)).code).toBe(250);
    const over = await client.command('RCPT TO:<r4@example.test>');
    expect([over.code, over.text]).toEqual([452, '4.5.3 Too many recipients']);
    client.close();
  });

  it('answers the MAIL past MAILMAX with 451 4.5.3 and keeps the session; a new connection goes on', async () => {
    const client = await ehlo(d.port);
    expect(await message(client)).toBe(250);
    expect(await message(client)).toBe(250);
    const over = await client.command('MAIL FROM:<sender@mx.local.test>');
    expect([over.code, over.text]).toEqual([451, '4.5.3 Too many messages on this connection, go on in a new one']);
    expect((await client.command('NOOP')).code).toBe(250); // still open
    expect((await client.command('QUIT')).code).toBe(221);
    client.close();
    const next = await ehlo(d.port);
    expect(await message(next)).toBe(250);
    next.close();
  });

  it('counts every MAIL, refused ones too (RFC 9422 §4.1)', async () => {
    const client = await ehlo(d.port);
    expect((await client.command('MAIL FROM:<sender@elsewhere.test>')).code).toBe(553); // not the local domain
    expect(await message(client)).toBe(250);
    expect((await client.command('MAIL FROM:<sender@mx.local.test>')).code).toBe(451);
    client.close();
  });
});

describe('session limits (pure)', () => {
  const limits = { maxRecipients: 100, maxMessagesPerConnection: 1000 };

  it('spells the EHLO line', () => {
    expect(limitsExtension(limits)).toBe('LIMITS RCPTMAX=100 MAILMAX=1000');
  });

  it.each([
    [1, 'accept'],
    [1000, 'accept'],
    [1001, 'reject'],
  ])('MAIL number %i: %s', (count, kind) => {
    expect(checkMessageCount(count, limits).kind).toBe(kind);
  });
});
