import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openFileSpool } from '../../src/spool/file-spool.js';
import { startChildDaemon } from '../helpers/child-daemon.js';
import { startDnsServer } from '../helpers/dns-server.js';
import { eventually } from '../helpers/eventually.js';
import { startSink } from '../helpers/sink.js';
import { ehlo, RawSmtp, starttlsCommonName, writeCertificate } from '../helpers/smtp-client.js';
import { allMessages } from '../helpers/spool.js';

async function withSpool<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'gp-signals-'));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('signals (§7)', () => {
  it('an idle daemon exits 0 within 2 s of SIGTERM', async () => {
    await withSpool(async (dir) => {
      const d = await startChildDaemon({
        SMTP_QUEUE_PATH: dir,
        SMTP_DELIVERY_MODE: 'hold',
        SMTP_HEALTH_DISABLE: 'false',
        SMTP_HEALTH_ADDR: '127.0.0.1:0',
      });
      const started = Date.now();
      d.child.kill('SIGTERM');
      expect(await d.exited).toBe(0);
      expect(Date.now() - started).toBeLessThan(2000);
    });
  });

  it('SIGTERM during an open session lets it finish its message, refuses new sessions, exits 0', async () => {
    await withSpool(async (dir) => {
      const d = await startChildDaemon({
        SMTP_QUEUE_PATH: dir,
        SMTP_DELIVERY_MODE: 'hold',
        SMTP_REQUIRE_LOCAL_DOMAIN: 'false',
      });
      const client = await ehlo(d.port);
      await client.command('MAIL FROM:<a@sender.test>');
      d.child.kill('SIGTERM');
      // the daemon logs "stopping" in the same turn as it closes the listener
      await eventually(
        () => d.output().includes('"msg":"stopping"'),
        5_000,
        () => `"stopping" in:\n${d.output()}`,
      );
      await expect(RawSmtp.open(d.port)).rejects.toThrow(/ECONNREFUSED/);
      await client.command('RCPT TO:<b@example.test>');
      await client.command('DATA');
      const reply = await client.command('Subject: last\r\n\r\nbody\r\n.');
      expect(reply.code).toBe(250);
      expect((await client.command('QUIT')).code).toBe(221);
      expect(await d.exited).toBe(0);
      const spool = await openFileSpool({ path: dir });
      expect((await allMessages(spool)).map((r) => r.envelope.recipients)).toEqual([['b@example.test']]);
      await spool.close();
    });
  });

  it('SIGTERM during a delivery that cannot finish returns it to the queue; it is delivered after restart', async () => {
    await withSpool(async (dir) => {
      const dns = await startDnsServer({ 'example.test': { A: ['127.0.0.1'] } });
      const hanging = await startSink({ hang: true });
      const env = {
        SMTP_QUEUE_PATH: dir,
        SMTP_DNS_SERVERS: `127.0.0.1:${dns.port}`,
        SMTP_REQUIRE_LOCAL_DOMAIN: 'false',
      };
      try {
        const d = await startChildDaemon({
          ...env,
          SMTP_DELIVERY_MODE: 'mx',
          SMTP_OUTBOUND_PORT: String(hanging.port),
        });
        const client = await ehlo(d.port);
        await client.command('MAIL FROM:<a@sender.test>');
        await client.command('RCPT TO:<b@example.test>');
        await client.command('DATA');
        expect((await client.command('Subject: stuck\r\n\r\nbody\r\n.')).code).toBe(250);
        client.close();
        // the attempt is now waiting on the hanging host
        await eventually(
          () => hanging.connections() > 0,
          10_000,
          () => 'a delivery attempt to the hanging host',
        );
        d.child.kill('SIGTERM');
        expect(await d.exited).toBe(0);

        const spool = await openFileSpool({ path: dir });
        const [record] = await allMessages(spool);
        expect(record?.recipients[0]?.status).toMatch(/queued|deferred/);
        await spool.close();

        const sink = await startSink();
        const again = await startChildDaemon({
          ...env,
          SMTP_DELIVERY_MODE: 'mx',
          SMTP_OUTBOUND_PORT: String(sink.port),
          SMTP_RETRY_BASE_SECONDS: '1',
        });
        try {
          const [message] = await sink.waitForMessages(1, 20_000);
          expect(message?.to).toEqual(['b@example.test']);
        } finally {
          again.child.kill('SIGTERM');
          await again.exited;
          await sink.close();
        }
      } finally {
        await hanging.close();
        await dns.close();
      }
    });
  }, 60_000);

  it('SIGHUP reloads the certificate: the next STARTTLS gets the new one, open sessions stay', async () => {
    await withSpool(async (dir) => {
      const make = (cn: string): Promise<void> => writeCertificate(dir, cn);
      await make('before.test');
      const d = await startChildDaemon({
        SMTP_QUEUE_PATH: join(dir, 'spool'),
        SMTP_DELIVERY_MODE: 'hold',
        SMTP_TLS_CERT: join(dir, 'cert.pem'),
        SMTP_TLS_KEY: join(dir, 'key.pem'),
      });
      const subject = (): Promise<string> => starttlsCommonName(d.port);
      try {
        expect(await subject()).toBe('before.test');
        const open = await ehlo(d.port);
        await make('after.test');
        d.child.kill('SIGHUP');
        await eventually(
          () => d.output().includes('"msg":"reloaded TLS certificates"'),
          5_000,
          () => `"reloaded TLS certificates" in:\n${d.output()}`,
        );
        expect(await subject()).toBe('after.test');
        expect((await open.command('NOOP')).code).toBe(250); // not dropped
        open.close();
      } finally {
        d.child.kill('SIGTERM');
        expect(await d.exited).toBe(0);
      }
    });
  });
});
