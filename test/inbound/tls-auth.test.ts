import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { connect as tlsConnect } from 'node:tls';
import bcrypt from 'bcryptjs';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashScrypt } from '../../src/config/passwords.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { ehlo, starttlsCommonName, writeCertificate } from '../helpers/smtp-client.js';
import { bodyBytes } from '../helpers/spool.js';

const hasPython = spawnSync('python3', ['--version']).status === 0;
const pythonReason = hasPython ? '' : ' (skipped: python3 is not installed)';

let d: TestDaemon;

beforeAll(async () => {
  const users = [
    'alice:plain-secret',
    `bob:${bcrypt.hashSync('bcrypt-secret', 8)}`,
    `carol:${await hashScrypt('scrypt-secret')}`,
  ];
  d = await startTestDaemon({ SMTP_AUTH_USERS: users.join(','), SMTP_REQUIRE_LOCAL_DOMAIN: 'true' });
});
afterAll(async () => {
  await d.stop();
});

function transport(user: string, pass: string, method: 'PLAIN' | 'LOGIN' = 'PLAIN') {
  return nodemailer.createTransport({
    host: '127.0.0.1',
    port: d.port,
    secure: false,
    requireTLS: true,
    tls: { rejectUnauthorized: false },
    auth: { user, pass },
    authMethod: method,
  });
}

describe('STARTTLS and AUTH (§3)', () => {
  it.each([
    ['alice', 'plain-secret', 'PLAIN'],
    ['bob', 'bcrypt-secret', 'LOGIN'],
    ['carol', 'scrypt-secret', 'PLAIN'],
  ] as const)(
    '%s authenticates with a %s-stored password over STARTTLS (%s) and may send as any domain',
    async (user, pass, method) => {
      const info = await transport(user, pass, method).sendMail({
        envelope: { from: 'Someone@Elsewhere.test', to: ['rcpt@example.test'] },
        raw: 'Subject: authenticated\r\n\r\nhello\r\n',
      });
      expect(info.response).toMatch(/^250 2\.6\.0 Ok: queued as [0-9a-z]{20}$/);
      const id = info.response.slice(-20);
      const record = await d.daemon.spool.get(id);
      // nodemailer lower-cases the domain it sends; the local part's case is kept end to end
      expect(record?.envelope).toMatchObject({
        sender: 'Someone@elsewhere.test',
        recipients: ['rcpt@example.test'],
        user,
      });
      const chunks: Buffer[] = [];
      chunks.push(await bodyBytes(d.daemon.spool, id));
      expect(Buffer.concat(chunks).toString()).toMatch(/with ESMTPSA id/);
    },
  );

  it('refuses a wrong password with 535 5.7.8', async () => {
    await expect(transport('alice', 'wrong').verify()).rejects.toMatchObject({
      responseCode: 535,
      response: expect.stringMatching(/^535 5\.7\.8 /) as unknown,
    });
  });

  it('does not offer or accept AUTH before STARTTLS', async () => {
    const client = await ehlo(d.port);
    const caps = await client.command('EHLO again.test');
    expect(caps.lines.some((l) => l.startsWith('AUTH'))).toBe(false);
    const auth = await client.command(`AUTH PLAIN ${Buffer.from('\0alice\0plain-secret').toString('base64')}`);
    expect(auth.code).toBe(538);
    client.close();
  });

  it('offers AUTH PLAIN LOGIN after STARTTLS', async () => {
    const client = await ehlo(d.port);
    expect((await client.command('STARTTLS')).code).toBe(220);
    const secure = tlsConnect({ socket: client.socket, rejectUnauthorized: false });
    await new Promise<void>((resolve) => secure.once('secureConnect', () => resolve()));
    const lines: string[] = [];
    await new Promise<void>((resolve) => {
      secure.on('data', (data: Buffer) => {
        lines.push(...data.toString().split('\r\n'));
        if (lines.some((l) => /^250 /.test(l))) resolve();
      });
      secure.write('EHLO tls.test\r\n');
    });
    expect(lines).toContain('250-AUTH PLAIN LOGIN');
    secure.destroy();
  });

  it.skipIf(!hasPython)(`lets Python smtplib STARTTLS and AUTH${pythonReason}`, async () => {
    const script = [
      'import smtplib, ssl, sys',
      'ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE',
      `s = smtplib.SMTP("127.0.0.1", ${d.port}); s.starttls(context=ctx); s.login("alice", "plain-secret")`,
      'print(s.sendmail("a@elsewhere.test", ["b@example.test"], "Subject: py\\r\\n\\r\\nhi\\r\\n")); s.quit()',
    ].join('\n');
    const run = await promisify(execFile)('python3', ['-c', script]);
    expect(run.stdout.trim()).toBe('{}');
  });
});

describe('throttling failed AUTH (§3)', () => {
  it('slows down and then refuses repeated failures from one IP', async () => {
    const throttled = await startTestDaemon({ SMTP_AUTH_USERS: 'alice:right', SMTP_AUTH_INSECURE: 'true' });
    try {
      const client = await ehlo(throttled.port);
      const codes: number[] = [];
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const started = Date.now();
        codes.push(
          (await client.command(`AUTH PLAIN ${Buffer.from('\0alice\0wrong').toString('base64')}`, 10_000)).code,
        );
        times.push(Date.now() - started);
      }
      expect(codes).toEqual([535, 535, 535, 535, 535]);
      expect(times[4]).toBeGreaterThan(900); // the fourth failure on waits before answering
      client.close();
    } finally {
      await throttled.stop();
    }
  }, 30_000);
});

describe('certificate reload', () => {
  it('serves a new certificate after reload (SIGHUP path) without a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gp-tls-'));
    const make = (cn: string): Promise<void> => writeCertificate(dir, cn);
    await make('first.test');
    const daemon = await startTestDaemon({ SMTP_TLS_CERT: join(dir, 'cert.pem'), SMTP_TLS_KEY: join(dir, 'key.pem') });
    const subjectOf = (): Promise<string> => starttlsCommonName(daemon.port);
    try {
      expect(await subjectOf()).toBe('first.test');
      await make('second.test');
      await daemon.daemon.reload();
      expect(await subjectOf()).toBe('second.test');
    } finally {
      await daemon.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
