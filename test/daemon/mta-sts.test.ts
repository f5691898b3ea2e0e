/**
 * MTA-STS through the daemon (SPEC §5, RFC 8461): policies discovered by
 * TXT through SMTP_DNS_SERVERS, fetched from a local HTTPS policy host that
 * trusts the test CA (SMTP_OUTBOUND_CA_FILE), applied to sinks with a good,
 * an expired, a wrong-name and no certificate. `enforce` delivers only to
 * listed MX hosts with a verified certificate, else defers with 4.7.x;
 * `testing` delivers and logs what enforce would have refused; `none`, no
 * policy and a failed fetch are opportunistic; SMTP_TLS_POLICY wins.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { eventually } from '../helpers/eventually.js';
import { startPolicyHost, type PolicyHost } from '../helpers/policy-host.js';
import { sendRaw } from '../helpers/smtp-client.js';
import { startTlsWorld, type SinkKind, type TlsWorld } from '../helpers/tls-world.js';

interface Case {
  readonly domain: string;
  /** The domain's MX hosts, in preference order. */
  readonly mx: readonly SinkKind[];
  /** The policy served (undefined: the TXT record is there, the policy host answers 404). */
  readonly policy: { readonly mode: string; readonly mx: readonly string[] } | undefined;
  readonly status: 'delivered' | 'deferred';
  /** The sink that gets the mail when delivered. */
  readonly to?: SinkKind;
  readonly reply: RegExp;
  readonly tlsPolicy: string;
  readonly tls: string;
}

const CASES: readonly Case[] = [
  {
    domain: 'enforce-good.test',
    mx: ['good'],
    policy: { mode: 'enforce', mx: ['mx.good.test'] },
    status: 'delivered',
    to: 'good',
    reply: /^250 /,
    tlsPolicy: 'mta-sts-enforce',
    tls: 'verified',
  },
  {
    domain: 'enforce-expired.test',
    mx: ['expired'],
    policy: { mode: 'enforce', mx: ['*.expired.test'] },
    status: 'deferred',
    reply: /^4\.7\.5 TLS required for enforce-expired\.test by its MTA-STS policy: .*certificate has expired/,
    tlsPolicy: 'mta-sts-enforce',
    tls: 'certificate-invalid',
  },
  {
    domain: 'enforce-wrongname.test',
    mx: ['wrongname'],
    policy: { mode: 'enforce', mx: ['mx.wrongname.test'] },
    status: 'deferred',
    reply: /^4\.7\.5 TLS required for enforce-wrongname\.test by its MTA-STS policy: .*altnames/,
    tlsPolicy: 'mta-sts-enforce',
    tls: 'certificate-invalid',
  },
  {
    domain: 'enforce-plain.test',
    mx: ['plain'],
    policy: { mode: 'enforce', mx: ['mx.plain.test'] },
    status: 'deferred',
    reply: /^4\.7\.4 TLS required for enforce-plain\.test by its MTA-STS policy: the server does not offer STARTTLS/,
    tlsPolicy: 'mta-sts-enforce',
    tls: 'starttls-missing',
  },
  {
    domain: 'enforce-mismatch.test',
    mx: ['good'],
    policy: { mode: 'enforce', mx: ['mail.elsewhere.test'] },
    status: 'deferred',
    reply:
      /^4\.7\.5 .*no MX host of enforce-mismatch\.test \(mx\.good\.test\) matches the policy \(mx: mail\.elsewhere/,
    tlsPolicy: 'mta-sts-enforce',
    tls: 'mx-mismatch',
  },
  {
    domain: 'enforce-skip.test',
    mx: ['plain', 'good'],
    policy: { mode: 'enforce', mx: ['mx.good.test'] },
    status: 'delivered',
    to: 'good',
    reply: /^250 /,
    tlsPolicy: 'mta-sts-enforce',
    tls: 'verified',
  },
  {
    domain: 'testing-expired.test',
    mx: ['expired'],
    policy: { mode: 'testing', mx: ['mx.expired.test'] },
    status: 'delivered',
    to: 'expired',
    reply: /^250 /,
    tlsPolicy: 'mta-sts-testing',
    tls: 'encrypted',
  },
  {
    domain: 'testing-mismatch.test',
    mx: ['good'],
    policy: { mode: 'testing', mx: ['mail.elsewhere.test'] },
    status: 'delivered',
    to: 'good',
    reply: /^250 /,
    tlsPolicy: 'mta-sts-testing',
    tls: 'mx-mismatch',
  },
  {
    domain: 'none-plain.test',
    mx: ['plain'],
    policy: { mode: 'none', mx: [] },
    status: 'delivered',
    to: 'plain',
    reply: /^250 /,
    tlsPolicy: 'may',
    tls: 'cleartext',
  },
  {
    domain: 'nofetch-plain.test',
    mx: ['plain'],
    policy: undefined,
    status: 'delivered',
    to: 'plain',
    reply: /^250 /,
    tlsPolicy: 'may',
    tls: 'cleartext',
  },
  {
    // SMTP_TLS_POLICY says may: it wins over the domain's enforce policy
    domain: 'override-plain.test',
    mx: ['plain'],
    policy: { mode: 'enforce', mx: ['mx.plain.test'] },
    status: 'delivered',
    to: 'plain',
    reply: /^250 /,
    tlsPolicy: 'may',
    tls: 'cleartext',
  },
];

let world: TlsWorld;
let host: PolicyHost;
let d: TestDaemon;
const ids = new Map<string, string>();

function policyText(policy: NonNullable<Case['policy']>): string {
  return ['version: STSv1', `mode: ${policy.mode}`, ...policy.mx.map((m) => `mx: ${m}`), 'max_age: 86400', ''].join(
    '\r\n',
  );
}

beforeAll(async () => {
  world = await startTlsWorld();
  host = await startPolicyHost(
    await world.ca.issue('mta-sts.test', { altNames: CASES.map((c) => `mta-sts.${c.domain}`) }),
  );
  for (const c of CASES) {
    world.route(c.domain, c.mx);
    world.dns.zone[`_mta-sts.${c.domain}`] = { TXT: ['v=STSv1; id=20261206;'] };
    world.dns.zone[`mta-sts.${c.domain}`] = { A: ['127.0.0.1'] };
    if (c.policy) host.policies[`mta-sts.${c.domain}`] = { body: policyText(c.policy) };
  }
  d = await startTestDaemon(
    {
      SMTP_DELIVERY_MODE: 'mx',
      SMTP_DNS_SERVERS: `127.0.0.1:${world.dns.port}`,
      SMTP_OUTBOUND_PORT: String(world.port),
      SMTP_OUTBOUND_TLS_VERIFY: 'false',
      SMTP_OUTBOUND_CA_FILE: world.caFile,
      SMTP_TLS_POLICY: 'override-plain.test=may',
      SMTP_HEALTH_DISABLE: 'false',
      SMTP_HEALTH_ADDR: '127.0.0.1:0',
      LOG_LEVEL: 'info',
    },
    { mtaStsPort: host.port },
  );
  for (const c of CASES) {
    const to = `bob@${c.domain}`;
    ids.set(c.domain, await sendRaw(d.port, 'alice@mx.local.test', [to], `Subject: ${c.domain}\r\n\r\nbody\r\n`));
  }
  await eventually(
    async () => {
      for (const id of ids.values()) {
        const r = (await d.daemon.spool.get(id))?.recipients[0];
        if (r?.status !== 'delivered' && (r?.attempts ?? 0) < 1) return false;
      }
      return true;
    },
    20_000,
    () => 'a first attempt for every recipient',
  );
});

afterAll(async () => {
  await d?.stop();
  await host?.close();
  await world?.close();
});

function logLines(): Record<string, unknown>[] {
  return d.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('MTA-STS policies applied by the daemon (§5)', () => {
  it.each(CASES.map((c) => [c.domain, c] as const))('%s', async (_domain, c) => {
    const to = `bob@${c.domain}`;
    const recipient = (await d.daemon.spool.get(ids.get(c.domain) ?? ''))?.recipients[0];
    expect(recipient?.status).toBe(c.status);
    expect(recipient?.lastResponse).toMatch(c.reply);
    const everywhere = Object.values(world.sinks).flatMap((s) => s.messages.filter((m) => m.to.includes(to)));
    if (c.to) {
      expect(everywhere).toHaveLength(1);
      expect(world.sinks[c.to].messages.some((m) => m.to.includes(to))).toBe(true);
    } else {
      expect(everywhere).toEqual([]);
    }
    const line = logLines().find((l) => l['component'] === 'mail' && l['to'] === to && l['status'] !== undefined);
    expect(line).toMatchObject({ tlsPolicy: c.tlsPolicy, tls: c.tls });
  });

  it('logs what testing mode would have refused, and the hosts enforce refused', () => {
    const lines = logLines();
    const testing = lines
      .filter((l) => l['msg'] === 'tls policy failure (testing)')
      .map((l) => [l['domain'], l['tls']]);
    expect(testing).toEqual(
      expect.arrayContaining([
        ['testing-expired.test', 'encrypted'],
        ['testing-mismatch.test', 'mx-mismatch'],
      ]),
    );
    const skipped = lines.find((l) => l['msg'] === 'tls refused' && l['domain'] === 'enforce-skip.test');
    expect(skipped).toMatchObject({ host: 'mx.plain.test', tls: 'mx-mismatch', tlsPolicy: 'mta-sts-enforce' });
  });

  it('logs each policy fetched and each look-up that failed', () => {
    const lines = logLines().filter((l) => l['component'] === 'mta-sts');
    expect(lines.find((l) => l['domain'] === 'enforce-good.test')).toMatchObject({
      msg: 'policy fetched',
      mode: 'enforce',
      mx: ['mx.good.test'],
      maxAge: 86_400,
    });
    expect(lines.find((l) => l['domain'] === 'nofetch-plain.test')).toMatchObject({
      msg: 'policy look-up failed',
      kept: 'none',
      why: expect.stringMatching(/HTTP 404/),
    });
    // SMTP_TLS_POLICY decided without asking
    expect(host.fetches).not.toContain('mta-sts.override-plain.test');
  });

  it('keeps the fetched policies in mta-sts.json in the spool directory', async () => {
    await eventually(async () => {
      const text = await readFile(join(d.spoolDir, 'mta-sts.json'), 'utf8').catch(() => '');
      return text.includes('enforce-good.test') && text.includes('testing-expired.test');
    });
  });

  it('counts the decisions by policy and result', async () => {
    const text = await (await fetch(`http://127.0.0.1:${d.daemon.http?.port ?? 0}/metrics`)).text();
    const count = (policy: string, result: string): number =>
      Number(
        text
          .split('\n')
          .find((l) => l.startsWith(`gopherpost_tls_policy_decisions_total{policy="${policy}",result="${result}"}`))
          ?.split(' ')
          .pop() ?? 0,
      );
    expect(count('mta-sts-enforce', 'verified')).toBeGreaterThanOrEqual(2);
    expect(count('mta-sts-enforce', 'mx-mismatch')).toBeGreaterThanOrEqual(2);
    expect(count('mta-sts-enforce', 'certificate-invalid')).toBeGreaterThanOrEqual(2);
    expect(count('mta-sts-enforce', 'starttls-missing')).toBeGreaterThanOrEqual(1);
    expect(count('mta-sts-testing', 'encrypted')).toBeGreaterThanOrEqual(1);
    expect(count('mta-sts-enforce', 'cleartext')).toBe(0);
  });
});
