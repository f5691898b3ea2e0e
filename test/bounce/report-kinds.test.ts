/**
 * The three reports (RFC 3464): failed, delayed and relayed, with the DSN
 * fields the envelope gave (ENVID, ORCPT), parsed with mailparser; RET=FULL
 * returns the whole message as message/rfc822, read only as the report is.
 */
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { buildDsn, dsnStatus, type Dsn, type DsnInput } from '../../src/bounce/dsn.js';
import { parseDsn } from './parse-dsn.js';

async function bytes(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

const arrival = Date.UTC(2025, 0, 2, 3, 0, 0);
const now = Date.UTC(2025, 0, 2, 7, 30, 0);
const headers = Buffer.from('From: alice@sender.test\r\nSubject: Hello there\r\nMessage-ID: <orig@sender.test>\r\n');

function input(overrides: Partial<DsnInput>): DsnInput {
  return {
    kind: 'failed',
    hostname: 'mta.sender.test',
    queueId: 'abcdefghijklmnopqrst',
    sender: 'alice@sender.test',
    arrivalDate: arrival,
    now,
    recipients: [],
    original: { kind: 'headers', headers },
    token: 'tok1',
    lifetimeHours: 120,
    ...overrides,
  };
}

describe('dsnStatus per kind', () => {
  it.each([
    ['451 4.4.1 try later', 'delayed', '4.4.1'],
    ['4.4.1 connect ECONNREFUSED', 'delayed', '4.4.1'],
    ['421 closing', 'delayed', '4.0.0'],
    ['250 2.0.0 Ok: queued', 'relayed', '2.0.0'],
    ['250 2.6.0 accepted', 'relayed', '2.6.0'],
    ['250 Ok', 'relayed', '2.0.0'],
    ['550 5.1.1 No such user', 'failed', '5.1.1'],
  ] as const)('%j as %s → %s', (response, kind, status) => {
    expect(dsnStatus(response, false, kind)).toBe(status);
  });
});

describe('delayed report', () => {
  // built inside each test, so per-test coverage sees which test runs it
  const dsn = (): Dsn =>
    buildDsn(
      input({
        kind: 'delayed',
        envid: 'QQ314159',
        recipients: [
          {
            recipient: 'bob@example.test',
            response: '451 4.2.2 mailbox full',
            lastAttemptAt: now,
            orcpt: 'rfc822;bob.old@example.test',
            remoteMta: 'mx.example.test',
          },
        ],
      }),
    );

  it('is a warning with the per-message and per-recipient fields, the headers only', async () => {
    const { mail, reportType, parts, status, part } = await parseDsn(await bytes(dsn().body));
    expect(dsn().envelope).toMatchObject({ sender: '', recipients: ['alice@sender.test'] });
    expect(mail.subject).toBe('Delayed Mail (still being retried)');
    expect(reportType).toBe('delivery-status');
    expect(parts.map((p) => p.contentType)).toEqual(['text/plain', 'message/delivery-status', 'text/rfc822-headers']);
    expect(part('text/plain')).toContain('THIS IS A WARNING ONLY');
    expect(part('text/plain')).toContain('could not be delivered for 4.5 hours');
    expect(part('text/plain')).toContain('retried until it is 120 hours old');
    expect(status[0]).toEqual({
      'original-envelope-id': 'QQ314159',
      'reporting-mta': 'dns; mta.sender.test',
      'x-gopherpost-queue-id': 'abcdefghijklmnopqrst',
      'arrival-date': 'Thu, 02 Jan 2025 03:00:00 +0000',
    });
    expect(status[1]).toEqual({
      'original-recipient': 'rfc822;bob.old@example.test',
      'final-recipient': 'rfc822; bob@example.test',
      action: 'delayed',
      status: '4.2.2',
      'remote-mta': 'dns; mx.example.test',
      'diagnostic-code': 'smtp; 451 4.2.2 mailbox full',
      'last-attempt-date': 'Thu, 02 Jan 2025 07:30:00 +0000',
      'will-retry-until': 'Tue, 07 Jan 2025 03:00:00 +0000',
    });
    expect(part('text/rfc822-headers')).toContain('Subject: Hello there');
  });
});

describe('relayed report', () => {
  it('says the message was relayed to a next hop without DSN, Status 2.0.0, no Will-Retry-Until', async () => {
    const dsn = buildDsn(
      input({
        kind: 'relayed',
        recipients: [{ recipient: 'carol@example.test', response: '250 2.0.0 Ok: queued as X', lastAttemptAt: now }],
      }),
    );
    const { mail, status, part } = await parseDsn(await bytes(dsn.body));
    expect(mail.subject).toBe('Successful Mail Delivery Report');
    expect(part('text/plain')).toContain('relayed to the destination(s) listed below');
    expect(status[0]).not.toHaveProperty('original-envelope-id');
    expect(status[1]).toEqual({
      'final-recipient': 'rfc822; carol@example.test',
      action: 'relayed',
      status: '2.0.0',
      'diagnostic-code': 'smtp; 250 2.0.0 Ok: queued as X',
      'last-attempt-date': 'Thu, 02 Jan 2025 07:30:00 +0000',
    });
  });
});

describe('failed report with RET=FULL', () => {
  it('returns the whole message as message/rfc822, read only while the report is read', async () => {
    let pulled = 0;
    const message = (async function* () {
      pulled += 1;
      yield Buffer.from('From: alice@sender.test\r\nSubject: Whole\r\n\r\n');
      for (let i = 0; i < 100; i += 1) {
        pulled += 1;
        yield Buffer.from(`line ${i} of the body\r\n`);
      }
    })();
    const dsn = buildDsn(
      input({
        original: { kind: 'full', message },
        recipients: [{ recipient: 'bob@example.test', response: '550 5.1.1 No such user', lastAttemptAt: now }],
      }),
    );
    expect(pulled).toBe(0); // nothing read until the report is
    const raw = await bytes(dsn.body);
    expect(pulled).toBe(101);
    const { parts, status } = await parseDsn(raw);
    expect(parts.map((p) => p.contentType)).toEqual(['text/plain', 'message/delivery-status', 'message/rfc822']);
    expect(status[1]).toMatchObject({ action: 'failed', status: '5.1.1' });
    const parsed = await simpleParser(raw);
    const returned = parsed.attachments.find((a) => a.contentType === 'message/rfc822');
    expect(returned?.content.toString()).toContain('Subject: Whole\r\n\r\nline 0 of the body\r\n');
    expect(returned?.content.toString()).toContain('line 99 of the body');
  });
});
