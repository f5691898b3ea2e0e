/**
 * SMTP_DOMAIN_CONCURRENCY end to end: the real daemon delivers a backlog for one domain and a few messages for
 * another to one sink that counts the transactions open at once per recipient domain. The sink holds every
 * end-of-DATA answer until every transaction the daemon opened has reached it, so each round shows the scheduler's
 * whole concurrency at once.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTestDaemon } from '../helpers/daemon.js';
import { startDnsServer } from '../helpers/dns-server.js';
import { eventually } from '../helpers/eventually.js';
import { sendRaw } from '../helpers/smtp-client.js';
import { startSink } from '../helpers/sink.js';

const CAP = 2;
const BUSY = 12;
const QUIET = 3;

/** Two domains with different MX hosts (so two destinations), both at 127.0.0.1. */
function zone() {
  return {
    'busy.test': { MX: [{ exchange: 'mx.busy.test', priority: 10 }] },
    'mx.busy.test': { A: ['127.0.0.1'] },
    'quiet.test': { MX: [{ exchange: 'mx.quiet.test', priority: 10 }] },
    'mx.quiet.test': { A: ['127.0.0.1'] },
  };
}

describe('per-destination concurrency through the real scheduler (§4)', () => {
  it(`never opens more than SMTP_DOMAIN_CONCURRENCY=${CAP} sessions to one domain, and the other is not starved`, async () => {
    const dns = await startDnsServer(zone());
    const parked: (() => void)[] = [];
    const sink = await startSink({ beforeDataReply: () => new Promise<void>((resolve) => parked.push(resolve)) });
    const spool = await mkdtemp(join(tmpdir(), 'gp-cap-'));
    const env = {
      SMTP_QUEUE_PATH: spool,
      SMTP_DNS_SERVERS: `127.0.0.1:${dns.port}`,
      SMTP_OUTBOUND_PORT: String(sink.port),
      SMTP_DOMAIN_CONCURRENCY: String(CAP),
      SMTP_QUEUE_WORKERS: '20',
    };
    try {
      // the whole backlog is queued before delivery starts, so the scheduler could open every session at once
      const held = await startTestDaemon({ ...env, SMTP_DELIVERY_MODE: 'hold' });
      for (let i = 0; i < BUSY; i++)
        await sendRaw(held.port, 'a@mx.local.test', [`r${i}@busy.test`], `Subject: ${i}\r\n\r\nb\r\n`);
      for (let i = 0; i < QUIET; i++)
        await sendRaw(held.port, 'a@mx.local.test', [`q${i}@quiet.test`], `Subject: ${i}\r\n\r\nq\r\n`);
      await held.stop();

      const d = await startTestDaemon({ ...env, SMTP_DELIVERY_MODE: 'mx' });
      const delivered = (domain: string): number =>
        sink.messages.filter((m) => m.to.some((to) => to.endsWith(`@${domain}`))).length;
      /** Order of deliveries by domain, to see that the quiet domain got through while the busy one had work. */
      const order: string[] = [];
      try {
        while (sink.messages.length < BUSY + QUIET) {
          // a round: every open transaction is parked, and each domain has as many open as the cap lets it
          await eventually(
            () => {
              const busy = sink.activeByDomain('busy.test');
              const quiet = sink.activeByDomain('quiet.test');
              return (
                busy >= Math.min(CAP, BUSY - delivered('busy.test')) &&
                quiet >= Math.min(CAP, QUIET - delivered('quiet.test')) &&
                busy + quiet > 0 &&
                parked.length === busy + quiet
              );
            },
            15_000,
            () =>
              `a full round (open: busy ${sink.activeByDomain('busy.test')}, quiet ${sink.activeByDomain('quiet.test')})`,
          );
          const before = sink.messages.length;
          for (const release of parked.splice(0)) release();
          await eventually(
            () => sink.messages.length > before,
            5_000,
            () => 'the released round at the sink',
          );
          for (const m of sink.messages.slice(before)) order.push(m.to[0]?.split('@')[1] ?? '');
        }
        expect(sink.peakByDomain('busy.test')).toBe(CAP);
        expect(sink.peakByDomain('quiet.test')).toBe(CAP);
        expect(delivered('busy.test')).toBe(BUSY);
        expect(delivered('quiet.test')).toBe(QUIET);
        // the quiet domain's mail all arrived while the busy domain still had a backlog
        expect(order.lastIndexOf('quiet.test')).toBeLessThan(order.lastIndexOf('busy.test'));
        expect(order.indexOf('quiet.test')).toBeLessThan(CAP * 2);
      } finally {
        for (const release of parked.splice(0)) release();
        await d.stop();
      }
    } finally {
      for (const release of parked.splice(0)) release();
      await sink.close();
      await dns.close();
      await rm(spool, { recursive: true, force: true });
    }
  }, 60_000);
});
