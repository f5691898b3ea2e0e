import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DnsZone } from '../helpers/dns-server.js';
import { reservePort, startSink } from '../helpers/sink.js';
import type { Sink, SinkOptions } from '../helpers/sink.js';
import { parseDsn } from '../bounce/parse-dsn.js';
import { createHarness, crlf } from './harness.js';
import type { Harness } from './harness.js';

const zone: DnsZone = {
  'example.test': { MX: [{ exchange: 'mx.example.test', priority: 10 }] },
  'mx.example.test': { A: ['127.0.0.1'] },
  // bounces to alice@sender.test land at the same sink
  'sender.test': { MX: [{ exchange: 'mx.example.test', priority: 10 }] },
  'nullmx.test': { MX: [{ exchange: '.', priority: 0 }] },
  'fallback.test': {
    MX: [
      { exchange: 'mx-dead.fallback.test', priority: 10 },
      { exchange: 'mx-live.fallback.test', priority: 20 },
    ],
  },
  'mx-dead.fallback.test': { A: ['127.0.0.2'] }, // loopback, but no sink listens there
  'mx-live.fallback.test': { A: ['127.0.0.1'] },
  // another domain on example.test's MX host: one destination with it
  'sibling.test': { MX: [{ exchange: 'mx.example.test', priority: 10 }] },
  // a destination whose only host refuses connections
  'down.test': { MX: [{ exchange: 'mx.down.test', priority: 10 }] },
  'mx.down.test': { A: ['127.0.0.2'] },
};

const body = crlf(
  'From: Alice <alice@sender.test>',
  'To: Bob <bob@example.test>',
  'Subject: Quarterly report',
  'Message-ID: <m1@sender.test>',
  '',
  'Hello Bob,',
  '.a line that starts with a dot',
  '..and one with two',
  '.',
  'bye',
);

let h: Harness;
const sinks: Sink[] = [];
async function sink(options: SinkOptions = {}): Promise<Sink> {
  const s = await startSink(options);
  sinks.push(s);
  return s;
}

beforeEach(async () => {
  h = await createHarness(structuredClone(zone));
});
afterEach(async () => {
  await h.close();
  for (const s of sinks.splice(0)) await s.close();
});

describe('scheduler (mx mode, real DNS, real sinks, file spool)', () => {
  it('delivers byte-for-byte with a correct envelope, and records it', async () => {
    const s = await sink();
    const stored = await h.store('alice@sender.test', ['bob@example.test', 'Carol@Example.test'], body);
    h.start({ outboundPort: s.port });
    const [got] = await s.waitForMessages(1);
    expect(got?.raw.equals(body)).toBe(true);
    expect(got?.from).toBe('alice@sender.test');
    expect(got?.to).toEqual(['bob@example.test', 'Carol@Example.test']); // one transaction per domain
    expect(got?.heloName).toBe('mta.sender.test');
    const record = await h.waitFor('recorded', async () => {
      const r = await h.spool.get(stored.id);
      return r?.recipients.every((x) => x.status === 'delivered') ? r : undefined;
    });
    expect(record.recipients[0]).toMatchObject({ attempts: 1, lastResponse: expect.stringMatching(/^250 /) });
    expect(h.events.filter((e) => e.type === 'delivery.attempt')).toEqual([
      {
        type: 'delivery.attempt',
        id: stored.id,
        recipients: ['bob@example.test', 'Carol@Example.test'],
        host: `mx.example.test[127.0.0.1]:${s.port}`,
      },
    ]);
    expect(h.outcomes('bob@example.test')).toMatchObject([{ outcome: 'delivered', attempts: 1 }]);
  });

  it('defers while the sink is down and delivers once it is up (retry base 1 s)', async () => {
    const port = await reservePort();
    await h.store('alice@sender.test', ['bob@example.test'], body);
    h.start({ outboundPort: port, retryBaseSeconds: 1 });
    await h.waitFor('a deferral', () => h.outcomes('bob@example.test').find((e) => e.outcome === 'deferred'));
    expect(h.outcomes('bob@example.test')[0]?.response).toMatch(/^4\.4\.1 .*ECONNREFUSED/);
    const s = await sink({ port });
    const [got] = await s.waitForMessages(1, 5_000);
    expect(got?.raw.equals(body)).toBe(true);
    await h.waitFor('delivered', () => h.outcomes('bob@example.test').find((e) => e.outcome === 'delivered'));
  });

  it('answers 4xx then accepts: deferred, then delivered once', async () => {
    const s = await sink({ tempFailFirst: 1 });
    await h.store('alice@sender.test', ['bob@example.test'], body);
    h.start({ outboundPort: s.port, retryBaseSeconds: 1 });
    await s.waitForMessages(1, 5_000);
    await h.waitFor('delivered', () => h.outcomes('bob@example.test').find((e) => e.outcome === 'delivered'));
    expect(h.outcomes('bob@example.test').map((e) => [e.outcome, e.attempts])).toEqual([
      ['deferred', 1],
      ['delivered', 2],
    ]);
    expect(h.outcomes('bob@example.test')[0]?.response).toBe('451 4.3.0 Try again later');
    expect(s.messages).toHaveLength(1);
  });

  it('bounces a 5xx to the sender from <> with a correct RFC 3464 report', async () => {
    const s = await sink({
      rcpt: (a) =>
        a.startsWith('bob@') ? { code: 550, message: '5.1.1 <bob@example.test>: no such user' } : undefined,
    });
    const stored = await h.store('alice@sender.test', ['bob@example.test'], body);
    h.start({ outboundPort: s.port });
    const [bounce] = await s.waitForMessages(1);
    expect(bounce?.from).toBe('');
    expect(bounce?.to).toEqual(['alice@sender.test']);
    const dsn = await parseDsn(bounce?.raw ?? Buffer.alloc(0));
    expect(dsn.reportType).toBe('delivery-status');
    expect(dsn.mail.from?.value[0]?.address).toBe('MAILER-DAEMON@mta.sender.test');
    expect(dsn.status[0]).toMatchObject({
      'reporting-mta': 'dns; mta.sender.test',
      'x-gopherpost-queue-id': stored.id,
    });
    expect(dsn.status[1]).toMatchObject({
      'final-recipient': 'rfc822; bob@example.test',
      action: 'failed',
      status: '5.1.1',
      'diagnostic-code': 'smtp; 550 5.1.1 <bob@example.test>: no such user',
    });
    expect(dsn.part('text/rfc822-headers')).toContain('Subject: Quarterly report');
    expect(dsn.part('text/rfc822-headers')).not.toContain('Hello Bob');
    const record = await h.spool.get(stored.id);
    expect(record?.recipients[0]).toMatchObject({ status: 'bounced', attempts: 1 });
  });

  it('reports relayed mail for NOTIFY=SUCCESS to a next hop without DSN, naming it as Remote-MTA; none to one with DSN', async () => {
    const notify = (recipients: readonly string[]) =>
      h.spool.store(
        {
          sender: 'alice@sender.test',
          recipients,
          clientAddress: '127.0.0.1',
          heloName: 'client.test',
          receivedAt: Date.now(),
          dsn: { recipients: Object.fromEntries(recipients.map((r) => [r, { notify: ['SUCCESS'] }])) },
        },
        (async function* () {
          yield body;
        })(),
      );
    const without = await sink({ dsn: false });
    await notify(['bob@example.test']);
    const scheduler = h.start({ outboundPort: without.port });
    const [delivered, report] = await without.waitForMessages(2);
    expect([delivered?.to, report?.to, report?.from]).toEqual([['bob@example.test'], ['alice@sender.test'], '']);
    const dsn = await parseDsn(report?.raw ?? Buffer.alloc(0));
    expect(dsn.status[1]).toMatchObject({
      'final-recipient': 'rfc822; bob@example.test',
      action: 'relayed',
      'remote-mta': 'dns; mx.example.test',
    });
    await scheduler.stop();
    // a next hop that offers DSN reports on from there: the message goes on with its NOTIFY, and no report comes back
    const reports = async () =>
      (await h.spool.list({ limit: 10 })).items.filter((r) => r.envelope.sender === '').map((r) => r.id);
    const before = await reports(); // the first report, if its removal was still to come at the stop
    const withDsn = await sink();
    await notify(['carol@example.test']);
    h.start({ outboundPort: withDsn.port });
    const [passed] = await withDsn.waitForMessages(1);
    expect(passed?.commands.find((c) => c.startsWith('RCPT'))).toMatch(/NOTIFY=SUCCESS/);
    await h.waitFor('the outcome', () => h.outcomes('carol@example.test').find((e) => e.outcome === 'delivered'));
    // a report is stored before the outcome is recorded, and stays in the spool until its sink has it
    expect([await reports(), withDsn.messages.filter((m) => m.from === '')]).toEqual([before, []]);
  });

  it('reports a delay once per recipient for mail older than the warning, and none for younger mail', async () => {
    const s = await sink({
      rcpt: (a) => (a.startsWith('alice@') ? undefined : { code: 451, message: '4.3.0 Try again later' }),
    });
    const old = await h.store('alice@sender.test', ['bob@example.test'], body, Date.now() - 5 * 3_600_000);
    await h.store('alice@sender.test', ['carol@example.test'], body);
    h.start({ outboundPort: s.port, delayWarningHours: 4 });
    const deferred = (r: string) => h.outcomes(r).filter((e) => e.outcome === 'deferred').length >= 2 || undefined;
    await h.waitFor('two deferrals each', () => deferred('bob@example.test') && deferred('carol@example.test'));
    // a report is stored before the outcome is recorded; once none is left in the spool, the sink has them all
    await h.waitFor(
      'the reports delivered',
      async () =>
        (await h.spool.list({ limit: 10, waiting: true })).items.every((r) => r.envelope.sender !== '') || undefined,
    );
    const sent = s.messages.filter((m) => m.from === '');
    expect(sent).toHaveLength(1);
    expect((await h.spool.get(old.id))?.recipients[0]?.delayNoticeAt).toBeGreaterThan(0);
    const [report] = sent;
    const dsn = await parseDsn(report?.raw ?? Buffer.alloc(0));
    expect(dsn.status[1]).toMatchObject({ 'final-recipient': 'rfc822; bob@example.test', action: 'delayed' });
  });

  it('never bounces a null-sender message', async () => {
    const s = await sink({ rcpt: () => ({ code: 550, message: '5.1.1 no such user' }) });
    const stored = await h.store('', ['bob@example.test'], body);
    h.start({ outboundPort: s.port });
    await h.waitFor('bounced', () => h.outcomes('bob@example.test').find((e) => e.outcome === 'bounced'));
    await new Promise((r) => setTimeout(r, 200)); // the thing under test is that nothing happens: no DSN is queued
    expect((await h.spool.list({ limit: 10 })).items.map((m) => m.id)).toEqual([stored.id]);
    expect(s.transactions()).toBe(0);
  });

  it('bounces a null MX domain without dialling anyone', async () => {
    const s = await sink();
    await h.store('alice@sender.test', ['bob@nullmx.test'], body);
    h.start({ outboundPort: s.port });
    const [bounce] = await s.waitForMessages(1);
    const dsn = await parseDsn(bounce?.raw ?? Buffer.alloc(0));
    expect(dsn.status[1]).toMatchObject({
      'final-recipient': 'rfc822; bob@nullmx.test',
      status: '5.1.10',
      'diagnostic-code': expect.stringMatching(/^x-gopherpost; 5\.1\.10 .*null MX/),
    });
    expect(h.events.filter((e) => e.type === 'delivery.attempt' && e.recipients.includes('bob@nullmx.test'))).toEqual(
      [],
    );
  });

  it('bounces a recipient deferred past the queue lifetime', async () => {
    const s = await sink({
      rcpt: (a) => (a.startsWith('bob@') ? { code: 451, message: '4.3.0 greylisted' } : undefined),
    });
    await h.store('alice@sender.test', ['bob@example.test'], body, Date.now() - 2 * 3_600_000);
    h.start({ outboundPort: s.port, queueLifetimeHours: 1 });
    const [bounce] = await s.waitForMessages(1);
    const dsn = await parseDsn(bounce?.raw ?? Buffer.alloc(0));
    expect(dsn.status[1]).toMatchObject({ status: '5.4.7', 'diagnostic-code': 'smtp; 451 4.3.0 greylisted' });
    expect(dsn.part('text/plain')).toContain('delivery time expired');
    expect(h.outcomes('bob@example.test')).toMatchObject([{ outcome: 'bounced' }]);
  });

  it('keeps per-recipient results of one transaction', async () => {
    const s = await sink({
      rcpt: (a) =>
        a.startsWith('gone@')
          ? { code: 550, message: '5.1.1 no such user' }
          : a.startsWith('full@')
            ? { code: 452, message: '4.2.2 mailbox full' }
            : undefined,
    });
    const stored = await h.store(
      'alice@sender.test',
      ['ok@example.test', 'gone@example.test', 'full@example.test'],
      body,
    );
    h.start({ outboundPort: s.port, retryBaseSeconds: 60, retryMaxSeconds: 3840 });
    await s.waitForMessages(2); // the message, then the bounce for gone@
    expect(s.messages[0]?.to).toEqual(['ok@example.test']);
    expect(s.messages[1]).toMatchObject({ from: '', to: ['alice@sender.test'] });
    const record = await h.waitFor('recorded', async () => {
      const r = await h.spool.get(stored.id);
      return r?.recipients.every((x) => x.attempts === 1) ? r : undefined;
    });
    expect(record.recipients.map((r) => [r.recipient, r.status])).toEqual([
      ['ok@example.test', 'delivered'],
      ['gone@example.test', 'bounced'],
      ['full@example.test', 'deferred'],
    ]);
    const full = record.recipients[2];
    expect(full?.lastResponse).toBe('452 4.2.2 mailbox full');
    // backoff: base 60 s, +0–25 % jitter
    expect(full?.nextAttemptAt).toBeGreaterThanOrEqual(Date.now() + 55_000);
    expect(full?.nextAttemptAt).toBeLessThanOrEqual(Date.now() + 76_000);
  });

  it('reuses one connection for consecutive messages to the same host', async () => {
    const s = await sink();
    for (let i = 0; i < 3; i += 1) await h.store('alice@sender.test', [`r${i}@example.test`], body);
    h.start({ outboundPort: s.port, queueWorkers: 1 });
    const got = await s.waitForMessages(3);
    expect(new Set(got.map((m) => m.connectionId)).size).toBe(1);
    expect(s.connections()).toBe(1);
  });

  it('falls back to the next MX host when the first refuses connections', async () => {
    const s = await sink();
    await h.store('alice@sender.test', ['bob@fallback.test'], body);
    h.start({ outboundPort: s.port });
    await s.waitForMessages(1);
    const dialled = h.events.flatMap((e) => (e.type === 'delivery.attempt' ? [e.host] : []));
    expect(dialled).toEqual([
      `mx-dead.fallback.test[127.0.0.2]:${s.port}`,
      `mx-live.fallback.test[127.0.0.1]:${s.port}`,
    ]);
    await h.waitFor('delivered', () => h.outcomes('bob@fallback.test').find((e) => e.outcome === 'delivered'));
  });

  it('hold mode stores and never delivers', async () => {
    const s = await sink();
    const stored = await h.store('alice@sender.test', ['bob@example.test'], body);
    const scheduler = h.start({ outboundPort: s.port, deliveryMode: 'hold' });
    await new Promise((r) => setTimeout(r, 300)); // the thing under test is that nothing happens: no attempt
    expect(s.connections()).toBe(0);
    expect(h.events).toEqual([]);
    expect(scheduler.inFlight()).toBe(0);
    expect((await h.spool.get(stored.id))?.recipients[0]?.status).toBe('queued');
  });

  it('stop() resolves only once the claims it gives back are released in the spool', async () => {
    const s = await sink();
    await h.store('alice@sender.test', ['bob@example.test'], body);
    // the spool as it is, but each release waits for the gate
    let open = (): void => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let releases = 0;
    const spool = h.spool;
    const gated = new Proxy(spool, {
      get(target, key, receiver) {
        if (key === 'release')
          return async (...args: Parameters<typeof spool.release>) => {
            releases += 1;
            await gate;
            return target.release(...args);
          };
        const value: unknown = Reflect.get(target, key, receiver);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const scheduler = h.start({ outboundPort: s.port }, {}, gated);
    await s.waitForMessages(1);
    let stopped = false;
    const stopping = scheduler.stop().then(() => (stopped = true));
    await h.waitFor('the release asked for', () => releases > 0 || undefined);
    for (let i = 0; i < 10; i += 1) await new Promise((resolve) => setImmediate(resolve)); // let whatever is ready run
    expect(stopped).toBe(false);
    open();
    await stopping;
    expect(stopped).toBe(true);
  });

  it('stop() aborts a hung attempt after its bound and gives the claim back', async () => {
    const s = await sink({ hang: true });
    const stored = await h.store('alice@sender.test', ['bob@example.test'], body);
    const scheduler = h.start({ outboundPort: s.port }, { stopTimeoutMs: 100 });
    await h.waitFor('a dial', () => h.events.find((e) => e.type === 'delivery.attempt'));
    await scheduler.stop();
    expect(scheduler.inFlight()).toBe(0);
    // the aborted attempt let go of its connection at once, not at the greeting timeout (2 s here)
    await h.waitFor('the hung connection closed', () => s.sessionsClosed() >= 1 || undefined, 1_000);
    const [due] = await h.spool.claim(Date.now(), 10);
    expect([due?.record.id, due?.due.map((r) => r.recipient)]).toEqual([stored.id, ['bob@example.test']]);
  });
});

describe('scheduler: destinations (SPEC §4)', () => {
  it("sends all of a message's recipients at one destination in one transaction, split only at the recipient limit", async () => {
    const s = await sink();
    const recipients = Array.from({ length: 120 }, (_, i) => `r${i}@example.test`);
    await h.store('alice@sender.test', recipients, body);
    h.start({ outboundPort: s.port, destinationRecipientLimit: 50 });
    // the three transactions run at once, so they may arrive in any order
    const got = (await s.waitForMessages(3)).sort(
      (a, b) => recipients.indexOf(a.to[0] ?? '') - recipients.indexOf(b.to[0] ?? ''),
    );
    expect(got.map((m) => m.to.length)).toEqual([50, 50, 20]);
    expect(got.flatMap((m) => m.to)).toEqual(recipients);
    expect(s.transactions()).toBe(3);
  });

  it('lets domains with the same MX hosts share one destination: one window for both', async () => {
    // a window of one: shared, the messages of both domains go one after another over one
    // connection; as two destinations, two attempts would run at once on two connections
    const s = await sink({ delayMs: 20 });
    for (let i = 0; i < 8; i++)
      await h.store('alice@sender.test', [`r${i}@${i % 2 === 0 ? 'example.test' : 'sibling.test'}`], body);
    h.start({ outboundPort: s.port, queueWorkers: 100, domainConcurrency: 1 });
    const got = await s.waitForMessages(8);
    expect(new Set(got.map((m) => m.to[0]?.split('@')[1]))).toEqual(new Set(['example.test', 'sibling.test']));
    expect(s.connections()).toBe(1);
  });

  it('marks a destination whose hosts refuse connections dead: its other messages are deferred without dialling', async () => {
    const s = await sink();
    for (let i = 0; i < 10; i++) await h.store('alice@sender.test', [`r${i}@down.test`], body);
    h.start(
      { outboundPort: s.port, retryBaseSeconds: 60, retryMaxSeconds: 600 },
      { initialConcurrency: 2, quickRetryBaseMs: 10, quickRetryMaxMs: 20 },
    );
    await h.waitFor('all ten deferred', () => {
      const deferred = h.events.filter((e) => e.type === 'delivery.outcome' && e.outcome === 'deferred');
      return deferred.length >= 10 ? deferred : undefined;
    });
    const dialled = new Set(h.events.flatMap((e) => (e.type === 'delivery.attempt' ? [e.id] : [])));
    expect(dialled.size).toBeLessThan(10); // the cohort that failed, not every message
    const deaths = h.events.filter((e) => e.type === 'destination.dead');
    expect(deaths).toMatchObject([
      { destination: expect.stringContaining('mx.down.test'), reason: expect.stringMatching(/ECONNREFUSED/) },
    ]);
    // dead for SMTP_RETRY_BASE_SECONDS (60 s) from its death, which was a moment ago
    const until = deaths[0]?.type === 'destination.dead' ? Date.parse(deaths[0].until) : 0;
    expect(until - Date.now()).toBeGreaterThan(50_000);
    expect(until - Date.now()).toBeLessThanOrEqual(60_000);
    const suspended = h.events.filter(
      (e) => e.type === 'delivery.outcome' && e.response.startsWith('4.4.1 delivery temporarily suspended'),
    );
    expect(suspended.length).toBe(10 - dialled.size);
    // a mail for another destination is not held up by the dead one
    await h.store('alice@sender.test', ['bob@example.test'], body);
    await s.waitForMessages(1);
  });

  it('spaces the starts of a destination with a rate limit', async () => {
    const s = await sink();
    for (let i = 0; i < 4; i++) await h.store('alice@sender.test', [`r${i}@example.test`], body);
    const started = Date.now();
    h.start({ outboundPort: s.port, destinationRates: new Map([['example.test', { count: 5, perMs: 1_000 }]]) });
    await s.waitForMessages(4);
    // starts at 0, 200, 400 and 600 ms
    expect(Date.now() - started).toBeGreaterThanOrEqual(580);
  });
});

describe('scheduler (relay mode)', () => {
  const auth = { user: 'relayuser', pass: 's3cret' };

  it.each([
    ['smtp:// with STARTTLS', 'starttls', false],
    ['smtps://', 'implicit', true],
  ] as const)('relays through %s with AUTH, one transaction for all domains', async (_name, tls, secure) => {
    const s = await sink({ tls, auth });
    await h.store('alice@sender.test', ['bob@example.test', 'carol@elsewhere.test'], body);
    h.start({ deliveryMode: 'relay', relay: { secure, host: '127.0.0.1', port: s.port, ...auth } });
    const [got] = await s.waitForMessages(1);
    expect(got).toMatchObject({
      user: 'relayuser',
      secure: true,
      from: 'alice@sender.test',
      to: ['bob@example.test', 'carol@elsewhere.test'],
    });
    expect(got?.raw.equals(body)).toBe(true);
    expect(h.dns.queries).toEqual([]); // the relay is the next hop: no MX is looked up
  });
});

describe('scheduler restart recovery', () => {
  it('delivers what a previous process had claimed but never recorded', async () => {
    const s = await sink();
    const stored = await h.store('alice@sender.test', ['bob@example.test'], body);
    // The "previous process" claimed the recipient and died: its claim lived only in its memory.
    await h.spool.claim(Date.now(), 10);
    await h.spool.close();
    const { openFileSpool } = await import('../../src/spool/file-spool.js');
    const reopened = await openFileSpool({ path: h.dir });
    try {
      const { startScheduler } = await import('../../src/queue/scheduler.js');
      const { createSmtpTransport } = await import('../../src/delivery/transport.js');
      const { createResolver } = await import('../../src/dns/resolver.js');
      const { testConfig } = await import('./harness.js');
      const config = testConfig({ outboundPort: s.port, dnsServers: [{ host: h.dns.address, port: h.dns.port }] });
      const transport = createSmtpTransport({ hostname: config.hostname, tlsVerify: false });
      const scheduler = startScheduler({
        spool: reopened,
        config,
        resolver: createResolver(config.dnsServers),
        transport,
        clock: Date.now,
        random: Math.random,
      });
      await s.waitForMessages(1);
      await h.waitFor('recorded', async () =>
        (await reopened.get(stored.id))?.recipients[0]?.status === 'delivered' ? true : undefined,
      );
      await scheduler.stop();
      await transport.close();
    } finally {
      await reopened.close();
    }
  });
});
