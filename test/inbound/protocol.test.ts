import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { ehlo, RawSmtp } from '../helpers/smtp-client.js';
import { bodyBytes } from '../helpers/spool.js';

let d: TestDaemon;

beforeAll(async () => {
  d = await startTestDaemon({
    SMTP_MAX_RECIPIENTS: '3',
    SMTP_MAX_MESSAGE_BYTES: '2000',
    SMTP_REQUIRE_LOCAL_DOMAIN: 'true',
  });
});
afterAll(async () => {
  await d.stop();
});

async function storedFiles(): Promise<string[]> {
  const out: string[] = [];
  for (const dir of await readdir(d.spoolDir)) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(dir)) continue;
    out.push(...(await readdir(join(d.spoolDir, dir))).filter((f) => f.endsWith('.eml')));
  }
  return out;
}

describe('SMTP verbs and replies (§3)', () => {
  it('greets with the hostname and banner, and advertises the extensions', async () => {
    const client = await RawSmtp.open(d.port);
    const greeting = await client.read();
    expect(greeting?.code).toBe(220);
    expect(greeting?.text).toMatch(/^mx\.local\.test .*GopherPost ready/);
    const reply = await client.command('EHLO client.test');
    expect(reply.code).toBe(250);
    for (const ext of ['PIPELINING', '8BITMIME', 'SMTPUTF8', 'SIZE 2000', 'ENHANCEDSTATUSCODES', 'STARTTLS']) {
      expect(reply.lines).toContain(ext);
    }
    // AUTH is not offered before TLS (and here no users are configured at all)
    expect(reply.lines.some((l) => l.startsWith('AUTH'))).toBe(false);
    expect((await client.command('QUIT')).code).toBe(221);
    client.close();
  });

  it('closes the connection as soon as the 221 to QUIT is sent; a command pipelined after QUIT gets no reply', async () => {
    const client = await ehlo(d.port);
    const closedAt = new Promise<number>((resolve) => client.socket.once('end', () => resolve(Date.now())));
    const sentAt = Date.now();
    client.write('QUIT\r\nNOOP\r\n');
    const bye = await client.read();
    expect([bye?.code, bye?.text]).toEqual([221, '2.0.0 Bye']);
    expect(await client.read()).toBeUndefined(); // nothing for the NOOP: the server hung up
    // well before smtp-server's half-close deadline (5 s here): the server closed, not a timer
    expect((await closedAt) - sentAt).toBeLessThan(2_000);
    client.close();
  });

  it('answers HELO, NOOP, RSET and VRFY 252', async () => {
    const client = await RawSmtp.open(d.port);
    await client.read();
    expect((await client.command('HELO client.test')).code).toBe(250);
    expect((await client.command('NOOP')).code).toBe(250);
    expect((await client.command('RSET')).code).toBe(250);
    const vrfy = await client.command('VRFY bob');
    expect(vrfy.code).toBe(252);
    expect(vrfy.text).toMatch(/^2\.1\.5 /);
    client.close();
  });

  it('refuses RCPT before MAIL and DATA before RCPT with 503 5.5.1', async () => {
    const client = await ehlo(d.port);
    const rcpt = await client.command('RCPT TO:<b@example.test>');
    expect([rcpt.code, rcpt.text.slice(0, 5)]).toEqual([503, '5.5.1']);
    expect((await client.command('MAIL FROM:<a@mx.local.test>')).code).toBe(250);
    const data = await client.command('DATA');
    expect([data.code, data.text.slice(0, 5)]).toEqual([503, '5.5.1']);
    client.close();
  });

  it('enforces the sender domain, accepts the null sender and keeps address case', async () => {
    const client = await ehlo(d.port);
    const foreign = await client.command('MAIL FROM:<a@elsewhere.test>');
    expect([foreign.code, foreign.text.slice(0, 5)]).toEqual([553, '5.7.1']);
    expect((await client.command('MAIL FROM:<>')).code).toBe(250);
    expect((await client.command('RCPT TO:<Bob.Smith@Example.TEST>')).code).toBe(250);
    expect((await client.command('DATA')).code).toBe(354);
    const done = await client.command('Subject: bounce\r\n\r\nbody\r\n.');
    expect(done.code).toBe(250);
    const id = /queued as ([0-9a-z]{20})/.exec(done.text)?.[1] ?? '';
    const record = await d.daemon.spool.get(id);
    expect(record?.envelope.sender).toBe('');
    expect(record?.envelope.recipients).toEqual(['Bob.Smith@Example.TEST']);
    client.close();
  });

  it('rejects malformed and path-trick addresses with 501', async () => {
    const client = await ehlo(d.port);
    expect((await client.command('MAIL FROM:<../../etc/passwd@mx.local.test>')).code).toBe(501);
    expect((await client.command('MAIL FROM:<a@mx.local.test>')).code).toBe(250);
    const bad = await client.command('RCPT TO:<a/../b@example.test>');
    expect([bad.code, bad.text.slice(0, 5)]).toEqual([501, '5.1.3']);
    client.close();
  });

  it('limits recipients per transaction with 452 4.5.3', async () => {
    const client = await ehlo(d.port);
    await client.command('MAIL FROM:<a@mx.local.test>');
    for (const n of [1, 2, 3]) expect((await client.command(`RCPT TO:<r${n}@example.test>`)).code).toBe(250);
    const over = await client.command('RCPT TO:<r4@example.test>');
    expect([over.code, over.text.slice(0, 5)]).toEqual([452, '4.5.3']);
    client.close();
  });

  it('refuses an over-size message with 552 5.3.4 (declared or streamed) and stores nothing', async () => {
    const before = await storedFiles();
    const client = await ehlo(d.port);
    const declared = await client.command('MAIL FROM:<a@mx.local.test> SIZE=999999');
    expect([declared.code, declared.text.slice(0, 5)]).toEqual([552, '5.3.4']);
    await client.command('MAIL FROM:<a@mx.local.test>');
    await client.command('RCPT TO:<b@example.test>');
    expect((await client.command('DATA')).code).toBe(354);
    const big = `Subject: big\r\n\r\n${'x'.repeat(78)}\r\n`.repeat(60);
    const reply = await client.command(`${big}.`);
    expect([reply.code, reply.text.slice(0, 5)]).toEqual([552, '5.3.4']);
    // the session goes on normally after the refusal
    expect((await client.command('NOOP')).code).toBe(250);
    client.close();
    expect(await storedFiles()).toEqual(before);
  });

  it('stores dot-stuffed and 8-bit content as received, a bare LF and a bare CR as CRLF (SMTP_BARE_NEWLINE)', async () => {
    const client = await ehlo(d.port);
    await client.command('MAIL FROM:<a@mx.local.test>');
    await client.command('RCPT TO:<b@example.test>');
    await client.command('DATA');
    client.write(
      Buffer.from('Subject: raw\r\n\r\n..leading dot\r\nbare\nlf\rcr\r\n\u00e9t\u00e9 \u0000nul\r\n.\r\n', 'latin1'),
    );
    const reply = await client.read();
    expect(reply?.code).toBe(250);
    const id = /queued as ([0-9a-z]{20})/.exec(reply?.text ?? '')?.[1] ?? '';
    const chunks: Buffer[] = [];
    chunks.push(await bodyBytes(d.daemon.spool, id));
    const stored = Buffer.concat(chunks).toString('latin1');
    expect(stored).toMatch(
      /^Received: from client\.test \(\[127\.0\.0\.1\]\)\r\n\tby mx\.local\.test \(GopherPost\) with ESMTP id /,
    );
    expect(stored).toMatch(/\r\nMessage-ID: <[0-9a-f]{24}@mx\.local\.test>\r\nSubject: raw\r\n/);
    expect(stored.endsWith('Subject: raw\r\n\r\n.leading dot\r\nbare\r\nlf\r\ncr\r\n\u00e9t\u00e9 \u0000nul\r\n')).toBe(
      true,
    );
    client.close();
  });

  it('keeps an existing Message-ID', async () => {
    const client = await ehlo(d.port);
    await client.command('MAIL FROM:<a@mx.local.test>');
    await client.command('RCPT TO:<b@example.test>');
    await client.command('DATA');
    const reply = await client.command('Message-Id: <given@client.test>\r\nSubject: x\r\n\r\nhi\r\n.');
    const id = /queued as ([0-9a-z]{20})/.exec(reply.text)?.[1] ?? '';
    const chunks: Buffer[] = [];
    chunks.push(await bodyBytes(d.daemon.spool, id));
    const stored = Buffer.concat(chunks).toString();
    expect(stored.match(/message-id:/gi)).toHaveLength(1);
    expect(stored).toContain('Message-Id: <given@client.test>');
    client.close();
  });
});

describe('bad input (§8)', () => {
  it('survives a huge line without CRLF and keeps serving', async () => {
    const client = await RawSmtp.open(d.port);
    await client.read();
    client.write(`EHLO ${'a'.repeat(200_000)}`);
    client.write('\r\n');
    const reply = await client.read();
    expect(reply).toMatchObject({ code: 421, text: expect.stringContaining('line too long') });
    expect(await client.read()).toBeUndefined(); // and the connection is closed
    client.close();
    const next = await ehlo(d.port);
    expect((await next.command('NOOP')).code).toBe(250);
    next.close();
  });

  it('answers NUL bytes and binary garbage with errors, never a crash or stack trace', async () => {
    const client = await RawSmtp.open(d.port);
    await client.read();
    client.write(Buffer.from([0x00, 0xff, 0xfe, 0x0d, 0x0a]));
    const first = await client.read();
    expect(first?.code).toBeGreaterThanOrEqual(500);
    client.write(Buffer.concat([Buffer.from('MAIL FROM:<a\u0000b@x>'), Buffer.from('\r\n')]));
    const second = await client.read();
    expect(second?.code).toBeGreaterThanOrEqual(500);
    expect(`${first?.text}${second?.text}`).not.toMatch(/at .*\.js|Error:.*\n\s+at /);
    client.close();
    const next = await ehlo(d.port);
    next.close();
  });

  it('answers a pipelined flood in order', async () => {
    const client = await ehlo(d.port);
    client.write('NOOP\r\n'.repeat(500));
    for (let i = 0; i < 500; i++) expect((await client.read())?.code).toBe(250);
    client.close();
  });

  it('serves a slow client that sends one byte at a time', async () => {
    const client = await RawSmtp.open(d.port);
    await client.read();
    for (const ch of 'EHLO slow.test\r\n') {
      client.write(ch);
      await new Promise((r) => setTimeout(r, 5)); // the slow client under test, not a wait for the server
    }
    expect((await client.read())?.code).toBe(250);
    client.close();
  });
});
