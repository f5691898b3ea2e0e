/**
 * End to end: SMTP in → spool → delivery by MX to a local sink, DKIM-signed
 * by the daemon (and verified by mailauth against the test DNS server);
 * SMTP_VERIFY_INBOUND adds Authentication-Results before storage.
 *
 * Needs the composition root's wiring (src/daemon.ts: `signer` in the
 * scheduler deps; src/inbound/server.ts: the `authenticateInbound` stage).
 */
import { describe, expect, it } from 'vitest';
import { startTestDaemon } from '../helpers/daemon.js';
import { startDnsServer } from '../helpers/dns-server.js';
import type { DnsZone } from '../helpers/dns-server.js';
import { sendRaw } from '../helpers/smtp-client.js';
import { startSink } from '../helpers/sink.js';
import { publish, testKey, verify } from './helpers.js';
import type { TestKey } from './helpers.js';
import { bodyBytes } from '../helpers/spool.js';

function zone(): DnsZone {
  return {
    'example.test': { MX: [{ exchange: 'mx.example.test', priority: 10 }] },
    'mx.example.test': { A: ['127.0.0.1'] },
    'mx.local.test': { A: ['127.0.0.1'] },
  };
}

function daemonEnv(key: TestKey, dnsPort: number, sinkPort: number, domain?: string): Record<string, string> {
  return {
    SMTP_DELIVERY_MODE: 'mx',
    SMTP_DNS_SERVERS: `127.0.0.1:${dnsPort}`,
    SMTP_OUTBOUND_PORT: String(sinkPort),
    SMTP_DKIM_SELECTOR: key.selector,
    SMTP_DKIM_PRIVATE_KEY: key.privateKeyPem,
    ...(domain ? { SMTP_DKIM_DOMAIN: domain } : {}),
  };
}

const MESSAGE =
  'From: Alice <alice@mx.local.test>\r\nTo: <bob@example.test>\r\nSubject: signed\r\nDate: Tue, 24 Nov 2026 21:41:59 +0000\r\n\r\nHello\r\n..dotted\r\n';

describe('DKIM through the daemon (§5)', () => {
  it.each([
    ['RSA, d= the sender domain', testKey('rsa', 'rsa1', 'mx.local.test'), undefined],
    ['Ed25519, d= SMTP_DKIM_DOMAIN', testKey('ed25519', 'ed1', 'signing.test'), 'signing.test'],
  ])('%s: the delivered message verifies; the stored copy stays as received', async (_name, key, domain) => {
    const dns = await startDnsServer(publish(zone(), key));
    const sink = await startSink();
    const d = await startTestDaemon(daemonEnv(key, dns.port, sink.port, domain));
    try {
      const id = await sendRaw(d.port, 'alice@mx.local.test', ['bob@example.test'], MESSAGE);
      const [delivered] = await sink.waitForMessages(1);
      const raw = delivered?.raw ?? Buffer.alloc(0);
      const text = raw.toString('latin1').replace(/\r\n[ \t]+/g, ' ');
      expect(text).toMatch(
        new RegExp(
          `^DKIM-Signature: v=1; a=${key.type}-sha256; c=relaxed/relaxed; d=${key.domain}; .*s=${key.selector};`,
        ),
      );
      const result = await verify(raw, dns);
      expect(result.results.map((r) => [r.signingDomain, r.status.result])).toEqual([[key.domain, 'pass']]);
      const stored = await bodyBytes(d.daemon.spool, id);
      expect(stored.toString()).not.toContain('DKIM-Signature');
      expect(raw.subarray(raw.length - stored.length).equals(stored)).toBe(true);
    } finally {
      await d.stop();
      await sink.close();
      await dns.close();
    }
  });

  it('signs the CRLF form it sends when a message was kept with a lone CR and LF (SMTP_BARE_NEWLINE=keep)', async () => {
    const key = testKey('rsa', 'rsa2', 'mx.local.test');
    const dns = await startDnsServer(publish(zone(), key));
    const sink = await startSink();
    const d = await startTestDaemon({ ...daemonEnv(key, dns.port, sink.port), SMTP_BARE_NEWLINE: 'keep' });
    try {
      const id = await sendRaw(d.port, 'alice@mx.local.test', ['bob@example.test'], `${MESSAGE}lone\rcr\nlf\r\n`);
      const [delivered] = await sink.waitForMessages(1);
      const raw = delivered?.raw ?? Buffer.alloc(0);
      const stored = await bodyBytes(d.daemon.spool, id);
      expect(stored.toString('latin1')).toContain('lone\rcr\nlf\r\n');
      expect(raw.toString('latin1')).toContain('lone\r\ncr\r\nlf\r\n');
      expect(raw.toString('latin1')).not.toMatch(/\r(?!\n)|(?<!\r)\n/);
      const result = await verify(raw, dns);
      expect(result.results.map((r) => [r.signingDomain, r.status.result])).toEqual([[key.domain, 'pass']]);
    } finally {
      await d.stop();
      await sink.close();
      await dns.close();
    }
  });

  it('signs bounces (null sender) for SMTP_HOSTNAME', async () => {
    const key = testKey('ed25519', 'b1', 'mx.local.test');
    const dns = await startDnsServer(publish(zone(), key));
    const sink = await startSink({
      rcpt: (address) => (address.startsWith('nobody') ? { code: 550, message: '5.1.1 No such user' } : undefined),
    });
    const d = await startTestDaemon(daemonEnv(key, dns.port, sink.port));
    try {
      await sendRaw(d.port, 'alice@mx.local.test', ['nobody@example.test'], MESSAGE);
      await sink.waitForMessages(1, 15_000);
      const bounce = sink.messages.find((m) => m.from === '');
      expect(bounce).toBeDefined();
      const result = await verify(bounce?.raw ?? Buffer.alloc(0), dns);
      expect(result.results.map((r) => [r.signingDomain, r.status.result])).toEqual([['mx.local.test', 'pass']]);
    } finally {
      await d.stop();
      await sink.close();
      await dns.close();
    }
  });
});

describe('inbound verification through the daemon (§5)', () => {
  it('SMTP_VERIFY_INBOUND=true stores Authentication-Results under our Received', async () => {
    const dns = await startDnsServer({
      'pass.test': { TXT: ['v=spf1 ip4:127.0.0.1 -all'] },
      '_dmarc.pass.test': { TXT: ['v=DMARC1; p=none'] },
    });
    const d = await startTestDaemon({
      SMTP_VERIFY_INBOUND: 'true',
      SMTP_DNS_SERVERS: `127.0.0.1:${dns.port}`,
      SMTP_REQUIRE_LOCAL_DOMAIN: 'false',
    });
    try {
      const id = await sendRaw(
        d.port,
        'alice@pass.test',
        ['bob@mx.local.test'],
        'From: <alice@pass.test>\r\nSubject: in\r\n\r\nbody\r\n',
        'client.pass.test',
      );
      const stored = (await bodyBytes(d.daemon.spool, id)).toString().replace(/\r\n[ \t]+/g, ' ');
      const names = stored.split('\r\n').map((line) => line.slice(0, line.indexOf(':')));
      expect(names.indexOf('Authentication-Results')).toBeGreaterThan(names.indexOf('Received'));
      expect(stored).toMatch(/^Authentication-Results: mx\.local\.test; dkim=none .*spf=pass .*dmarc=pass/m);
      expect(stored).toContain('\r\n\r\nbody\r\n');
    } finally {
      await d.stop();
      await dns.close();
    }
  });
});
