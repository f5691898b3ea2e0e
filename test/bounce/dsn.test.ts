import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  buildDsn,
  diagnosticCode,
  dsnStatus,
  hasSender,
  readHeaderBlock,
  shouldBounce,
  type Dsn,
  type DsnInput,
} from '../../src/bounce/dsn.js';
import { parseDsn } from './parse-dsn.js';

describe('shouldBounce', () => {
  it.each([
    ['alice@example.test', true, true],
    ['', true, false],
    ['<>', true, false],
    ['alice@example.test', false, false],
  ])('sender %j, bounces %s → %s', (sender, enabled, expected) => {
    expect(shouldBounce(sender, enabled)).toBe(expected);
  });
});

describe('dsnStatus / diagnosticCode', () => {
  it.each([
    ['550 5.1.1 No such user', false, '5.1.1'],
    ['554 Rejected', false, '5.0.0'],
    ['552-5.3.4 too big', false, '5.3.4'],
    ['5.1.10 example.test: null MX', false, '5.1.10'],
    ['451 4.3.0 later', true, '5.4.7'],
    ['4.4.1 connect ECONNREFUSED', false, '5.4.1'],
  ])('%j (expired %s) → %s', (response, expired, status) => {
    expect(dsnStatus(response, expired)).toBe(status);
  });

  it('labels server replies smtp and our own verdicts x-gopherpost', () => {
    expect(diagnosticCode('550 5.1.1 No such user')).toBe('smtp; 550 5.1.1 No such user');
    expect(diagnosticCode('5.1.10 null MX')).toBe('x-gopherpost; 5.1.10 null MX');
  });
});

describe('readHeaderBlock', () => {
  it('returns the headers and stops reading at the blank line', async () => {
    let pulled = 0;
    async function* body(): AsyncGenerator<Buffer> {
      yield Buffer.from('Subject: hi\r\nFrom: a@b.test\r\n');
      pulled += 1;
      yield Buffer.from('\r\nbody line\r\n');
      pulled += 1;
      for (let i = 0; i < 1000; i += 1) {
        pulled += 1;
        yield Buffer.alloc(10_240, 'x');
      }
    }
    const headers = await readHeaderBlock(body());
    expect(headers.toString()).toBe('Subject: hi\r\nFrom: a@b.test\r\n');
    expect(pulled).toBeLessThanOrEqual(2);
  });

  it('caps a runaway header block at a line end', async () => {
    const headers = await readHeaderBlock(
      Readable.from([Buffer.from('X-Long: ' + 'y'.repeat(100) + '\r\n'.repeat(1) + 'X-More: z\r\n')]),
      64,
    );
    expect(headers.toString()).toBe('');
    const small = await readHeaderBlock(Readable.from([Buffer.from('A: 1\r\nB: 2\r\nC: 3333333333\r\n')]), 14);
    expect(small.toString()).toBe('A: 1\r\nB: 2\r\n');
  });
});

async function bytes(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe('buildDsn', () => {
  // built inside each test, so per-test coverage sees which test runs it
  const dsn = (): Dsn =>
    buildDsn({
      kind: 'failed',
      hostname: 'mta.sender.test',
      queueId: 'abcdefghijklmnopqrst',
      sender: 'alice@sender.test',
      arrivalDate: Date.UTC(2025, 0, 2, 3, 4, 5),
      now: Date.UTC(2025, 0, 2, 4, 0, 0),
      recipients: [
        {
          recipient: 'bob@example.test',
          response: '550 5.1.1 <bob@example.test>: No such user',
          expired: false,
          lastAttemptAt: Date.UTC(2025, 0, 2, 4, 0, 0),
        },
        {
          recipient: 'carol@slow.test',
          response: '451 4.3.0 try later',
          expired: true,
          lastAttemptAt: Date.UTC(2025, 0, 2, 4, 0, 0),
        },
      ],
      original: {
        kind: 'headers',
        headers: Buffer.from(
          'From: alice@sender.test\r\nTo: bob@example.test\r\nSubject: Hello there\r\nMessage-ID: <orig@sender.test>\r\n',
        ),
      },
      token: 'tok123',
      lifetimeHours: 120,
    });

  it('is addressed from <> to the original sender, as if received from this host at the time of the report', () => {
    expect(dsn().envelope).toEqual({
      sender: '',
      recipients: ['alice@sender.test'],
      clientAddress: '127.0.0.1',
      heloName: 'mta.sender.test',
      receivedAt: Date.UTC(2025, 0, 2, 4, 0, 0),
    });
  });

  it('parses as multipart/report with delivery-status and rfc822-headers parts', async () => {
    const { mail, reportType, parts, status, part } = await parseDsn(await bytes(dsn().body));
    expect(mail.from?.value[0]?.address).toBe('MAILER-DAEMON@mta.sender.test');
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.value[0]?.address : undefined).toBe('alice@sender.test');
    expect(mail.subject).toBe('Undelivered Mail Returned to Sender');
    expect(mail.headers.get('auto-submitted')).toBe('auto-replied');
    expect(reportType).toBe('delivery-status');
    expect(parts.map((p) => p.contentType)).toEqual(['text/plain', 'message/delivery-status', 'text/rfc822-headers']);
    expect(part('text/plain')).toContain('<bob@example.test>: 550 5.1.1');
    expect(part('text/plain')).toContain('delivery time expired (message older than 120 hours)');

    expect(status[0]).toMatchObject({
      'reporting-mta': 'dns; mta.sender.test',
      'arrival-date': 'Thu, 02 Jan 2025 03:04:05 +0000',
    });
    expect(status[1]).toEqual({
      'final-recipient': 'rfc822; bob@example.test',
      action: 'failed',
      status: '5.1.1',
      'diagnostic-code': 'smtp; 550 5.1.1 <bob@example.test>: No such user',
      'last-attempt-date': 'Thu, 02 Jan 2025 04:00:00 +0000',
    });
    expect(status[2]).toMatchObject({
      'final-recipient': 'rfc822; carol@slow.test',
      status: '5.4.7',
      'diagnostic-code': 'smtp; 451 4.3.0 try later',
    });

    expect(part('text/rfc822-headers')).toContain('Subject: Hello there');
    expect(part('text/rfc822-headers')).toContain('Message-ID: <orig@sender.test>');
  });
});

describe('hasSender', () => {
  it.each([
    ['alice@sender.test', true],
    ['', false],
    ['<>', false],
    [' ', false],
    [' <> ', false],
  ])('%j → %s', (sender, has) => {
    expect(hasSender(sender)).toBe(has);
  });
});

describe('readHeaderBlock without a blank line', () => {
  it('returns the whole message when it is all header lines, its last byte included', async () => {
    async function* body(): AsyncGenerator<Buffer> {
      yield Buffer.from('A: 1\r\n');
      yield Buffer.from('B: 2\r\n');
    }
    expect((await readHeaderBlock(body())).toString()).toBe('A: 1\r\nB: 2\r\n');
  });

  it('cuts at the last line end when the cap is reached exactly in the middle of a line', async () => {
    async function* body(): AsyncGenerator<Buffer> {
      yield Buffer.from('A: 1\r\nB: 2');
    }
    expect((await readHeaderBlock(body(), 10)).toString()).toBe('A: 1\r\n');
  });
});

/** A one-recipient report from mta.sender.test to alice@sender.test, with `overrides`. */
function oneRecipient(
  response: string,
  headers: string,
  overrides: Partial<DsnInput> & { readonly expired?: boolean } = {},
): Dsn {
  const { expired, ...rest } = overrides;
  return buildDsn({
    kind: 'failed',
    hostname: 'mta.sender.test',
    queueId: 'abcdefghijklmnopqrst',
    sender: 'alice@sender.test',
    arrivalDate: 0,
    now: 0,
    recipients: [{ recipient: 'bob@example.test', response, lastAttemptAt: 0, ...(expired ? { expired } : {}) }],
    original: { kind: 'headers', headers: Buffer.from(headers, 'utf8') },
    token: 'tok',
    ...rest,
  });
}

describe('buildDsn, the returned headers part', () => {
  async function headersPart(headers: string): Promise<string> {
    const dsn = oneRecipient('550 5.1.1 no', headers);
    const text = (await bytes(dsn.body)).toString('latin1');
    return text.slice(text.indexOf('Content-Type: text/rfc822-headers'));
  }

  it('is 7bit when the headers are ASCII and 8bit when they are not', async () => {
    expect(await headersPart('Subject: plain\r\n')).toMatch(
      /^Content-Type: text\/rfc822-headers\r\nContent-Transfer-Encoding: 7bit/,
    );
    expect(await headersPart('Subject: café\r\n')).toMatch(
      /^Content-Type: text\/rfc822-headers\r\nContent-Transfer-Encoding: 8bit/,
    );
  });

  it('says "?" hours in a delay report that does not know the queue lifetime', async () => {
    const dsn = oneRecipient('451 4.4.1 later', 'Subject: x\r\n', { kind: 'delayed' });
    const text = (await bytes(dsn.body)).toString('latin1');
    expect(text).toContain('could not be delivered for 0 hours'); // how long is always known from the dates
    expect(text).toContain('retried until it is ? hours old');
  });

  it('says "?" hours where the queue lifetime is not known', async () => {
    const dsn = oneRecipient('4.4.7 gave up', 'Subject: x\r\n', { expired: true });
    expect((await bytes(dsn.body)).toString('latin1')).toContain('message older than ? hours');
  });
});

describe('buildDsn with headers that lack line ends', () => {
  it('returns them as CRLF lines, the last one ended too', async () => {
    const dsn = oneRecipient('550 5.1.1 no', 'Subject: bare\nFrom: alice@sender.test', {
      expired: true,
      arrivalDate: Date.UTC(2025, 0, 2, 3, 4, 5),
      now: Date.UTC(2025, 0, 2, 4, 0, 0),
      lifetimeHours: 120,
    });
    const text = (await bytes(dsn.body)).toString('latin1');
    // the last header line ended once by us, then the part's own CRLF: a blank line before the boundary
    expect(text).toMatch(/Subject: bare\r\nFrom: alice@sender\.test\r\n\r\n--/);
    // the top header block ends at the blank line before the preamble
    expect(text).toMatch(/boundary="[^"]+"\r\n\r\nThis is a MIME-encapsulated message\.\r\n/);
    expect(text).toContain('delivery time expired (message older than 120 hours); last response: 550 5.1.1 no');
  });
});
