import { describe, expect, it } from 'vitest';
import type { HoldResult } from '../../src/http/api-types.js';
import { startTestDaemon } from '../helpers/daemon.js';
import { eventually } from '../helpers/eventually.js';
import { startDnsServer } from '../helpers/dns-server.js';
import { startSink } from '../helpers/sink.js';
import { ehlo } from '../helpers/smtp-client.js';

describe('a held destination (§6)', () => {
  it('keeps its mail in the queue while the same message goes to other domains; a release sends it', async () => {
    const dns = await startDnsServer({
      'held.test': { MX: [{ exchange: 'mx.example.test', priority: 10 }] },
      'free.test': { MX: [{ exchange: 'mx.example.test', priority: 10 }] },
      'mx.example.test': { A: ['127.0.0.1'] },
    });
    const sink = await startSink();
    const d = await startTestDaemon({
      SMTP_DELIVERY_MODE: 'mx',
      SMTP_DNS_SERVERS: `127.0.0.1:${dns.port}`,
      SMTP_OUTBOUND_PORT: String(sink.port),
      SMTP_OUTBOUND_TLS_VERIFY: 'false',
      SMTP_HEALTH_DISABLE: 'false',
      SMTP_HEALTH_ADDR: '127.0.0.1:0',
    });
    try {
      const api = `http://127.0.0.1:${d.daemon.http?.port}/api/destinations/held.test/hold`;
      const held = (await (await fetch(api, { method: 'PUT' })).json()) as HoldResult;
      expect(held).toEqual({ domain: 'held.test', held: true, changed: true });

      const client = await ehlo(d.port);
      await client.command('MAIL FROM:<a@mx.local.test>');
      await client.command('RCPT TO:<b@held.test>');
      await client.command('RCPT TO:<c@free.test>');
      await client.command('DATA');
      const reply = await client.command('Subject: hold\r\n\r\nbody\r\n.');
      client.close();
      const id = /queued as ([0-9a-z]{20})/.exec(reply.text)?.[1] ?? '';

      // both recipients were claimed together: free.test's delivery means held.test's job was looked at
      const [first] = await sink.waitForMessages(1);
      expect(first?.to).toEqual(['c@free.test']);
      const delivered = async () => (await d.daemon.spool.get(id))?.recipients[1]?.status === 'delivered';
      await eventually(delivered, 5_000, () => 'c@free.test recorded as delivered');
      const record = await d.daemon.spool.get(id);
      expect(record?.recipients.map((r) => [r.recipient, r.status, r.attempts])).toEqual([
        ['b@held.test', 'queued', 0],
        ['c@free.test', 'delivered', 1],
      ]);

      const released = (await (await fetch(api, { method: 'DELETE' })).json()) as HoldResult;
      expect(released).toEqual({ domain: 'held.test', held: false, changed: true });
      const [, second] = await sink.waitForMessages(2);
      expect(second?.to).toEqual(['b@held.test']);
      expect(sink.messages).toHaveLength(2);
    } finally {
      await d.stop();
      await sink.close();
      await dns.close();
    }
  });
});
