import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/domain/audit.js';
import { StartupError } from '../../src/startup/failure.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { ehlo, writeCertificate } from '../helpers/smtp-client.js';
import { bodyBytes } from '../helpers/spool.js';

// The implicit-TLS (SMTP_TLS_PORT, RFC 8314) and submission (SMTP_SUBMISSION_PORT) listeners (§3).

let d: TestDaemon;
const events: AuditEvent[] = [];

beforeAll(async () => {
  d = await startTestDaemon({
    SMTP_TLS_PORT: '0',
    SMTP_SUBMISSION_PORT: '0',
    SMTP_AUTH_USERS: 'alice:secret',
    SMTP_DEBUG: 'true',
  });
  d.daemon.audit.events$.subscribe((event) => events.push(event));
});
afterAll(async () => {
  await d.stop();
});

function portOf(address: AddressInfo | undefined): number {
  if (!address) throw new Error('the listener is not configured');
  return address.port;
}

/** TLS from the first byte to the implicit-TLS port; resolves once the handshake is done. */
function connectTls(port: number): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Reads one (multi-line) SMTP reply from a TLS socket. */
function readReply(socket: TLSSocket): Promise<{ code: number; lines: string[] }> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const onData = (data: Buffer): void => {
      buffer += data.toString('latin1');
      const lines = buffer.split('\r\n');
      const last = lines.findIndex((l) => /^\d{3}( |$)/.test(l));
      if (last < 0) return;
      socket.off('data', onData);
      resolve({ code: Number(lines[last]?.slice(0, 3)), lines: lines.slice(0, last + 1).map((l) => l.slice(4)) });
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

async function command(socket: TLSSocket, line: string): Promise<{ code: number; lines: string[] }> {
  const reply = readReply(socket);
  socket.write(`${line}\r\n`);
  return reply;
}

describe('implicit TLS listener (SMTP_TLS_PORT)', () => {
  it('greets a TLS client after its handshake and takes a message, stored as received over TLS', async () => {
    const socket = await connectTls(portOf(d.daemon.smtp.tls));
    try {
      const greeting = await readReply(socket);
      expect(greeting.code).toBe(220);
      expect(greeting.lines[0]).toMatch(/^mx\.local\.test .*GopherPost ready/);
      const caps = await command(socket, 'EHLO client.test');
      expect(caps.lines).not.toContain('STARTTLS'); // already encrypted
      expect(caps.lines).toContain('AUTH PLAIN LOGIN');
      expect(caps.lines).toContain('LIMITS RCPTMAX=100 MAILMAX=1000');
      expect((await command(socket, 'MAIL FROM:<sender@mx.local.test>')).code).toBe(250);
      expect((await command(socket, 'RCPT TO:<rcpt@example.test>')).code).toBe(250);
      expect((await command(socket, 'DATA')).code).toBe(354);
      const done = await command(socket, 'Subject: implicit\r\n\r\nover TLS\r\n.');
      expect(done.code).toBe(250);
      const id = /queued as ([0-9a-z]{20})/.exec(done.lines[0] ?? '')?.[1] ?? '';
      expect((await bodyBytes(d.daemon.spool, id)).toString()).toMatch(/with ESMTPS id/);
      const stored = events.find((e) => e.type === 'message.stored' && e.id === id);
      expect(stored).toMatchObject({ tls: expect.stringMatching(/^TLSv1\.[23]$/) as unknown });
    } finally {
      socket.destroy();
    }
  });

  it('lets nodemailer (secure: true) authenticate and send', async () => {
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: portOf(d.daemon.smtp.tls),
      secure: true,
      tls: { rejectUnauthorized: false },
      auth: { user: 'alice', pass: 'secret' },
    });
    const info = await transport.sendMail({
      envelope: { from: 'someone@elsewhere.test', to: ['rcpt@example.test'] },
      raw: 'Subject: smtps\r\n\r\nhello\r\n',
    });
    expect(info.response).toMatch(/^250 2\.6\.0 Ok: queued as [0-9a-z]{20}$/);
  });

  it('drops a client that speaks plain SMTP to it, without a session', async () => {
    const sessionsBefore = events.filter((e) => e.type === 'session.start').length;
    const socket = connect(portOf(d.daemon.smtp.tls), '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write('EHLO plain.test\r\n');
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    expect(Buffer.concat(received).toString('latin1')).not.toContain('220 ');
    expect(events.filter((e) => e.type === 'session.start').length).toBe(sessionsBefore);
  });

  it('serves a reloaded certificate (SIGHUP path), as STARTTLS does', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gp-tls-port-'));
    await writeCertificate(dir, 'first.test');
    const daemon = await startTestDaemon({
      SMTP_TLS_PORT: '0',
      SMTP_TLS_CERT: join(dir, 'cert.pem'),
      SMTP_TLS_KEY: join(dir, 'key.pem'),
    });
    const subject = async (): Promise<string> => {
      const socket = await connectTls(portOf(daemon.daemon.smtp.tls));
      const cn = String(socket.getPeerCertificate().subject.CN);
      socket.destroy();
      return cn;
    };
    try {
      expect(await subject()).toBe('first.test');
      await writeCertificate(dir, 'second.test');
      await daemon.daemon.reload();
      expect(await subject()).toBe('second.test');
    } finally {
      await daemon.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a TLS port in use stops the start naming SMTP_TLS_PORT', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      const failure = await startTestDaemon({ SMTP_TLS_PORT: String(port) }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(StartupError);
      expect((failure as StartupError).variables).toEqual(['SMTP_TLS_PORT', 'SMTP_BIND']);
      expect((failure as StartupError).message).toMatch(
        new RegExp(`^SMTP \\(implicit TLS\\) cannot listen on 127.0.0.1:${port}: the address is already in use`),
      );
    } finally {
      taken.close();
    }
  });
});

describe('submission listener (SMTP_SUBMISSION_PORT)', () => {
  it('refuses MAIL before AUTH with 530 5.7.0; the SMTP port does not ask for AUTH', async () => {
    const client = await ehlo(portOf(d.daemon.smtp.submission));
    const refused = await client.command('MAIL FROM:<sender@mx.local.test>');
    expect([refused.code, refused.text]).toEqual([530, '5.7.0 Authentication required']);
    expect((await client.command('RCPT TO:<rcpt@example.test>')).code).toBe(530);
    client.close();
    const open = await ehlo(d.port);
    expect((await open.command('MAIL FROM:<sender@mx.local.test>')).code).toBe(250);
    open.close();
  });

  it('accepts MAIL after STARTTLS and AUTH', async () => {
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: portOf(d.daemon.smtp.submission),
      secure: false,
      requireTLS: true,
      tls: { rejectUnauthorized: false },
      auth: { user: 'alice', pass: 'secret' },
    });
    const info = await transport.sendMail({
      envelope: { from: 'alice@elsewhere.test', to: ['rcpt@example.test'] },
      raw: 'Subject: submission\r\n\r\nhello\r\n',
    });
    expect(info.response).toMatch(/^250 2\.6\.0 Ok: queued as [0-9a-z]{20}$/);
    const record = await d.daemon.spool.get(info.response.slice(-20));
    expect(record?.envelope).toMatchObject({ sender: 'alice@elsewhere.test', user: 'alice' });
  });

  it('refuses wrong credentials with 535 5.7.8 and still wants AUTH', async () => {
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: portOf(d.daemon.smtp.submission),
      requireTLS: true,
      tls: { rejectUnauthorized: false },
      auth: { user: 'alice', pass: 'wrong' },
    });
    await expect(transport.verify()).rejects.toMatchObject({ responseCode: 535 });
  });
});
