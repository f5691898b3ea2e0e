/**
 * When reports go out (RFC 8460 §4): after the UTC day plus its random
 * delay, by the injected clock, never before; to the URIs of the domain's
 * `_smtp._tls` record (a real DNS server), by mail into a real file spool;
 * what was sent is remembered across a restart, a failing URI is tried
 * again and given up after a day. Counts come from a real audit bus.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAuditBus, type AuditBus } from '../../src/audit/bus.js';
import { createResolver } from '../../src/dns/resolver.js';
import { openFileSpool, type FileSpool } from '../../src/spool/file-spool.js';
import { collectSessions } from '../../src/tlsrpt/collect.js';
import { openDayStore, type DayStore } from '../../src/tlsrpt/day-store.js';
import { createReporter, type Reporter } from '../../src/tlsrpt/reporter.js';
import { startDnsServer, type RunningDnsServer } from '../helpers/dns-server.js';
import { allMessages } from '../helpers/spool.js';

const DAY = '2026-12-06';
const END = Date.parse('2026-12-07T00:00:00Z');
const MIN = 60_000;

let dir: string;
let dns: RunningDnsServer;
let spool: FileSpool;
let audit: AuditBus;
let now: number;
const logs: string[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gp-tlsrpt-'));
  dns = await startDnsServer({
    '_smtp._tls.example.com': { TXT: ['v=TLSRPTv1; rua=mailto:tlsrpt@example.com'] },
    '_smtp._tls.two.test': { TXT: ['v=TLSRPTv1; rua=mailto:r@two.test,https://127.0.0.1:1/never'] },
    '_smtp._tls.broken.test': { servfail: true },
  });
  spool = await openFileSpool({ path: join(dir, 'spool') });
  audit = createAuditBus({ enabled: false, replay: 0 });
  now = Date.parse(`${DAY}T12:00:00Z`);
  logs.length = 0;
});
afterEach(async () => {
  audit.close();
  await spool.close();
  await dns.close();
  await rm(dir, { recursive: true, force: true });
});

async function open(): Promise<{ store: DayStore; reporter: Reporter; stop: () => Promise<void> }> {
  const store = await openDayStore(join(dir, 'tlsrpt'), { flushMs: 60_000 });
  const collecting = collectSessions({ events$: audit.raw$, store, stsPolicy: () => undefined, clock: () => now });
  const reporter = createReporter({
    store,
    send: {
      spool,
      resolver: createResolver([{ host: '127.0.0.1', port: dns.port }], { timeoutMs: 500, tries: 1 }),
      hostname: 'mx.example.org',
      now: () => now,
      random: () => 0.5,
      timeoutMs: 1000,
    },
    meta: { organization: 'Example', contact: 'mailto:tls@example.org', submitter: 'mx.example.org', unique: 'u1' },
    clock: () => now,
    random: () => 0.5,
    maxDelayMs: 60 * MIN,
    giveUpMs: 24 * 60 * MIN,
    log: {
      info: (fields, message) => logs.push(`${message} ${JSON.stringify(fields)}`),
      warn: (fields, message) => logs.push(`${message} ${JSON.stringify(fields)}`),
    },
  });
  return {
    store,
    reporter,
    stop: async () => {
      collecting.unsubscribe();
      await reporter.idle();
      await store.close();
    },
  };
}

function session(domain: string): void {
  audit.publish({
    type: 'delivery.tls',
    id: 'm1',
    domain,
    policy: 'may',
    result: 'cleartext',
    refused: false,
    host: `mx.${domain}[192.0.2.1]:25`,
  });
}

describe('the reporter', () => {
  it('sends a day after it ends plus its random delay, not before, then forgets it', async () => {
    const { store, reporter, stop } = await open();
    session('example.com');
    session('quiet.test'); // no TLSRPT record: no report
    now = END + 29 * MIN; // the delay is half of an hour
    await reporter.tick();
    expect(await allMessages(spool)).toEqual([]);
    expect(store.days().map((d) => d.day)).toEqual([DAY]);
    now = END + 31 * MIN;
    await reporter.tick();
    const messages = await allMessages(spool);
    expect(messages.map((m) => [m.envelope.sender, m.envelope.recipients, m.envelope.origin])).toEqual([
      ['', ['tlsrpt@example.com'], 'tls-report'],
    ]);
    expect(store.days()).toEqual([]);
    await stop();
  });

  it('does not report today', async () => {
    const { reporter, stop } = await open();
    session('example.com');
    now += 60 * MIN;
    const tick = reporter.tick();
    expect(reporter.tick()).toBe(tick); // a tick asked for while one runs is that one
    await tick;
    expect(await allMessages(spool)).toEqual([]);
    await stop();
  });

  it('remembers what went out across a restart and tries a failing URI again, for a day', async () => {
    const first = await open();
    session('two.test');
    session('broken.test');
    now = END + 2 * 60 * MIN;
    await first.reporter.tick();
    expect((await allMessages(spool)).map((m) => m.envelope.recipients)).toEqual([['r@two.test']]);
    expect(first.store.days()[0]?.domains['two.test']?.sent).toEqual(['mailto:r@two.test']);
    expect(Object.keys(first.store.days()[0]?.domains ?? {}).sort()).toEqual(['broken.test', 'two.test']);
    await first.stop();

    const second = await open();
    await second.reporter.tick();
    expect(await allMessages(spool)).toHaveLength(1); // the mail is not sent twice
    expect(second.store.days()).toHaveLength(1);
    now = END + 26 * 60 * MIN; // past the delay and a day of tries
    await second.reporter.tick();
    expect(second.store.days()).toEqual([]);
    expect(logs.filter((l) => l.startsWith('TLS report given up')).length).toBe(2);
    await second.stop();
  });
});
