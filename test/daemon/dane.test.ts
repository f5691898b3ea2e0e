/**
 * DANE through the daemon (SPEC §5, RFC 7672): SMTP_TLS_POLICY `dane`
 * entries, MX, address and TLSA records served by a local DNS server that
 * sets the AD bit per name (as a validating resolver does), and sinks with a
 * good certificate (sent with its CA), an expired one, one for another name
 * and none. A host with validated TLSA is authenticated by the records alone
 * (no certificate authority is configured); a mismatch, a host without
 * STARTTLS and a failed TLSA look-up defer with 4.7.x and the mail never
 * reaches the host; TLSA without the AD bit, or under an MX answer without
 * it, is no DANE: the host gets `may`; validated records none of which SMTP
 * may use still require TLS.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import type { DnsZoneEntry } from '../helpers/dns-server.js';
import { eventually } from '../helpers/eventually.js';
import { sendRaw } from '../helpers/smtp-client.js';
import { startTlsWorld, type SinkKind, type TlsWorld } from '../helpers/tls-world.js';

interface Case {
  readonly domain: string;
  /** The MX host's name (its TLSA records live under it) and the sink it points to. */
  readonly mx: string;
  readonly sink: SinkKind;
  readonly mxValidated: boolean;
  readonly tlsa: (world: TlsWorld) => DnsZoneEntry;
  readonly status: 'delivered' | 'deferred';
  readonly tls: string;
  readonly reply: RegExp;
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
const cert = (world: TlsWorld, kind: SinkKind): X509Certificate => new X509Certificate(world.certificate(kind) ?? '');
const spkiOf = (world: TlsWorld, kind: SinkKind): string =>
  sha256(cert(world, kind).publicKey.export({ type: 'spki', format: 'der' }));
const eeKeyOfExpired = (world: TlsWorld): DnsZoneEntry => ({
  TLSA: [{ usage: 3, selector: 1, mtype: 1, data: spkiOf(world, 'expired') }],
  ad: true,
});
// the whole certificate of the wrong-name sink: no other sink presents it
const eeOfWrongname = (world: TlsWorld): DnsZoneEntry => ({
  TLSA: [{ usage: 3, selector: 0, mtype: 1, data: sha256(cert(world, 'wrongname').raw) }],
  ad: true,
});

const CASES: readonly Case[] = [
  {
    domain: 'ee-expired.test',
    mx: 'ee.mx.dane.test',
    sink: 'expired',
    mxValidated: true,
    tlsa: eeKeyOfExpired,
    status: 'delivered',
    tls: 'dane-verified',
    reply: /^250 /,
  },
  {
    domain: 'ee-mismatch.test',
    mx: 'mismatch.mx.dane.test',
    sink: 'good',
    mxValidated: true,
    tlsa: eeOfWrongname,
    status: 'deferred',
    tls: 'dane-failed',
    reply:
      /^4\.7\.5 TLS required for ee-mismatch\.test by SMTP_TLS_POLICY \(dane\): .*matches no TLSA record of _\d+\._tcp\.mismatch\.mx\.dane\.test/,
  },
  {
    domain: 'ta-good.test',
    mx: 'mx.good.test',
    sink: 'good',
    mxValidated: true,
    tlsa: (world) => ({
      TLSA: [{ usage: 2, selector: 0, mtype: 1, data: sha256(new X509Certificate(world.ca.cert).raw) }],
      ad: true,
    }),
    status: 'delivered',
    tls: 'dane-verified',
    reply: /^250 /,
  },
  {
    domain: 'tlsa-without-ad.test',
    mx: 'no-ad.mx.dane.test',
    sink: 'expired',
    mxValidated: true,
    tlsa: (world) => ({ ...eeOfWrongname(world), ad: false }),
    status: 'delivered',
    tls: 'encrypted',
    reply: /^250 /,
  },
  {
    domain: 'mx-without-ad.test',
    mx: 'unsigned-mx.mx.dane.test',
    sink: 'good',
    mxValidated: false,
    tlsa: eeOfWrongname,
    status: 'delivered',
    tls: 'encrypted',
    reply: /^250 /,
  },
  {
    domain: 'plain.test',
    mx: 'plain.mx.dane.test',
    sink: 'plain',
    mxValidated: true,
    tlsa: eeKeyOfExpired,
    status: 'deferred',
    tls: 'starttls-missing',
    reply: /^4\.7\.4 TLS required for plain\.test by SMTP_TLS_POLICY \(dane\): the server does not offer STARTTLS/,
  },
  {
    // validated records, none usable for SMTP (PKIX-EE): TLS still required (RFC 7672 §2.2)
    domain: 'unusable-plain.test',
    mx: 'unusable.mx.dane.test',
    sink: 'plain',
    mxValidated: true,
    tlsa: () => ({ TLSA: [{ usage: 1, selector: 1, mtype: 1, data: 'ab'.repeat(32) }], ad: true }),
    status: 'deferred',
    tls: 'starttls-missing',
    reply:
      /^4\.7\.4 TLS required for unusable-plain\.test by SMTP_TLS_POLICY \(dane\): the server does not offer STARTTLS/,
  },
  {
    domain: 'servfail.test',
    mx: 'servfail.mx.dane.test',
    sink: 'good',
    mxValidated: true,
    tlsa: () => ({ servfail: true }),
    status: 'deferred',
    tls: 'dane-failed',
    reply: /^4\.7\.5 TLS required for servfail\.test by SMTP_TLS_POLICY \(dane\): TLSA look-up of .* SERVFAIL/,
  },
];

let world: TlsWorld;
let d: TestDaemon;
const ids = new Map<string, string>();

beforeAll(async () => {
  world = await startTlsWorld();
  for (const c of CASES) {
    world.dns.zone[c.domain] = { MX: [{ exchange: c.mx, priority: 10 }], ad: c.mxValidated };
    world.dns.zone[c.mx] = { A: [world.address(c.sink)], ad: true };
    world.dns.zone[`_${world.port}._tcp.${c.mx}`] = c.tlsa(world);
  }
  d = await startTestDaemon({
    SMTP_DELIVERY_MODE: 'mx',
    SMTP_DNS_SERVERS: `127.0.0.1:${world.dns.port}`,
    SMTP_OUTBOUND_PORT: String(world.port),
    // no certificate authority knows the test CA: only TLSA can authenticate
    SMTP_OUTBOUND_TLS_VERIFY: 'false',
    SMTP_TLS_POLICY: CASES.map((c) => `${c.domain}=dane`).join(','),
    SMTP_MTA_STS: 'false',
    SMTP_HEALTH_DISABLE: 'false',
    SMTP_HEALTH_ADDR: '127.0.0.1:0',
    LOG_LEVEL: 'info',
  });
  for (const c of CASES) {
    const to = `bob@${c.domain}`;
    ids.set(to, await sendRaw(d.port, 'alice@mx.local.test', [to], `Subject: DANE to ${c.domain}\r\n\r\nbody\r\n`));
  }
  await eventually(
    async () => {
      for (const id of ids.values()) {
        const record = await d.daemon.spool.get(id);
        if (record?.recipients[0]?.status !== 'delivered' && (record?.recipients[0]?.attempts ?? 0) < 1) return false;
      }
      return true;
    },
    20_000,
    () => 'a first attempt for every recipient',
  );
});

afterAll(async () => {
  await d?.stop();
  await world?.close();
});

function logLines(): Record<string, unknown>[] {
  return d.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('SMTP_TLS_POLICY dane (§5, RFC 7672)', () => {
  it.each(CASES.map((c) => [c.domain, c] as const))('%s', async (_, c) => {
    const to = `bob@${c.domain}`;
    const record = await d.daemon.spool.get(ids.get(to) ?? '');
    const recipient = record?.recipients[0];
    expect(recipient?.status).toBe(c.status);
    expect(recipient?.lastResponse).toMatch(c.reply);
    const received = world.sinks[c.sink].messages.filter((m) => m.to.includes(to));
    if (c.status === 'delivered') {
      expect(received).toHaveLength(1);
      expect(received[0]?.secure).toBe(true);
    } else {
      expect(received).toEqual([]);
    }
    const line = logLines().find((l) => l['component'] === 'mail' && l['to'] === to && l['status'] !== undefined);
    expect(line).toMatchObject({ tlsPolicy: 'dane', tls: c.tls });
  });

  it('asks for TLSA with the outbound port, and only under a validated MX answer', () => {
    expect(world.dns.queries).toContain(`_${world.port}._tcp.ee.mx.dane.test TLSA`);
    expect(world.dns.queries.filter((q) => q.startsWith(`_${world.port}._tcp.unsigned-mx.`))).toEqual([]);
  });

  it('says why a refused host was refused', () => {
    const refused = logLines().filter((l) => l['msg'] === 'tls refused' && l['domain'] === 'ee-mismatch.test');
    expect(refused[0]).toMatchObject({ tlsPolicy: 'dane', tls: 'dane-failed' });
    expect(refused[0]?.['detail']).toMatch(/matches no TLSA record/);
  });

  it('counts DANE decisions in gopherpost_tls_policy_decisions_total', async () => {
    const text = await (await fetch(`http://127.0.0.1:${d.daemon.http?.port ?? 0}/metrics`)).text();
    const count = (result: string): number => {
      const line = text
        .split('\n')
        .find((l) => l.startsWith(`gopherpost_tls_policy_decisions_total{policy="dane",result="${result}"}`));
      return Number(line?.split(' ').pop() ?? 0);
    };
    expect(count('dane-verified')).toBeGreaterThanOrEqual(2);
    expect(count('dane-failed')).toBeGreaterThanOrEqual(2);
    expect(count('encrypted')).toBeGreaterThanOrEqual(2);
    expect(count('cleartext')).toBe(0);
  });
});

describe('DANE at start-up', () => {
  it('warns when dane entries would trust the system resolvers', async () => {
    const daemon = await startTestDaemon({
      SMTP_DELIVERY_MODE: 'mx',
      SMTP_TLS_POLICY: 'signed.test=dane',
      SMTP_MTA_STS: 'false',
      LOG_LEVEL: 'info',
    });
    try {
      const warning = daemon.logs
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .find((l) => l['component'] === 'dane');
      expect(warning?.['msg']).toMatch(/SMTP_DNS_SERVERS is unset: .* local DNSSEC-validating resolver/);
    } finally {
      await daemon.stop();
    }
  });
});
