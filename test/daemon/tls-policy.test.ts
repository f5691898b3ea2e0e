/**
 * SMTP_TLS_POLICY through the daemon (SPEC §2, §5): every level against a
 * sink with a good certificate, an expired one, one for another name, and
 * one without STARTTLS. Where TLS is required and the host cannot give it,
 * the recipient defers with a 4.7.x reason and the sink never sees the mail;
 * the mail log and the metrics show each decision.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { eventually } from '../helpers/eventually.js';
import { sendRaw } from '../helpers/smtp-client.js';
import { SINK_KINDS, startTlsWorld, type SinkKind, type TlsWorld } from '../helpers/tls-world.js';

type Level = 'may' | 'encrypt' | 'verify';

interface Expected {
  readonly status: 'delivered' | 'deferred';
  readonly tls: string;
  /** The recipient's last response. */
  readonly reply: RegExp;
}

// SMTP_OUTBOUND_TLS_VERIFY=false: `may` takes any certificate, as it does today with verification off
const EXPECTED: Readonly<Record<Level, Readonly<Record<SinkKind, Expected>>>> = {
  may: {
    good: { status: 'delivered', tls: 'verified', reply: /^250 / },
    expired: { status: 'delivered', tls: 'encrypted', reply: /^250 / },
    wrongname: { status: 'delivered', tls: 'encrypted', reply: /^250 / },
    plain: { status: 'delivered', tls: 'cleartext', reply: /^250 / },
  },
  encrypt: {
    good: { status: 'delivered', tls: 'verified', reply: /^250 / },
    expired: { status: 'delivered', tls: 'encrypted', reply: /^250 / },
    wrongname: { status: 'delivered', tls: 'encrypted', reply: /^250 / },
    plain: {
      status: 'deferred',
      tls: 'starttls-missing',
      reply:
        /^4\.7\.4 TLS required for encrypt-plain\.test by SMTP_TLS_POLICY \(encrypt\): the server does not offer STARTTLS/,
    },
  },
  verify: {
    good: { status: 'delivered', tls: 'verified', reply: /^250 / },
    expired: {
      status: 'deferred',
      tls: 'certificate-invalid',
      reply: /^4\.7\.5 TLS required for verify-expired\.test by SMTP_TLS_POLICY \(verify\): .*certificate has expired/,
    },
    wrongname: {
      status: 'deferred',
      tls: 'certificate-invalid',
      reply: /^4\.7\.5 TLS required for verify-wrongname\.test .*: .*mx\.wrongname\.test.* altnames/,
    },
    plain: { status: 'deferred', tls: 'starttls-missing', reply: /^4\.7\.4 .*does not offer STARTTLS/ },
  },
};

const LEVELS: readonly Level[] = ['may', 'encrypt', 'verify'];
const CASES = LEVELS.flatMap((level) => SINK_KINDS.map((kind) => [level, kind] as const));

let world: TlsWorld;
let d: TestDaemon;
const ids = new Map<string, string>();

beforeAll(async () => {
  world = await startTlsWorld();
  for (const [level, kind] of CASES) world.route(`${level}-${kind}.test`, [kind]);
  d = await startTestDaemon({
    SMTP_DELIVERY_MODE: 'mx',
    SMTP_DNS_SERVERS: `127.0.0.1:${world.dns.port}`,
    SMTP_OUTBOUND_PORT: String(world.port),
    SMTP_OUTBOUND_TLS_VERIFY: 'false',
    SMTP_OUTBOUND_CA_FILE: world.caFile,
    SMTP_TLS_POLICY: CASES.filter(([level]) => level !== 'may')
      .map(([level, kind]) => `${level}-${kind}.test=${level}`)
      .join(','),
    SMTP_MTA_STS: 'false',
    SMTP_HEALTH_DISABLE: 'false',
    SMTP_HEALTH_ADDR: '127.0.0.1:0',
    LOG_LEVEL: 'info',
  });
  for (const [level, kind] of CASES) {
    const to = `bob@${level}-${kind}.test`;
    ids.set(to, await sendRaw(d.port, 'alice@mx.local.test', [to], `Subject: ${level} to ${kind}\r\n\r\nbody\r\n`));
  }
  // every recipient has had its first attempt
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

describe('SMTP_TLS_POLICY levels against good, expired, wrong-name and plain hosts (§5)', () => {
  it.each(CASES)('%s to the %s host', async (level, kind) => {
    const to = `bob@${level}-${kind}.test`;
    const expected = EXPECTED[level][kind];
    const record = await d.daemon.spool.get(ids.get(to) ?? '');
    const recipient = record?.recipients[0];
    expect(recipient?.status).toBe(expected.status);
    expect(recipient?.lastResponse).toMatch(expected.reply);
    const received = world.sinks[kind].messages.filter((m) => m.to.includes(to));
    if (expected.status === 'delivered') {
      expect(received).toHaveLength(1);
      // the mail went encrypted exactly when the host offers STARTTLS
      expect(received[0]?.secure).toBe(kind !== 'plain');
    } else {
      expect(received).toEqual([]);
    }
    const line = logLines().find((l) => l['component'] === 'mail' && l['to'] === to && l['status'] !== undefined);
    expect(line).toMatchObject({ tlsPolicy: level, tls: expected.tls });
  });

  it('logs each refused host on a line of its own, saying why', () => {
    const refused = logLines().filter((l) => l['msg'] === 'tls refused');
    const expired = refused.find((l) => l['domain'] === 'verify-expired.test');
    expect(expired).toMatchObject({ tlsPolicy: 'verify', tls: 'certificate-invalid' });
    expect(expired?.['host']).toMatch(/^mx\.expired\.test\[127\.0\.0\.3\]:\d+$/);
    expect(expired?.['detail']).toMatch(/certificate has expired/);
    expect(refused.some((l) => l['domain'] === 'encrypt-plain.test' && l['tls'] === 'starttls-missing')).toBe(true);
    expect(refused.some((l) => String(l['domain']).startsWith('may-'))).toBe(false);
  });

  it('asks for no MTA-STS policy with SMTP_MTA_STS=false', () => {
    expect(world.dns.queries.filter((q) => q.startsWith('_mta-sts.'))).toEqual([]);
    expect(world.dns.queries.filter((q) => q.startsWith('may-plain.test '))).not.toEqual([]);
  });

  it('counts every decision by policy and result in gopherpost_tls_policy_decisions_total', async () => {
    const text = await (await fetch(`http://127.0.0.1:${d.daemon.http?.port ?? 0}/metrics`)).text();
    const count = (policy: string, result: string): number => {
      const line = text
        .split('\n')
        .find((l) => l.startsWith(`gopherpost_tls_policy_decisions_total{policy="${policy}",result="${result}"}`));
      return Number(line?.split(' ').pop() ?? 0);
    };
    expect(count('may', 'verified')).toBeGreaterThanOrEqual(1);
    expect(count('may', 'encrypted')).toBeGreaterThanOrEqual(2);
    expect(count('may', 'cleartext')).toBeGreaterThanOrEqual(1);
    expect(count('encrypt', 'starttls-missing')).toBeGreaterThanOrEqual(1);
    // a single host is dialled twice in an attempt (one redial), so a refusal counts at least once
    expect(count('verify', 'certificate-invalid')).toBeGreaterThanOrEqual(2);
    expect(count('verify', 'starttls-missing')).toBeGreaterThanOrEqual(1);
    expect(count('verify', 'cleartext')).toBe(0);
    expect(count('encrypt', 'cleartext')).toBe(0);
  });
});
