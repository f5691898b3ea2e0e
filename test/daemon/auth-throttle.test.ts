/**
 * Failed-AUTH throttling as promised by src/policy/auth-throttle.ts (DEFAULT_THROTTLE), over raw SMTP sockets to
 * the real daemon: from the 4th failure in the window each attempt waits (1 s, doubling), and once 10 failures are
 * counted every further AUTH from that client is answered `454 4.7.0` without its password being checked, while the
 * session and other clients go on. Decisions are taken when an attempt arrives, so failures sent at once on
 * several connections count without waiting out each delay. IPv6 clients count per /64: only ::1 is in its /64
 * here, so the grouping of two addresses of one /64 is checked through the AUTH stage the daemon runs.
 */
import { networkInterfaces } from 'node:os';
import { lastValueFrom, Subject, take, tap } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { throttledAuth } from '../../src/inbound/auth-stage.js';
import { DEFAULT_THROTTLE } from '../../src/policy/auth-throttle.js';
import { startTestDaemon } from '../helpers/daemon.js';
import { RawSmtp } from '../helpers/smtp-client.js';

const plain = (password: string): string => `AUTH PLAIN ${Buffer.from(`\0alice\0${password}`).toString('base64')}`;

async function session(port: number, host: string): Promise<RawSmtp> {
  const client = await RawSmtp.open(port, host);
  expect((await client.read())?.code).toBe(220);
  expect((await client.command('EHLO client.test')).code).toBe(250);
  return client;
}

/**
 * Ten failed AUTHs from `host`: three one after another (answered at once), the fourth after its 1 s wait, then
 * six at once on their own connections (each waits 2 s, all together). Returns the fourth's time to answer.
 */
async function tenFailures(port: number, host: string, first: RawSmtp): Promise<number> {
  for (let i = 0; i < 3; i++) expect((await first.command(plain('wrong'))).code).toBe(535);
  const started = Date.now();
  expect((await first.command(plain('wrong'), 10_000)).code).toBe(535);
  const fourth = Date.now() - started;
  const others = await Promise.all(Array.from({ length: 6 }, () => session(port, host)));
  const codes = await Promise.all(others.map(async (c) => (await c.command(plain('wrong'), 10_000)).code));
  expect(codes).toEqual([535, 535, 535, 535, 535, 535]);
  for (const c of others) c.close();
  return fourth;
}

/** A global IPv6 address of this host outside ::1's /64, if there is one. */
function otherIpv6(): string | undefined {
  const all = Object.values(networkInterfaces()).flatMap((list) => list ?? []);
  return all.find((a) => a.family === 'IPv6' && !a.internal && !a.address.toLowerCase().startsWith('fe80'))?.address;
}

describe('AUTH throttling over SMTP (§3)', () => {
  it('from the 4th failure each AUTH waits; after 10 failures AUTH gets 454 4.7.0 unchecked, the session goes on', async () => {
    const d = await startTestDaemon({ SMTP_AUTH_USERS: 'alice:right', SMTP_AUTH_INSECURE: 'true' });
    try {
      const client = await session(d.port, '127.0.0.1');
      expect(await tenFailures(d.port, '127.0.0.1', client)).toBeGreaterThanOrEqual(DEFAULT_THROTTLE.baseDelayMs - 50);
      // refused now, right password or not, answered without the wait of a checked attempt
      const refused = await client.command(plain('right'));
      expect(refused.code).toBe(454);
      expect(refused.text).toMatch(/^4\.7\.0 /);
      const fresh = await session(d.port, '127.0.0.1');
      expect((await fresh.command(plain('right'))).code).toBe(454);
      // the session goes on without AUTH
      expect((await client.command('NOOP')).code).toBe(250);
      expect((await client.command('MAIL FROM:<a@mx.local.test>')).code).toBe(250);
      client.close();
      fresh.close();
    } finally {
      await d.stop();
    }
  }, 30_000);

  it('an IPv6 client (::1) is refused after 10 failures while an IPv4 client of the same daemon is not', async () => {
    const d = await startTestDaemon({ SMTP_AUTH_USERS: 'alice:right', SMTP_AUTH_INSECURE: 'true', SMTP_BIND: '::' });
    try {
      const client = await session(d.port, '::1');
      await tenFailures(d.port, '::1', client);
      expect((await client.command(plain('right'))).code).toBe(454);
      const v4 = await session(d.port, '127.0.0.1');
      expect((await v4.command(plain('right'))).code).toBe(235);
      client.close();
      v4.close();
    } finally {
      await d.stop();
    }
  }, 30_000);

  const other = otherIpv6();
  it.skipIf(other === undefined)(
    `an IPv6 address in another /64 (${other ?? 'SKIPPED: this host has no global IPv6 address'}) is not refused with ::1`,
    async () => {
      const d = await startTestDaemon({
        SMTP_AUTH_USERS: 'alice:right',
        SMTP_AUTH_INSECURE: 'true',
        SMTP_BIND: '::',
        SMTP_ALLOW_NETWORKS: `::1/128,${other ?? '::1'}/128`,
      });
      try {
        const client = await session(d.port, '::1');
        await tenFailures(d.port, '::1', client);
        expect((await client.command(plain('right'))).code).toBe(454);
        const elsewhere = await session(d.port, other ?? '');
        expect((await elsewhere.command(plain('right'))).code).toBe(235);
        client.close();
        elsewhere.close();
      } finally {
        await d.stop();
      }
    },
    30_000,
  );

  it('two addresses of one IPv6 /64 count together (through the AUTH stage: loopback has no second address in a /64)', async () => {
    // the daemon's policy, with the waits shortened so ten attempts in a row take no time
    const throttle = { ...DEFAULT_THROTTLE, baseDelayMs: 1, maxDelayMs: 1 };
    const attempts = new Subject<{ readonly ip: string; readonly password: string }>();
    const sent = [
      ...Array.from({ length: 10 }, (_, i) => ({
        ip: i % 2 === 0 ? '2001:db8:1:2::10' : '2001:db8:1:2:ffff:ffff:ffff:20',
        password: 'wrong',
      })),
      { ip: '2001:db8:1:2:abcd::30', password: 'right' }, // a third address of the same /64
      { ip: '2001:db8:1:3::10', password: 'right' }, // the next /64
    ];
    let next = 0;
    const answered: { readonly ip: string; readonly kind: string }[] = [];
    const done = lastValueFrom(
      attempts.pipe(
        throttledAuth({
          ipOf: (a) => a.ip,
          verify: (a) => Promise.resolve(a.password === 'right' ? 'alice' : undefined),
          now: Date.now,
          throttle,
        }),
        take(sent.length),
        // one attempt at a time: the next is sent once the previous is answered, like one SMTP client
        tap(({ attempt, outcome }) => {
          answered.push({ ip: attempt.ip, kind: outcome.kind });
          next += 1;
          const following = sent[next];
          if (following) attempts.next(following);
        }),
      ),
    );
    const firstAttempt = sent[0];
    if (firstAttempt) attempts.next(firstAttempt);
    await done;
    expect(answered.map((a) => a.ip)).toEqual(sent.map((a) => a.ip));
    expect(answered.map((a) => a.kind)).toEqual([...Array<string>(10).fill('failed'), 'refused', 'accepted']);
  });
});
