import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { startChildDaemon } from '../helpers/child-daemon.js';
import { startTestDaemon } from '../helpers/daemon.js';
import { startDnsServer } from '../helpers/dns-server.js';
import { sendRaw } from '../helpers/smtp-client.js';
import { reservePort, startSink } from '../helpers/sink.js';
import { bodyBytes } from '../helpers/spool.js';

/** DNS for the test domains: example.test and the daemon's own domain both point at 127.0.0.1. */
function zone() {
  return {
    'example.test': { MX: [{ exchange: 'mx.example.test', priority: 10 }] },
    'mx.example.test': { A: ['127.0.0.1'] },
    'mx.local.test': { A: ['127.0.0.1'] },
  };
}

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('delivery through the daemon (§4)', () => {
  it('delivers by MX to the sink byte for byte, dot-stuffed lines included, with the right envelope', async () => {
    const dns = await startDnsServer(zone());
    const sink = await startSink();
    const d = await startTestDaemon({
      SMTP_DELIVERY_MODE: 'mx',
      SMTP_DNS_SERVERS: `127.0.0.1:${dns.port}`,
      SMTP_OUTBOUND_PORT: String(sink.port),
      SMTP_OUTBOUND_TLS_VERIFY: 'false',
    });
    try {
      const id = await sendRaw(
        d.port,
        'Alice@mx.local.test',
        ['Bob@example.test'],
        'Subject: hi\r\n\r\n..dot first\r\n..\r\nline\r\n',
      );
      const [message] = await sink.waitForMessages(1);
      expect(message?.from).toBe('Alice@mx.local.test');
      expect(message?.to).toEqual(['Bob@example.test']);
      const chunks: Buffer[] = [];
      chunks.push(await bodyBytes(d.daemon.spool, id));
      expect(message?.raw.equals(Buffer.concat(chunks))).toBe(true);
      expect(message?.raw.toString()).toContain('\r\n.dot first\r\n.\r\nline\r\n');
      const record = await waitFor(async () => {
        const r = await d.daemon.spool.get(id);
        return r?.recipients[0]?.status === 'delivered' ? r : undefined;
      });
      expect(record.recipients[0]?.lastResponse).toMatch(/^250/);
    } finally {
      await d.stop();
      await sink.close();
      await dns.close();
    }
  });

  it('retries a sink that is down at first and delivers once it is up', async () => {
    const dns = await startDnsServer(zone());
    const port = await reservePort();
    const d = await startTestDaemon({
      SMTP_DELIVERY_MODE: 'mx',
      SMTP_DNS_SERVERS: `127.0.0.1:${dns.port}`,
      SMTP_OUTBOUND_PORT: String(port),
      SMTP_RETRY_BASE_SECONDS: '1',
    });
    try {
      const id = await sendRaw(d.port, 'a@mx.local.test', ['b@example.test'], 'Subject: later\r\n\r\nbody\r\n');
      await waitFor(async () =>
        (await d.daemon.spool.get(id))?.recipients[0]?.status === 'deferred' ? true : undefined,
      );
      const sink = await startSink({ port });
      try {
        const [message] = await sink.waitForMessages(1, 15_000);
        expect(message?.to).toEqual(['b@example.test']);
      } finally {
        await sink.close();
      }
    } finally {
      await d.stop();
      await dns.close();
    }
  });

  it('bounces a 550 to the sender from the null sender, as an RFC 3464 report', async () => {
    const dns = await startDnsServer(zone());
    const sink = await startSink({
      rcpt: (address) => (address.startsWith('nobody') ? { code: 550, message: '5.1.1 No such user' } : undefined),
    });
    const d = await startTestDaemon({
      SMTP_DELIVERY_MODE: 'mx',
      SMTP_DNS_SERVERS: `127.0.0.1:${dns.port}`,
      SMTP_OUTBOUND_PORT: String(sink.port),
    });
    try {
      await sendRaw(d.port, 'alice@mx.local.test', ['nobody@example.test'], 'Subject: to nobody\r\n\r\nbody\r\n');
      const bounce = await waitFor(async () => sink.messages.find((m) => m.from === ''));
      expect(bounce.to).toEqual(['alice@mx.local.test']);
      const parsed = await simpleParser(bounce.raw);
      expect(parsed.headers.get('content-type')).toMatchObject({
        value: 'multipart/report',
        params: { 'report-type': 'delivery-status' },
      });
      expect(bounce.raw.toString()).toMatch(/Final-Recipient: rfc822; ?nobody@example\.test/i);
      expect(bounce.raw.toString()).toMatch(/Status: 5\.1\.1/);
      expect(bounce.raw.toString()).toContain('Subject: to nobody');
    } finally {
      await d.stop();
      await sink.close();
      await dns.close();
    }
  });

  it('after SIGKILL mid-delivery and a restart, every acknowledged recipient arrives', async () => {
    const dns = await startDnsServer(zone());
    // the first 10 transactions are answered; the rest are held until the restart, so the kill lands mid-delivery
    let release = (): void => undefined;
    const heldReplies = new Promise<void>((resolve) => (release = resolve));
    const sink = await startSink({ beforeDataReply: (n) => (n > 10 ? heldReplies : Promise.resolve()) });
    const spool = await mkdtemp(join(tmpdir(), 'gp-kill-'));
    const env = {
      SMTP_QUEUE_PATH: spool,
      SMTP_DNS_SERVERS: `127.0.0.1:${dns.port}`,
      SMTP_OUTBOUND_PORT: String(sink.port),
      SMTP_QUEUE_WORKERS: '4',
      LOG_LEVEL: 'info',
    };
    try {
      const held = await startChildDaemon({ ...env, SMTP_DELIVERY_MODE: 'hold' });
      const expected = new Set<string>();
      for (let i = 0; i < 60; i++) {
        await sendRaw(held.port, 'a@mx.local.test', [`r${i}@example.test`], `Subject: ${i}\r\n\r\nbody ${i}\r\n`);
        expected.add(`r${i}@example.test`);
      }
      held.child.kill('SIGTERM');
      expect(await held.exited).toBe(0);

      const first = await startChildDaemon({ ...env, SMTP_DELIVERY_MODE: 'mx' });
      await waitFor(async () => (sink.messages.length >= 10 ? true : undefined));
      first.child.kill('SIGKILL');
      await first.exited;
      expect(sink.messages.length).toBe(10);
      release();

      const second = await startChildDaemon({ ...env, SMTP_DELIVERY_MODE: 'mx' });
      try {
        await waitFor(async () => {
          const got = new Set(sink.messages.flatMap((m) => m.to));
          return [...expected].every((r) => got.has(r)) ? true : undefined;
        }, 30_000);
        const deliveries = sink.messages.flatMap((m) => m.to);
        // duplicates only for what was in flight at the kill (at most the worker count)
        expect(deliveries.length - expected.size).toBeLessThanOrEqual(4);
      } finally {
        second.child.kill('SIGTERM');
        await second.exited;
      }
    } finally {
      await sink.close();
      await dns.close();
      await rm(spool, { recursive: true, force: true });
    }
  }, 60_000);
});
