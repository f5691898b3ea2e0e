/**
 * REQUIRETLS and `TLS-Required: No` through the daemon (SPEC §3, §5, RFC
 * 8689): a REQUIRETLS message goes only to an MX host the domain's MTA-STS
 * enforce policy lists, over STARTTLS with a certificate that verifies, to a
 * server that offers REQUIRETLS, and the parameter is passed on. A verified
 * host without REQUIRETLS bounces it (5.7.30, the bounce without the body);
 * a destination without an enforce policy, and hosts with an expired, a
 * wrong-name or no certificate, never get it (deferred). `TLS-Required: No`
 * sets the domain's MTA-STS enforce policy aside, unless the message is
 * tagged REQUIRETLS too. In relay mode the relay must verify and offer it.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { eventually } from '../helpers/eventually.js';
import { startPolicyHost, type PolicyHost } from '../helpers/policy-host.js';
import { sinkCertificate, startSink, type Sink } from '../helpers/sink.js';
import { startTlsWorld, type TlsWorld } from '../helpers/tls-world.js';
import { bodyBytes } from '../helpers/spool.js';

/** A fifth sink next to the world's: a good certificate and REQUIRETLS offered. */
const RTLS = { name: 'mx.rtls.test', address: '127.0.0.6' } as const;

interface Case {
  readonly domain: string;
  readonly mx: readonly string[];
  /** The MTA-STS policy's mode (its mx lists the domain's MX hosts); none: no TXT record. */
  readonly mode?: 'enforce' | 'testing';
  /** Under SMTP_TLS_POLICY=…=dane: the MX host's validated TLSA record matches its key (`ee`), or it has none. */
  readonly dane?: 'ee' | 'none';
  readonly requiretls: boolean;
  readonly optional?: boolean;
  readonly status: 'delivered' | 'deferred' | 'bounced';
  readonly reply: RegExp;
}

const CASES: readonly Case[] = [
  { domain: 'rtls.test', mx: [RTLS.name], mode: 'enforce', requiretls: true, status: 'delivered', reply: /^250 / },
  {
    domain: 'no-ext.test',
    mx: ['mx.good.test'],
    mode: 'enforce',
    requiretls: true,
    status: 'bounced',
    reply: /^5\.7\.30 REQUIRETLS support required/,
  },
  {
    domain: 'no-policy.test',
    mx: [RTLS.name],
    requiretls: true,
    status: 'deferred',
    reply: /^4\.7\.10 REQUIRETLS: the MX hosts of no-policy\.test cannot be authenticated \(no MTA-STS policy/,
  },
  {
    domain: 'testing.test',
    mx: [RTLS.name],
    mode: 'testing',
    requiretls: true,
    status: 'deferred',
    reply: /^4\.7\.10 REQUIRETLS: .*MTA-STS \(mta-sts-testing\)/,
  },
  {
    domain: 'expired.test',
    mx: ['mx.expired.test'],
    mode: 'enforce',
    requiretls: true,
    status: 'deferred',
    reply: /^4\.7\.5 .*certificate has expired/,
  },
  {
    domain: 'wrongname.test',
    mx: ['mx.wrongname.test'],
    mode: 'enforce',
    requiretls: true,
    status: 'deferred',
    reply: /^4\.7\.5 .*altnames/,
  },
  {
    domain: 'plain.test',
    mx: ['mx.plain.test'],
    mode: 'enforce',
    requiretls: true,
    status: 'deferred',
    reply: /^4\.7\.4 .*does not offer STARTTLS/,
  },
  {
    // the flag wins over the header (RFC 8689 §4.1)
    domain: 'both.test',
    mx: ['mx.plain.test'],
    mode: 'enforce',
    requiretls: true,
    optional: true,
    status: 'deferred',
    reply: /^4\.7\.4 /,
  },
  {
    domain: 'optional.test',
    mx: ['mx.plain.test'],
    mode: 'enforce',
    requiretls: false,
    optional: true,
    status: 'delivered',
    reply: /^250 /,
  },
  {
    // the same domain's policy without the header: refused in clear
    domain: 'enforced.test',
    mx: ['mx.plain.test'],
    mode: 'enforce',
    requiretls: false,
    status: 'deferred',
    reply: /^4\.7\.4 /,
  },
  {
    // DANE authenticates the host (RFC 8689 §4.2.1 allows DANE as MTA-STS)
    domain: 'dane-rtls.test',
    mx: ['dane.mx.rtls.test'],
    dane: 'ee',
    requiretls: true,
    status: 'delivered',
    reply: /^250 /,
  },
  {
    // a `dane` destination whose host has no TLSA records: not authenticated, never given the message
    domain: 'dane-none.test',
    mx: ['nodane.mx.rtls.test'],
    dane: 'none',
    requiretls: true,
    status: 'deferred',
    reply: /^4\.7\.5 .*REQUIRETLS: the TLS of this connection does not authenticate the host/,
  },
];

let world: TlsWorld;
let rtls: Sink;
let host: PolicyHost;
let d: TestDaemon;
const ids = new Map<string, string>();

/** Sends one message over STARTTLS, REQUIRETLS on MAIL FROM when asked; the queue id. */
async function submit(port: number, to: string, requiretls: boolean, optional = false): Promise<string> {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    secure: false,
    requireTLS: true,
    tls: { rejectUnauthorized: false },
  });
  const header = optional ? 'TLS-Required: No\r\n' : '';
  // nodemailer's typings do not list its RFC 8689 option yet
  const mail: SMTPTransport.MailOptions & { requireTLSExtensionEnabled: boolean } = {
    envelope: { from: 'alice@mx.local.test', to: [to] },
    raw: `Subject: for ${to}\r\n${header}\r\nthe secret body\r\n`,
    dsn: { ret: 'Full', notify: ['FAILURE'] },
    requireTLSExtensionEnabled: requiretls,
  };
  const info = (await transport.sendMail(mail)) as { response: string };
  transport.close();
  return info.response.slice(-20);
}

function allSinks(): Sink[] {
  return [...Object.values(world.sinks), rtls];
}

beforeAll(async () => {
  world = await startTlsWorld();
  const rtlsCertificate = await world.ca.issue(RTLS.name);
  rtls = await startSink({
    tls: 'starttls',
    certificate: rtlsCertificate,
    host: RTLS.address,
    port: world.port,
    requiretls: true,
  });
  world.dns.zone[RTLS.name] = { A: [RTLS.address] };
  host = await startPolicyHost(
    await world.ca.issue('mta-sts.test', { altNames: CASES.map((c) => `mta-sts.${c.domain}`) }),
  );
  const spki = new X509Certificate(rtlsCertificate.cert).publicKey.export({ type: 'spki', format: 'der' });
  for (const c of CASES) {
    world.dns.zone[c.domain] = {
      MX: c.mx.map((exchange, i) => ({ exchange, priority: 10 * (i + 1) })),
      ...(c.dane ? { ad: true } : {}),
    };
    for (const mx of c.dane ? c.mx : []) {
      world.dns.zone[mx] = { A: [RTLS.address], ad: true };
      if (c.dane === 'ee') {
        const data = createHash('sha256').update(spki).digest('hex');
        world.dns.zone[`_${world.port}._tcp.${mx}`] = { TLSA: [{ usage: 3, selector: 1, mtype: 1, data }], ad: true };
      }
    }
    if (!c.mode) continue;
    world.dns.zone[`_mta-sts.${c.domain}`] = { TXT: ['v=STSv1; id=1;'] };
    world.dns.zone[`mta-sts.${c.domain}`] = { A: ['127.0.0.1'] };
    const policy = ['version: STSv1', `mode: ${c.mode}`, ...c.mx.map((m) => `mx: ${m}`), 'max_age: 86400', ''];
    host.policies[`mta-sts.${c.domain}`] = { body: policy.join('\r\n') };
  }
  d = await startTestDaemon(
    {
      SMTP_DELIVERY_MODE: 'mx',
      SMTP_DNS_SERVERS: `127.0.0.1:${world.dns.port}`,
      SMTP_OUTBOUND_PORT: String(world.port),
      SMTP_OUTBOUND_TLS_VERIFY: 'false',
      SMTP_OUTBOUND_CA_FILE: world.caFile,
      SMTP_TLS_POLICY: CASES.filter((c) => c.dane)
        .map((c) => `${c.domain}=dane`)
        .join(','),
      LOG_LEVEL: 'info',
    },
    { mtaStsPort: host.port },
  );
  for (const c of CASES) ids.set(c.domain, await submit(d.port, `bob@${c.domain}`, c.requiretls, c.optional));
  await eventually(
    async () => {
      for (const id of ids.values()) {
        const r = (await d.daemon.spool.get(id))?.recipients[0];
        if (r?.status !== 'delivered' && r?.status !== 'bounced' && (r?.attempts ?? 0) < 1) return false;
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
  await rtls?.close();
  await world?.close();
});

describe('REQUIRETLS and TLS-Required: No outbound (§5, RFC 8689)', () => {
  it.each(CASES.map((c) => [c.domain, c] as const))('%s', async (_domain, c) => {
    const to = `bob@${c.domain}`;
    const recipient = (await d.daemon.spool.get(ids.get(c.domain) ?? ''))?.recipients[0];
    expect(recipient?.status).toBe(c.status);
    expect(recipient?.lastResponse).toMatch(c.reply);
    const got = allSinks().flatMap((s) => s.messages.filter((m) => m.to.includes(to)));
    expect(got).toHaveLength(c.status === 'delivered' ? 1 : 0);
  });

  it('passes REQUIRETLS on with MAIL FROM, over TLS', () => {
    const [message] = rtls.messages.filter((m) => m.to.includes('bob@rtls.test'));
    expect(message?.secure).toBe(true);
    expect(message?.commands[0]).toMatch(/^MAIL FROM:<alice@mx\.local\.test> .*REQUIRETLS/);
  });

  it('sends TLS-Required: No mail as it can, and without REQUIRETLS; the mail log says why', () => {
    const [message] = world.sinks.plain.messages.filter((m) => m.to.includes('bob@optional.test'));
    expect(message?.secure).toBe(false);
    expect(message?.commands[0]).not.toMatch(/REQUIRETLS/);
    const lines = d.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
    const sent = lines.find((l) => l['component'] === 'mail' && l['to'] === 'bob@optional.test' && l['status']);
    expect(sent).toMatchObject({ status: 'sent', tlsPolicy: 'tls-required-no', tls: 'cleartext' });
  });

  it('logs each REQUIRETLS refusal as a TLS decision: no dial, no REQUIRETLS offered, no DANE authentication', () => {
    const lines = d.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
    const lineOf = (to: string): Record<string, unknown> | undefined =>
      lines.find((l) => l['component'] === 'mail' && l['to'] === to && l['status']);
    expect(lineOf('bob@no-policy.test')).toMatchObject({ tlsPolicy: 'may', tls: 'requiretls-unmet' });
    expect(lineOf('bob@testing.test')).toMatchObject({ tlsPolicy: 'mta-sts-testing', tls: 'requiretls-unmet' });
    expect(lineOf('bob@no-ext.test')).toMatchObject({ tlsPolicy: 'mta-sts-enforce', tls: 'requiretls-unmet' });
    expect(lineOf('bob@dane-none.test')).toMatchObject({ tlsPolicy: 'dane', tls: 'requiretls-unmet' });
    expect(lineOf('bob@dane-rtls.test')).toMatchObject({ tlsPolicy: 'dane', tls: 'dane-verified' });
  });

  it('bounces without the body of the REQUIRETLS message, though RET=FULL was asked', async () => {
    expect((await d.daemon.spool.get(ids.get('no-ext.test') ?? ''))?.envelope.dsn?.ret).toBe('FULL');
    let noticeId = '';
    await eventually(
      async () => {
        const page = await d.daemon.spool.list({ limit: 100 });
        const notice = page.items.find(
          (r) => r.envelope.sender === '' && r.envelope.recipients[0] === 'alice@mx.local.test',
        );
        noticeId = notice?.id ?? '';
        return notice !== undefined;
      },
      10_000,
      () => 'the failure notice',
    );
    const text = (await bodyBytes(d.daemon.spool, noticeId)).toString('utf8');
    expect(text).toMatch(/5\.7\.30/);
    expect(text).toMatch(/Content-Type: text\/rfc822-headers/);
    expect(text).toMatch(/Subject: for bob@no-ext\.test/);
    expect(text).not.toMatch(/the secret body/);
  });
});

describe('REQUIRETLS through the relay (SMTP_DELIVERY_MODE=relay)', () => {
  it.each([
    ['offers REQUIRETLS: both messages go, the flag passed on', true],
    ['does not offer it: the REQUIRETLS message bounces with 5.7.30, the other goes', false],
  ] as const)('a relay over verified TLS that %s', async (_what, offers) => {
    const dir = await mkdtemp(join(tmpdir(), 'gp-rtls-'));
    // the sinks' self-signed certificate (for 127.0.0.1) is the relay's trust anchor
    const caFile = join(dir, 'relay-ca.pem');
    await writeFile(caFile, (await sinkCertificate()).cert);
    const relay = await startSink({ tls: 'starttls', requiretls: offers });
    const daemon = await startTestDaemon({
      SMTP_DELIVERY_MODE: 'relay',
      SMTP_RELAY_URL: `smtp://127.0.0.1:${relay.port}`,
      SMTP_OUTBOUND_CA_FILE: caFile,
    });
    try {
      const flagged = await submit(daemon.port, 'carol@far.test', true);
      const plain = await submit(daemon.port, 'dave@far.test', false);
      await eventually(async () => {
        const states = await Promise.all([flagged, plain].map((id) => daemon.daemon.spool.get(id)));
        return states.every((r) => r?.recipients[0]?.status === 'delivered' || r?.recipients[0]?.status === 'bounced');
      }, 10_000);
      const carol = (await daemon.daemon.spool.get(flagged))?.recipients[0];
      expect(carol?.status).toBe(offers ? 'delivered' : 'bounced');
      if (!offers) expect(carol?.lastResponse).toMatch(/^5\.7\.30 /);
      expect((await daemon.daemon.spool.get(plain))?.recipients[0]?.status).toBe('delivered');
      // (the bounce of the refused one goes through the relay too, from <>)
      const mails = relay.messages
        .filter((m) => m.from !== '')
        .map((m) => [m.to[0], m.secure, /REQUIRETLS/.test(m.commands[0] ?? '')]);
      expect(mails).toEqual(
        offers
          ? [
              ['carol@far.test', true, true],
              ['dave@far.test', true, false],
            ]
          : [['dave@far.test', true, false]],
      );
    } finally {
      await daemon.stop();
      await relay.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
