/**
 * REQUIRETLS inbound (SPEC §3, RFC 8689): advertised only in a TLS session
 * (after STARTTLS, on the implicit-TLS listener), refused in clear with
 * `530 5.7.10`, a value with `501 5.5.4`, and kept with the stored message.
 */
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { ehlo, type RawSmtp } from '../helpers/smtp-client.js';

let d: TestDaemon;

beforeAll(async () => {
  d = await startTestDaemon({ SMTP_TLS_PORT: '0' });
});
afterAll(async () => {
  await d.stop();
});

/** A line-oriented SMTP conversation over a TLS socket: each command's (multi-line) reply. */
function conversation(socket: TLSSocket): (line?: string) => Promise<{ code: number; lines: string[] }> {
  let buffer = '';
  const waiting: ((text: string) => void)[] = [];
  socket.on('data', (data: Buffer) => {
    buffer += data.toString('latin1');
    const lines = buffer.split('\r\n');
    const last = lines.findIndex((l) => /^\d{3}( |$)/.test(l));
    if (last < 0) return;
    const reply = lines.slice(0, last + 1).join('\r\n');
    buffer = lines.slice(last + 1).join('\r\n');
    waiting.shift()?.(reply);
  });
  return (line) => {
    const reply = new Promise<string>((resolve) => waiting.push(resolve));
    if (line !== undefined) socket.write(`${line}\r\n`);
    return reply.then((text) => {
      const lines = text.split('\r\n');
      return { code: Number(lines[lines.length - 1]?.slice(0, 3)), lines: lines.map((l) => l.slice(4)) };
    });
  };
}

/** STARTTLS on a session that said EHLO; the TLS socket once the handshake is done. */
async function startTls(client: RawSmtp): Promise<TLSSocket> {
  expect((await client.command('STARTTLS')).code).toBe(220);
  const secure = tlsConnect({ socket: client.socket, rejectUnauthorized: false });
  await new Promise<void>((resolve) => secure.once('secureConnect', () => resolve()));
  return secure;
}

describe('REQUIRETLS inbound (§3, RFC 8689)', () => {
  it('is not offered in clear, and MAIL FROM … REQUIRETLS in clear is refused with 530 5.7.10', async () => {
    const client = await ehlo(d.port);
    try {
      const caps = await client.command('EHLO again.test');
      expect(caps.lines).toContain('STARTTLS');
      expect(caps.lines).not.toContain('REQUIRETLS');
      const mail = await client.command('MAIL FROM:<alice@mx.local.test> REQUIRETLS');
      expect(mail.code).toBe(530);
      expect(mail.text).toMatch(/^5\.7\.10 REQUIRETLS needed/);
      // the session goes on: the same sender without the parameter is taken
      expect((await client.command('MAIL FROM:<alice@mx.local.test>')).code).toBe(250);
    } finally {
      client.close();
    }
  });

  it('is offered after STARTTLS; a value is 501 5.5.4; the flag is stored with the message', async () => {
    const client = await ehlo(d.port);
    const secure = await startTls(client);
    try {
      const say = conversation(secure);
      const caps = await say('EHLO tls.test');
      expect(caps.lines).toContain('REQUIRETLS');
      const valued = await say('MAIL FROM:<alice@mx.local.test> REQUIRETLS=YES');
      expect(valued.code).toBe(501);
      expect(valued.lines[0]).toMatch(/^5\.5\.4 /);
      expect((await say('MAIL FROM:<alice@mx.local.test> REQUIRETLS')).code).toBe(250);
      expect((await say('RCPT TO:<bob@example.test>')).code).toBe(250);
      expect((await say('DATA')).code).toBe(354);
      const done = await say('Subject: secret\r\n\r\nfor bob only\r\n.');
      expect(done.code).toBe(250);
      const id = /queued as ([0-9a-z]{20})/.exec(done.lines[0] ?? '')?.[1] ?? '';
      expect((await d.daemon.spool.get(id))?.envelope.requireTls).toBe(true);
    } finally {
      secure.destroy();
    }
  });

  it('is offered on the implicit-TLS listener', async () => {
    const port = d.daemon.smtp.tls?.port ?? 0;
    const socket = await new Promise<TLSSocket>((resolve, reject) => {
      const s = tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => resolve(s));
      s.once('error', reject);
    });
    try {
      const say = conversation(socket);
      expect((await say()).code).toBe(220);
      expect((await say('EHLO implicit.test')).lines).toContain('REQUIRETLS');
    } finally {
      socket.destroy();
    }
  });

  it('takes REQUIRETLS from nodemailer over STARTTLS; mail without it has no flag', async () => {
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: d.port,
      secure: false,
      requireTLS: true,
      tls: { rejectUnauthorized: false },
    });
    // nodemailer's typings do not list its RFC 8689 option yet
    const send = async (requireTLSExtensionEnabled: boolean): Promise<string> => {
      const mail: nodemailer.SendMailOptions & { requireTLSExtensionEnabled: boolean } = {
        envelope: { from: 'alice@mx.local.test', to: ['carol@example.test'] },
        raw: 'Subject: nodemailer\r\n\r\nhello\r\n',
        requireTLSExtensionEnabled,
      };
      const info = (await transport.sendMail(mail)) as { response: string };
      return info.response.slice(-20);
    };
    const flagged = await send(true);
    const plain = await send(false);
    transport.close();
    expect((await d.daemon.spool.get(flagged))?.envelope.requireTls).toBe(true);
    expect((await d.daemon.spool.get(plain))?.envelope).not.toHaveProperty('requireTls');
  });
});
