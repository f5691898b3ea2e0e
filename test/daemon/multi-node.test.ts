/**
 * Two daemon processes on one Redis (SPEC §4, last bullet): every recipient
 * is delivered by exactly one of them; when one is SIGKILLed mid-run the other
 * takes its claims over once its heartbeat lapses, and the only duplicates are
 * the attempts the dead daemon had in flight.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { patchSmtpServer } from '../../src/inbound/patches.js';
import { startChildDaemon, type ChildDaemon } from '../helpers/child-daemon.js';
import { startTestDaemon } from '../helpers/daemon.js';
import { startDnsServer, type DnsZone } from '../helpers/dns-server.js';
import { deleteKeys, REDIS_URL, redisUnavailable, startTcpProxy, uniquePrefix } from '../helpers/redis.js';
import { startSink, type Sink } from '../helpers/sink.js';
import { ehlo } from '../helpers/smtp-client.js';
import { allMessages } from '../helpers/spool.js';
import { eventually } from '../helpers/eventually.js';

const unavailable = await redisUnavailable();
if (unavailable) console.warn(`skipping the multi-node test: ${unavailable}`);

/** Messages per run, one recipient each (the issue asks for 5,000; this keeps the run under a minute on 2 cores). */
const MESSAGES = 1_500;
const DOMAINS = 4;
const WORKERS = 8;
const SENDER_CONNECTIONS = 10;

const prefixes: string[] = [];

function zone(): DnsZone {
  const z: DnsZone = { 'mx.test': { A: ['127.0.0.1'] } };
  for (let d = 0; d < DOMAINS; d++) z[`d${d}.test`] = { MX: [{ exchange: 'mx.test', priority: 10 }] };
  return z;
}

function recipient(run: string, n: number): string {
  return `${run}-${n}@d${n % DOMAINS}.test`;
}

/**
 * Sends one message per recipient over a few reused connections; resolves with the recipients acknowledged with 250.
 */
async function sendAll(port: number, from: string, recipients: readonly string[]): Promise<string[]> {
  const accepted: string[] = [];
  const queue = [...recipients];
  await Promise.all(
    Array.from({ length: SENDER_CONNECTIONS }, async () => {
      const client = await ehlo(port);
      try {
        for (let to = queue.shift(); to !== undefined; to = queue.shift()) {
          const replies = [
            await client.command(`MAIL FROM:<${from}>`),
            await client.command(`RCPT TO:<${to}>`),
            await client.command('DATA'),
          ];
          if (replies.map((r) => r.code).join() !== '250,250,354')
            throw new Error(`unexpected replies for ${to}: ${JSON.stringify(replies)}`);
          const done = await client.command(
            `From: <${from}>\r\nTo: <${to}>\r\nSubject: ${to}\r\n\r\nhello ${to}\r\n.`,
            10_000,
          );
          if (done.code !== 250) throw new Error(`DATA for ${to}: ${done.code} ${done.text}`);
          accepted.push(to);
        }
      } finally {
        client.close();
      }
    }),
  );
  return accepted;
}

function daemonEnv(
  name: string,
  prefix: string,
  dnsPort: number,
  sink: Sink,
  mode: 'mx' | 'hold',
): Record<string, string> {
  return {
    SMTP_HOSTNAME: `${name}.local.test`,
    SMTP_QUEUE_BACKEND: 'redis',
    SMTP_REDIS_URL: REDIS_URL,
    SMTP_REDIS_PREFIX: prefix,
    SMTP_DELIVERY_MODE: mode,
    SMTP_DNS_SERVERS: `127.0.0.1:${dnsPort}`,
    SMTP_OUTBOUND_PORT: String(sink.port),
    SMTP_QUEUE_WORKERS: String(WORKERS),
    SMTP_TLS_DISABLE: 'true',
    LOG_LEVEL: 'info', // the listening line startChildDaemon waits for
  };
}

/** Deliveries per recipient, and per delivering daemon (the HELO name it gave the sink). */
function tally(sink: Sink): { perRecipient: Map<string, number>; perDaemon: Record<string, number>; total: number } {
  const perRecipient = new Map<string, number>();
  const perDaemon: Record<string, number> = {};
  let total = 0;
  for (const m of sink.messages) {
    perDaemon[m.heloName] = (perDaemon[m.heloName] ?? 0) + m.to.length;
    for (const to of m.to) {
      perRecipient.set(to, (perRecipient.get(to) ?? 0) + 1);
      total += 1;
    }
  }
  return { perRecipient, perDaemon, total };
}

async function stop(daemon: ChildDaemon | undefined): Promise<void> {
  if (!daemon || daemon.child.exitCode !== null || daemon.child.signalCode !== null) return;
  daemon.child.kill('SIGTERM');
  await daemon.exited;
}

afterAll(async () => {
  for (const prefix of prefixes) await deleteKeys(prefix);
});

describe.skipIf(unavailable !== undefined)(
  `two daemons on one Redis (§4)${unavailable ? ` (skipped: ${unavailable})` : ''}`,
  () => {
    it(`delivers ${MESSAGES} messages sent to both daemons exactly once`, async () => {
      patchSmtpServer(); // the sink greets at once
      const prefix = uniquePrefix('multi');
      prefixes.push(prefix);
      const dns = await startDnsServer(zone());
      const sink = await startSink({ keepBodies: false });
      const daemons: ChildDaemon[] = [];
      try {
        daemons.push(
          ...(await Promise.all(
            ['a', 'b'].map((name) => startChildDaemon(daemonEnv(name, prefix, dns.port, sink, 'mx'))),
          )),
        );
        const [a, b] = daemons as [ChildDaemon, ChildDaemon];
        const started = Date.now();
        const all = Array.from({ length: MESSAGES }, (_, n) => recipient('once', n));
        const accepted = (
          await Promise.all([
            sendAll(
              a.port,
              'sender@a.local.test',
              all.filter((_, n) => n % 2 === 0),
            ),
            sendAll(
              b.port,
              'sender@b.local.test',
              all.filter((_, n) => n % 2 === 1),
            ),
          ])
        ).flat();
        const sentSeconds = (Date.now() - started) / 1000;
        expect(accepted.length).toBe(MESSAGES);
        await eventually(
          () => tally(sink).perRecipient.size >= MESSAGES,
          40_000,
          () => `${tally(sink).perRecipient.size} of ${MESSAGES} delivered`,
        );
        const deliveredSeconds = (Date.now() - started) / 1000;
        await new Promise((r) => setTimeout(r, 1_000)); // room for a duplicate to show up
        const { perRecipient, perDaemon, total } = tally(sink);
        const counts = [...perRecipient.values()];
        console.log(
          `[multi-node] exactly-once run: ${MESSAGES} messages accepted (${sentSeconds.toFixed(1)} s), ${perRecipient.size} recipients delivered, ${total} deliveries, ` +
            `${counts.filter((c) => c > 1).length} recipients more than once, by daemon ${JSON.stringify(perDaemon)}, all delivered after ${deliveredSeconds.toFixed(1)} s`,
        );
        expect(all.every((r) => perRecipient.get(r) === 1)).toBe(true);
        expect(total).toBe(MESSAGES);
        expect(Object.keys(perDaemon).sort()).toEqual(['a.local.test', 'b.local.test']); // both did work
      } finally {
        for (const d of daemons) await stop(d);
        await sink.close();
        await dns.close();
      }
    }, 60_000);

    it(`delivers everything when one daemon is SIGKILLed mid-run, with no more duplicates than its attempts in flight`, async () => {
      patchSmtpServer();
      const prefix = uniquePrefix('multi-kill');
      prefixes.push(prefix);
      const dns = await startDnsServer(zone());
      const sink = await startSink({ keepBodies: false, delayMs: 5 });
      const daemons: ChildDaemon[] = [];
      try {
        // both daemons accept while holding delivery: every message is acknowledged before the run starts
        const loaders = await Promise.all(
          ['a', 'b'].map((name) => startChildDaemon(daemonEnv(name, prefix, dns.port, sink, 'hold'))),
        );
        daemons.push(...loaders);
        const all = Array.from({ length: MESSAGES }, (_, n) => recipient('kill', n));
        const loadStarted = Date.now();
        const accepted = (
          await Promise.all([
            sendAll(
              loaders[0]?.port ?? 0,
              'sender@a.local.test',
              all.filter((_, n) => n % 2 === 0),
            ),
            sendAll(
              loaders[1]?.port ?? 0,
              'sender@b.local.test',
              all.filter((_, n) => n % 2 === 1),
            ),
          ])
        ).flat();
        expect(accepted.length).toBe(MESSAGES);
        const loadSeconds = (Date.now() - loadStarted) / 1000;
        for (const d of loaders) await stop(d);

        const started = Date.now();
        const [a, b] = await Promise.all(
          ['a', 'b'].map((name) => startChildDaemon(daemonEnv(name, prefix, dns.port, sink, 'mx'))),
        );
        if (!a || !b) throw new Error('daemons did not start');
        daemons.push(a, b);
        await eventually(
          () => sink.messages.length >= MESSAGES / 3,
          30_000,
          () => `${sink.messages.length} delivered before the kill`,
        );
        a.child.kill('SIGKILL');
        await a.exited;
        const killedAt = Date.now();
        const atKill = tally(sink);
        await eventually(
          () => tally(sink).perRecipient.size >= MESSAGES,
          45_000,
          () => `${tally(sink).perRecipient.size} of ${MESSAGES} delivered after the kill`,
        );
        const resumedSeconds = (Date.now() - killedAt) / 1000;
        await new Promise((r) => setTimeout(r, 1_000)); // room for a duplicate to show up
        const { perRecipient, perDaemon, total } = tally(sink);
        const duplicates = total - perRecipient.size;
        console.log(
          `[multi-node] SIGKILL run: ${MESSAGES} messages accepted (${loadSeconds.toFixed(1)} s), killed daemon a after ${((killedAt - started) / 1000).toFixed(1)} s ` +
            `with ${atKill.perRecipient.size} delivered (${atKill.perDaemon['a.local.test'] ?? 0} by a); afterwards ${perRecipient.size} recipients delivered, ${total} deliveries, ` +
            `${duplicates} duplicates (bound: ${WORKERS} workers of a), by daemon ${JSON.stringify(perDaemon)}, all delivered ${resumedSeconds.toFixed(1)} s after the kill`,
        );
        expect(all.every((r) => (perRecipient.get(r) ?? 0) >= 1)).toBe(true);
        expect(perRecipient.size).toBe(MESSAGES);
        expect(duplicates).toBeLessThanOrEqual(WORKERS);
      } finally {
        for (const d of daemons) await stop(d);
        await sink.close();
        await dns.close();
      }
    }, 90_000);

    it('answers 451 at DATA and fails /readyz while Redis is away, and recovers with the queue intact', async () => {
      const prefix = uniquePrefix('outage');
      prefixes.push(prefix);
      const proxy = await startTcpProxy();
      const d = await startTestDaemon({
        SMTP_QUEUE_BACKEND: 'redis',
        SMTP_REDIS_URL: proxy.url,
        SMTP_REDIS_PREFIX: prefix,
        SMTP_HEALTH_DISABLE: 'false',
        SMTP_HEALTH_PORT: '0',
        SMTP_HEALTH_ADDR: '127.0.0.1:0',
        SMTP_TLS_DISABLE: 'true',
      });
      const readyz = async (): Promise<number> =>
        (await fetch(`http://127.0.0.1:${d.daemon.http?.port ?? 0}/readyz`)).status;
      const data = async (to: string): Promise<number> => {
        const client = await ehlo(d.port);
        try {
          await client.command('MAIL FROM:<a@mx.local.test>');
          await client.command(`RCPT TO:<${to}>`);
          await client.command('DATA');
          return (await client.command('Subject: x\r\n\r\nbody\r\n.', 10_000)).code;
        } finally {
          client.close();
        }
      };
      try {
        expect(await readyz()).toBe(200);
        expect(await data('before@example.test')).toBe(250);
        await proxy.cut();
        const started = Date.now();
        expect(await data('during@example.test')).toBe(451);
        expect(await readyz()).toBe(503);
        expect(Date.now() - started).toBeLessThan(5_000); // promptly, not after a client timeout
        await proxy.resume();
        await eventually(
          async () => (await readyz()) === 200,
          10_000,
          () => '/readyz 200 after Redis is back',
        );
        expect(await readyz()).toBe(200);
        expect(await data('after@example.test')).toBe(250);
        const queued = (await allMessages(d.daemon.spool)).flatMap((r) => r.envelope.recipients);
        expect(queued.sort()).toEqual(['after@example.test', 'before@example.test']);
      } finally {
        await d.stop();
        await proxy.close();
      }
    });
  },
);
