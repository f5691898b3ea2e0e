import { writeFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startDnsServer } from '../helpers/dns-server.js';
import { startTestDaemon } from '../helpers/daemon.js';
import { eventually } from '../helpers/eventually.js';
import { ehlo, RawSmtp } from '../helpers/smtp-client.js';
import { allMessages } from '../helpers/spool.js';

describe('access control before the banner (§3)', () => {
  it('sends 554 5.7.1 and closes for a client outside SMTP_ALLOW_NETWORKS, saying nothing else', async () => {
    const d = await startTestDaemon({ SMTP_ALLOW_NETWORKS: '10.0.0.0/8,2001:db8::/32' });
    try {
      const client = await RawSmtp.open(d.port);
      const first = await client.read();
      expect(first).toMatchObject({ code: 554 });
      expect(first?.text).toMatch(/^5\.7\.1 /);
      await client.waitClosed();
      expect(await client.read()).toBeUndefined();
    } finally {
      await d.stop();
    }
  });

  it('lets in a client whose network is listed (IPv4 CIDR)', async () => {
    const d = await startTestDaemon({ SMTP_ALLOW_NETWORKS: '10.0.0.0/8,127.0.0.0/30' });
    try {
      const client = await ehlo(d.port);
      client.close();
    } finally {
      await d.stop();
    }
  });

  it('accepts loopback only when both lists are unset', async () => {
    const d = await startTestDaemon();
    try {
      const client = await RawSmtp.open(d.port);
      expect((await client.read())?.code).toBe(220);
      client.close();
    } finally {
      await d.stop();
    }
  });

  it('admits a hostname by forward-confirmed reverse DNS and refuses an unconfirmed one', async () => {
    const dns = await startDnsServer({
      '1.0.0.127.in-addr.arpa': { PTR: ['client.allowed.test'] },
      'client.allowed.test': { A: ['127.0.0.1'] },
    });
    const allowed = await startTestDaemon({
      SMTP_ALLOW_HOSTS: 'client.allowed.test',
      SMTP_DNS_SERVERS: `127.0.0.1:${dns.port}`,
    });
    try {
      const ok = await RawSmtp.open(allowed.port);
      expect((await ok.read())?.code).toBe(220);
      ok.close();
      // the PTR name no longer resolves back to the client: not confirmed, refused
      dns.zone['client.allowed.test'] = { A: ['192.0.2.1'] };
      const refused = await RawSmtp.open(allowed.port);
      expect((await refused.read())?.code).toBe(554);
      refused.close();
    } finally {
      await allowed.stop();
      await dns.close();
    }
  });
});

describe('connection limits (§3)', () => {
  it('answers 421 beyond SMTP_MAX_CONNECTIONS_PER_IP and admits again once one closes', async () => {
    const d = await startTestDaemon({ SMTP_MAX_CONNECTIONS_PER_IP: '2' });
    const started: string[] = [];
    const closed: string[] = [];
    const tap = d.daemon.audit.raw$.subscribe((e) => {
      if (e.type === 'session.start') started.push(e.session);
      if (e.type === 'session.close') closed.push(e.session);
    });
    try {
      const a = await ehlo(d.port);
      const b = await ehlo(d.port);
      const c = await RawSmtp.open(d.port);
      const reply = await c.read();
      expect(reply?.code).toBe(421);
      expect(reply?.text).toMatch(/^4\.7\.0 /);
      await c.waitClosed();
      a.close();
      // the daemon has counted a's session out (session.close is published once it left the table)
      await eventually(
        () => closed.includes(started[0] ?? ''),
        3_000,
        () => `the close of session ${started[0]}`,
      );
      const again = await ehlo(d.port);
      again.close();
      b.close();
    } finally {
      tap.unsubscribe();
      await d.stop();
    }
  });

  it('frees a session slot at QUIT, so a client reconnecting at once is admitted', async () => {
    const d = await startTestDaemon({ SMTP_MAX_CONNECTIONS_PER_IP: '1' });
    try {
      for (let i = 0; i < 20; i++) {
        const client = await ehlo(d.port);
        expect((await client.command('QUIT')).code).toBe(221);
        client.close();
      }
    } finally {
      await d.stop();
    }
  });

  it('answers 421 beyond SMTP_MAX_CONNECTIONS', async () => {
    const d = await startTestDaemon({ SMTP_MAX_CONNECTIONS: '1' });
    try {
      const a = await ehlo(d.port);
      const b = await RawSmtp.open(d.port);
      expect((await b.read())?.code).toBe(421);
      a.close();
      b.close();
    } finally {
      await d.stop();
    }
  });

  it('closes a silent client after SMTP_COMMAND_TIMEOUT with 421', async () => {
    const d = await startTestDaemon({ SMTP_COMMAND_TIMEOUT: '1' });
    try {
      const client = await ehlo(d.port);
      const started = Date.now();
      const reply = await client.read(5000);
      expect(reply?.code).toBe(421);
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      await client.waitClosed();
    } finally {
      await d.stop();
    }
  });
});

describe('storage failure (§3)', () => {
  it('answers 451 4.3.0 when the spool cannot store the message, and leaves nothing', async () => {
    const d = await startTestDaemon();
    try {
      // a plain file where today's (and tomorrow's) date folder must go
      const day = (offset: number): string => new Date(Date.now() + offset).toISOString().slice(0, 10);
      for (const name of new Set([day(0), day(60_000)])) await writeFile(join(d.spoolDir, name), 'in the way');
      const client = await ehlo(d.port);
      await client.command('MAIL FROM:<a@mx.local.test>');
      await client.command('RCPT TO:<b@example.test>');
      await client.command('DATA');
      const reply = await client.command('Subject: x\r\n\r\nhi\r\n.');
      expect(reply.code).toBe(451);
      expect(reply.text).toMatch(/^4\.3\.0 /);
      expect(reply.text).not.toMatch(/ENOTDIR|at .*\.js/);
      expect(await allMessages(d.daemon.spool)).toEqual([]);
      expect(await readdir(join(d.spoolDir, 'tmp'))).toEqual([]);
      // the session goes on
      expect((await client.command('NOOP')).code).toBe(250);
      client.close();
    } finally {
      await d.stop();
    }
  });
});
