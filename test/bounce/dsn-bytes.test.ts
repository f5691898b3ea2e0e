/**
 * A report byte for byte. Parsers forgive a lot (a missing blank line, a
 * doubled line end, text in the MIME preamble), so the parsed tests cannot
 * see such changes; these pin the exact wire form of a failure report with
 * the whole message returned, and of the returned header part.
 */
import { describe, expect, it } from 'vitest';
import { buildDsn, readHeaderBlock, type DsnInput } from '../../src/bounce/dsn.js';

async function text(body: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks).toString('latin1');
}

async function* once(bytes: string): AsyncGenerator<Buffer> {
  yield Buffer.from(bytes, 'latin1');
}

const base: DsnInput = {
  kind: 'failed',
  hostname: 'mta.sender.test',
  queueId: 'abcdefghijklmnopqrst',
  sender: 'alice@sender.test',
  arrivalDate: Date.UTC(2025, 0, 2, 3, 0, 0),
  now: Date.UTC(2025, 0, 2, 7, 30, 0),
  envid: 'QQ1',
  recipients: [
    {
      recipient: 'bob@example.test',
      response: '550 5.1.1 no such user',
      lastAttemptAt: Date.UTC(2025, 0, 2, 7, 29, 0),
      orcpt: 'rfc822;bob@example.test',
    },
  ],
  original: { kind: 'headers', headers: Buffer.from('') },
  token: 'tok',
  lifetimeHours: 120,
};

const CRLF = '\r\n';

const TOP = [
  'From: Mail Delivery System <MAILER-DAEMON@mta.sender.test>',
  'To: <alice@sender.test>',
  'Subject: Undelivered Mail Returned to Sender',
  'Date: Thu, 02 Jan 2025 07:30:00 +0000',
  'Message-ID: <tok@mta.sender.test>',
  'Auto-Submitted: auto-replied',
  'MIME-Version: 1.0',
  'Content-Type: multipart/report; report-type=delivery-status;',
  ' boundary="=_gopherpost_tok"',
  '',
  'This is a MIME-encapsulated message.',
  '',
  '--=_gopherpost_tok',
  'Content-Type: text/plain; charset=utf-8',
  'Content-Transfer-Encoding: 7bit',
  '',
  'This is the mail system at host mta.sender.test.',
  '',
  "I'm sorry to have to inform you that your message could not",
  'be delivered to one or more recipients. It is attached below.',
  '',
  'For further assistance, please send mail to postmaster.',
  '',
  'If you do so, please include this problem report. You can',
  'delete your own text from the attached returned message.',
  '',
  '                   The mail system',
  '',
  '<bob@example.test>: 550 5.1.1 no such user',
  '',
  '--=_gopherpost_tok',
  'Content-Type: message/delivery-status',
  'Content-Transfer-Encoding: 7bit',
  '',
  'Original-Envelope-Id: QQ1',
  'Reporting-MTA: dns; mta.sender.test',
  'X-GopherPost-Queue-ID: abcdefghijklmnopqrst',
  'Arrival-Date: Thu, 02 Jan 2025 03:00:00 +0000',
  '',
  'Original-Recipient: rfc822;bob@example.test',
  'Final-Recipient: rfc822; bob@example.test',
  'Action: failed',
  'Status: 5.1.1',
  'Diagnostic-Code: smtp; 550 5.1.1 no such user',
  'Last-Attempt-Date: Thu, 02 Jan 2025 07:29:00 +0000',
  '',
  '',
].join(CRLF);

/** The returned-headers part as sent, from its boundary line to the closing one. */
async function headersPart(headers: Buffer): Promise<string> {
  const report = await text(buildDsn({ ...base, original: { kind: 'headers', headers } }).body);
  expect(report.startsWith(TOP)).toBe(true);
  return report.slice(TOP.length);
}

describe('a failure report, byte for byte', () => {
  it('returns the whole message as message/rfc822, 8bit, after the two report parts', async () => {
    const report = await text(
      buildDsn({ ...base, original: { kind: 'full', message: once('Subject: hi\r\n\r\nbody\r\n') } }).body,
    );
    expect(report).toBe(
      TOP +
        [
          '--=_gopherpost_tok',
          'Content-Type: message/rfc822',
          'Content-Transfer-Encoding: 8bit',
          '',
          'Subject: hi',
          '',
          'body',
          '',
          '--=_gopherpost_tok--',
          '',
        ].join(CRLF),
    );
  });

  it('returns CRLF-ended headers as they are, with one blank line before the closing boundary', async () => {
    expect(await headersPart(Buffer.from('Subject: hi\r\nFrom: alice@sender.test\r\n'))).toBe(
      [
        '--=_gopherpost_tok',
        'Content-Type: text/rfc822-headers',
        'Content-Transfer-Encoding: 7bit',
        '',
        'Subject: hi',
        'From: alice@sender.test',
        '',
        '--=_gopherpost_tok--',
        '',
      ].join(CRLF),
    );
  });

  it('returns an empty header block as an empty part', async () => {
    expect(await headersPart(Buffer.from(''))).toBe(
      [
        '--=_gopherpost_tok',
        'Content-Type: text/rfc822-headers',
        'Content-Transfer-Encoding: 7bit',
        '',
        '',
        '--=_gopherpost_tok--',
        '',
      ].join(CRLF),
    );
  });

  it('labels headers 8bit from the first byte over 7 bits (0x80)', async () => {
    const part = await headersPart(Buffer.from([0x58, 0x3a, 0x20, 0x80, 0x0d, 0x0a]));
    expect(part).toContain('Content-Transfer-Encoding: 8bit\r\n\r\nX: \x80\r\n\r\n--=_gopherpost_tok--\r\n');
  });
});

describe('readHeaderBlock', () => {
  it('returns an empty block for a message that starts with the blank line', async () => {
    expect((await readHeaderBlock(once('\r\nbody text\r\n'))).toString()).toBe('');
  });
});

describe('a delay report without a known queue lifetime', () => {
  it('has no Will-Retry-Until field', async () => {
    const report = await text(buildDsn({ ...base, kind: 'delayed', lifetimeHours: undefined }).body);
    expect(report).toContain('Action: delayed\r\n');
    expect(report).not.toContain('Will-Retry-Until');
  });
});
