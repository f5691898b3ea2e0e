/**
 * DSN (RFC 3461) inbound, over real sockets: EHLO lists DSN, nodemailer's
 * `dsn` option is stored with the message, and malformed parameters from a
 * raw client get 501 5.5.4 and store nothing.
 */
import nodemailer from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { ehlo, RawSmtp } from '../helpers/smtp-client.js';
import { allMessages } from '../helpers/spool.js';

let d: TestDaemon;

beforeAll(async () => {
  d = await startTestDaemon({ SMTP_REQUIRE_LOCAL_DOMAIN: 'false' });
});
afterAll(async () => {
  await d.stop();
});

describe('DSN inbound (§3)', () => {
  it('EHLO advertises DSN', async () => {
    const client = await RawSmtp.open(d.port);
    await client.read();
    const reply = await client.command('EHLO client.test');
    expect(reply.code).toBe(250);
    expect(reply.lines).toContain('DSN');
    client.close();
  });

  it("stores nodemailer's dsn option (RET, ENVID, NOTIFY, ORCPT) with the message", async () => {
    const mail: SMTPTransport.MailOptions = {
      envelope: { from: 'a@sender.test', to: ['b@example.test', 'c@example.test'] },
      raw: 'Subject: dsn\r\n\r\nhi\r\n',
      dsn: { envid: 'env id+1=2', ret: 'HDRS', notify: ['SUCCESS', 'DELAY'], orcpt: 'orig+x@example.test' },
    };
    const info = await nodemailer
      .createTransport({ host: '127.0.0.1', port: d.port, secure: false, tls: { rejectUnauthorized: false } })
      .sendMail(mail);
    const id = /queued as ([0-9a-z]{20})/.exec(info.response)?.[1] ?? '';
    const record = await d.daemon.spool.get(id);
    expect(record?.envelope.dsn).toEqual({
      ret: 'HDRS',
      envid: 'env id+1=2',
      recipients: {
        'b@example.test': { notify: ['SUCCESS', 'DELAY'], orcpt: 'rfc822;orig+x@example.test' },
        'c@example.test': { notify: ['SUCCESS', 'DELAY'], orcpt: 'rfc822;orig+x@example.test' },
      },
    });
  });

  it('stores no DSN part when the client gave no DSN parameter', async () => {
    const client = await ehlo(d.port);
    expect((await client.command('MAIL FROM:<a@sender.test>')).code).toBe(250);
    expect((await client.command('RCPT TO:<plain@example.test>')).code).toBe(250);
    expect((await client.command('DATA')).code).toBe(354);
    const reply = await client.command('Subject: plain\r\n\r\nhi\r\n.');
    client.close();
    const id = /queued as ([0-9a-z]{20})/.exec(reply.text)?.[1] ?? '';
    const record = await d.daemon.spool.get(id);
    expect(record?.envelope.recipients).toEqual(['plain@example.test']);
    expect(record?.envelope).not.toHaveProperty('dsn');
  });

  it.each([
    ['MAIL FROM:<a@sender.test> RET=BODY', 'RET'],
    ['MAIL FROM:<a@sender.test> RET=FULL RET=HDRS', 'duplicate RET'],
    ['MAIL FROM:<a@sender.test> ENVID=h\u00e9llo', 'ENVID'],
    ['MAIL FROM:<a@sender.test> ENVID=' + 'x'.repeat(101), 'ENVID'],
    ['MAIL FROM:<a@sender.test> ENVID', 'ENVID'],
  ])('MAIL with a bad DSN parameter (%s) gets 501 5.5.4', async (line, text) => {
    const client = await ehlo(d.port);
    const reply = await client.command(line);
    expect([reply.code, reply.text.slice(0, 6)]).toEqual([501, '5.5.4 ']);
    expect(reply.text).toContain(text);
    // the session goes on: a good MAIL is accepted after it
    expect((await client.command('MAIL FROM:<a@sender.test> RET=FULL ENVID=ok')).code).toBe(250);
    client.close();
  });

  it.each([
    ['RCPT TO:<b@example.test> NOTIFY=NEVER,SUCCESS', 'NEVER'],
    ['RCPT TO:<b@example.test> NOTIFY=SOMETIMES', 'NOTIFY'],
    ['RCPT TO:<b@example.test> NOTIFY=SUCCESS,SUCCESS', 'NOTIFY'],
    ['RCPT TO:<b@example.test> NOTIFY=DELAY NOTIFY=FAILURE', 'duplicate NOTIFY'],
    ['RCPT TO:<b@example.test> ORCPT=b@example.test', 'ORCPT'],
    ['RCPT TO:<b@example.test> ORCPT=rfc822;b\u00f8b@example.test', 'ORCPT'],
  ])('RCPT with a bad DSN parameter (%s) gets 501 5.5.4 and adds no recipient', async (line, text) => {
    const client = await ehlo(d.port);
    expect((await client.command('MAIL FROM:<a@sender.test>')).code).toBe(250);
    const reply = await client.command(line);
    expect([reply.code, reply.text.slice(0, 6)]).toEqual([501, '5.5.4 ']);
    expect(reply.text).toContain(text);
    const data = await client.command('DATA');
    expect([data.code, data.text.slice(0, 5)]).toEqual([503, '5.5.1']);
    client.close();
  });

  it('a refused parameter stores nothing; the accepted recipients keep their own', async () => {
    const before = (await allMessages(d.daemon.spool)).length;
    const client = await ehlo(d.port);
    expect((await client.command('MAIL FROM:<a@sender.test> ENVID=QQ+2B1')).code).toBe(250);
    expect((await client.command('RCPT TO:<x@example.test> NOTIFY=NEVER,DELAY')).code).toBe(501);
    expect((await client.command('RCPT TO:<y@example.test> NOTIFY=NEVER')).code).toBe(250);
    expect((await client.command('DATA')).code).toBe(354);
    const reply = await client.command('Subject: x\r\n\r\nhi\r\n.');
    client.close();
    const id = /queued as ([0-9a-z]{20})/.exec(reply.text)?.[1] ?? '';
    const record = await d.daemon.spool.get(id);
    expect(record?.envelope.recipients).toEqual(['y@example.test']);
    expect(record?.envelope.dsn).toEqual({ envid: 'QQ+1', recipients: { 'y@example.test': { notify: ['NEVER'] } } });
    expect((await allMessages(d.daemon.spool)).length).toBe(before + 1);
  });
});
