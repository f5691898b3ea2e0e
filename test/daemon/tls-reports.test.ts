/**
 * TLS-RPT through the daemon (SPEC §2, §5, RFC 8460): deliveries to sinks
 * with a good, an expired, a wrong-name and no certificate are counted per
 * recipient domain; when the (injected) clock passes the end of the day,
 * each domain with a `_smtp._tls` record gets its report: by mail through
 * the queue to the report domain's MX (parsed with mailparser, the gzipped
 * JSON checked against RFC 8460 §4.4's structure), and by HTTPS POST to a
 * local server that trusts the test CA. The report mail itself is neither
 * refused for TLS nor counted.
 */
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { simpleParser, type ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { eventually } from '../helpers/eventually.js';
import { startPolicyHost, type PolicyHost } from '../helpers/policy-host.js';
import { sendRaw } from '../helpers/smtp-client.js';
import { startTlsWorld, type TlsWorld } from '../helpers/tls-world.js';
import { tlsReportSchema, type TlsReportJson } from '../tlsrpt/schema.js';

const DAY_MS = 86_400_000;
const STS_POLICY = [
  'version: STSv1',
  'mode: enforce',
  'mx: mx.expired.test',
  'mx: mx.wrongname.test',
  'mx: mx.good.test',
  'max_age: 86400',
];

interface Post {
  readonly path: string;
  readonly type: string | undefined;
  readonly body: Buffer;
}

let world: TlsWorld;
let policyHost: PolicyHost;
let https: Server;
const posts: Post[] = [];
let d: TestDaemon;
let offset = 0;
let today = '';

async function startReportServer(): Promise<number> {
  const cert = await world.ca.issue('reports-https.test');
  https = createServer({ key: cert.key, cert: cert.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      posts.push({ path: req.url ?? '', type: req.headers['content-type'], body: Buffer.concat(chunks) });
      res.writeHead(201).end();
    });
  });
  await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
  return (https.address() as AddressInfo).port;
}

beforeAll(async () => {
  world = await startTlsWorld();
  policyHost = await startPolicyHost(await world.ca.issue('mta-sts.sts.test', { altNames: ['mta-sts.nofetch.test'] }));
  const httpsPort = await startReportServer();
  world.route('sts.test', ['expired', 'wrongname', 'good']);
  world.dns.zone['_mta-sts.sts.test'] = { TXT: ['v=STSv1; id=1;'] };
  world.dns.zone['mta-sts.sts.test'] = { A: ['127.0.0.1'] };
  policyHost.policies['mta-sts.sts.test'] = { body: `${STS_POLICY.join('\r\n')}\r\n` };
  world.dns.zone['_smtp._tls.sts.test'] = { TXT: ['v=TLSRPTv1; rua=mailto:tlsrpt@reports.test'] };
  world.route('plain.test', ['plain']);
  world.dns.zone['_smtp._tls.plain.test'] = {
    TXT: [`v=TLSRPTv1;rua=https://reports-https.test:${httpsPort}/v1/tlsrpt,mailto:tlsrpt@reports.test;`],
  };
  world.dns.zone['reports-https.test'] = { A: ['127.0.0.1'] };
  // an MTA-STS record whose policy cannot be fetched (404): delivered without a policy, reported as a fetch error
  world.route('nofetch.test', ['good']);
  world.dns.zone['_mta-sts.nofetch.test'] = { TXT: ['v=STSv1; id=1;'] };
  world.dns.zone['mta-sts.nofetch.test'] = { A: ['127.0.0.1'] };
  world.dns.zone['_smtp._tls.nofetch.test'] = { TXT: ['v=TLSRPTv1; rua=mailto:tlsrpt@reports.test'] };
  world.route('quiet.test', ['good']); // no TLSRPT record: no report
  world.route('reports.test', ['good']);
  d = await startTestDaemon(
    {
      SMTP_DELIVERY_MODE: 'mx',
      SMTP_DNS_SERVERS: `127.0.0.1:${world.dns.port}`,
      SMTP_OUTBOUND_PORT: String(world.port),
      SMTP_OUTBOUND_TLS_VERIFY: 'false',
      SMTP_OUTBOUND_CA_FILE: world.caFile,
      SMTP_TLSRPT_ORGANIZATION: 'Example Mail Operations',
      SMTP_TLSRPT_CONTACT: 'mailto:tls-admin@mx.local.test',
      LOG_LEVEL: 'info',
    },
    {
      mtaStsPort: policyHost.port,
      tlsRpt: { clock: () => Date.now() + offset, tickMs: 20, flushMs: 20, maxDelayMs: 1000 },
    },
  );
  today = new Date().toISOString().slice(0, 10);
  const ids = [
    await sendRaw(d.port, 'alice@mx.local.test', ['bob@sts.test'], 'Subject: sts\r\n\r\nbody\r\n'),
    await sendRaw(d.port, 'alice@mx.local.test', ['bob@plain.test'], 'Subject: plain\r\n\r\nbody\r\n'),
    await sendRaw(d.port, 'alice@mx.local.test', ['bob@quiet.test'], 'Subject: quiet\r\n\r\nbody\r\n'),
    await sendRaw(d.port, 'alice@mx.local.test', ['bob@nofetch.test'], 'Subject: nofetch\r\n\r\nbody\r\n'),
  ];
  await eventually(
    async () => {
      const records = await Promise.all(ids.map((id) => d.daemon.spool.get(id)));
      return records.every((r) => r?.recipients[0]?.status === 'delivered');
    },
    20_000,
    () => 'every message delivered',
  );
}, 60_000);

afterAll(async () => {
  await d?.stop();
  await new Promise((resolve) => https?.close(resolve));
  await policyHost?.close();
  await world?.close();
});

function tlsrptDir(): string {
  return join(d.spoolDir, 'tlsrpt');
}

async function reportMails(): Promise<ParsedMail[]> {
  const raw = world.sinks.good.messages.filter((m) => m.to.includes('tlsrpt@reports.test'));
  return Promise.all(raw.map((m) => simpleParser(m.raw)));
}

function reportOf(mail: ParsedMail): TlsReportJson {
  const attachment = mail.attachments[0];
  if (!attachment) throw new Error('the report mail has no attachment');
  return tlsReportSchema.parse(JSON.parse(gunzipSync(attachment.content).toString('utf8')));
}

describe('TLS reports (RFC 8460)', () => {
  it('keeps the day counts in SMTP_QUEUE_PATH/tlsrpt/<day>.json while the day runs', async () => {
    let text = '';
    await eventually(async () => {
      text = await readFile(join(tlsrptDir(), `${today}.json`), 'utf8').catch(() => '');
      return text.includes('sts.test') && text.includes('plain.test') && text.includes('quiet.test');
    });
    expect(text).not.toContain('reports.test');
    expect(world.sinks.good.messages.filter((m) => m.to.includes('tlsrpt@reports.test'))).toEqual([]);
  });

  it('sends each domain its report by mail through the queue once the day is over', async () => {
    offset = 2 * DAY_MS;
    await eventually(
      async () => (await reportMails()).length >= 3,
      20_000,
      () => 'three report mails',
    );
    const mails = await reportMails();
    expect(mails).toHaveLength(3);
    const sts = mails.find((m) => m.headers.get('tls-report-domain') === 'sts.test');
    if (!sts) throw new Error('no report for sts.test');
    expect(sts.headers.get('content-type')).toMatchObject({
      value: 'multipart/report',
      params: { 'report-type': 'tlsrpt' },
    });
    expect(sts.headers.get('tls-report-submitter')).toBe('mx.local.test');
    expect(sts.subject).toMatch(/^Report Domain: sts\.test Submitter: mx\.local\.test Report-ID: </);
    const [attachment] = sts.attachments;
    expect(attachment?.contentType).toBe('application/tlsrpt+gzip');
    const start = Math.floor(Date.parse(`${today}T00:00:00Z`) / 1000);
    expect(attachment?.filename).toMatch(
      new RegExp(`^mx\\.local\\.test!sts\\.test!${start}!${start + 86_399}!\\w+\\.json\\.gz$`),
    );
    const raw = world.sinks.good.messages.find((m) => m.raw.includes('TLS-Report-Domain: sts.test'));
    expect(raw?.from).toBe('');
  });

  it('reports what the sessions did, in RFC 8460 §4.4 form', async () => {
    const mails = await reportMails();
    const sts = reportOf(mails.find((m) => m.headers.get('tls-report-domain') === 'sts.test') ?? mails[0]!);
    expect(sts).toMatchObject({
      'organization-name': 'Example Mail Operations',
      'contact-info': 'mailto:tls-admin@mx.local.test',
      'date-range': { 'start-datetime': `${today}T00:00:00Z`, 'end-datetime': `${today}T23:59:59Z` },
    });
    expect(sts.policies).toHaveLength(1);
    const [policy] = sts.policies;
    expect(policy?.policy).toEqual({
      'policy-type': 'sts',
      'policy-string': STS_POLICY,
      'policy-domain': 'sts.test',
      'mx-host': ['mx.expired.test', 'mx.wrongname.test', 'mx.good.test'],
    });
    expect(policy?.summary).toEqual({ 'total-successful-session-count': 1, 'total-failure-session-count': 2 });
    expect(policy?.['failure-details']).toEqual(
      expect.arrayContaining([
        {
          'result-type': 'certificate-expired',
          'receiving-mx-hostname': 'mx.expired.test',
          'receiving-ip': '127.0.0.3',
          'failed-session-count': 1,
          'failure-reason-code': 'CERT_HAS_EXPIRED',
        },
        {
          'result-type': 'certificate-host-mismatch',
          'receiving-mx-hostname': 'mx.wrongname.test',
          'receiving-ip': '127.0.0.4',
          'failed-session-count': 1,
          'failure-reason-code': 'ERR_TLS_CERT_ALTNAME_INVALID',
        },
      ]),
    );
    const plain = reportOf(mails.find((m) => m.headers.get('tls-report-domain') === 'plain.test') ?? mails[0]!);
    expect(plain.policies).toEqual([
      {
        policy: { 'policy-type': 'no-policy-found', 'policy-domain': 'plain.test' },
        summary: { 'total-successful-session-count': 0, 'total-failure-session-count': 1 },
        'failure-details': [
          {
            'result-type': 'starttls-not-supported',
            'receiving-mx-hostname': 'mx.plain.test',
            'receiving-ip': '127.0.0.5',
            'failed-session-count': 1,
          },
        ],
      },
    ]);
  });

  it('reports a policy that could not be fetched as an sts failure', async () => {
    const mails = await reportMails();
    const mail = mails.find((m) => m.headers.get('tls-report-domain') === 'nofetch.test');
    if (!mail) throw new Error('no report for nofetch.test');
    expect(reportOf(mail).policies).toEqual([
      {
        policy: { 'policy-type': 'sts', 'policy-domain': 'nofetch.test' },
        summary: { 'total-successful-session-count': 0, 'total-failure-session-count': 1 },
        'failure-details': [
          {
            'result-type': 'sts-policy-fetch-error',
            'receiving-mx-hostname': 'mx.good.test',
            'receiving-ip': '127.0.0.2',
            'failed-session-count': 1,
          },
        ],
      },
    ]);
  });

  it('POSTs the gzipped report to an https: rua', async () => {
    await eventually(
      () => posts.length >= 1,
      10_000,
      () => 'a POST',
    );
    expect(posts).toHaveLength(1);
    const [post] = posts;
    expect(post?.path).toBe('/v1/tlsrpt');
    expect(post?.type).toBe('application/tlsrpt+gzip');
    const report = tlsReportSchema.parse(JSON.parse(gunzipSync(post?.body ?? Buffer.alloc(0)).toString('utf8')));
    expect(report.policies[0]?.policy['policy-domain']).toBe('plain.test');
  });

  it('forgets a day once its reports are out, and never counts the report mail', async () => {
    await eventually(
      async () => (await readdir(tlsrptDir())).filter((n) => n.endsWith('.json')).length === 0,
      10_000,
      () => 'no day files',
    );
    const lines = d.logs.map((l) => JSON.parse(l) as Record<string, unknown>);
    const sent = lines.filter((l) => l['component'] === 'tlsrpt' && l['msg'] === 'TLS report sent');
    expect(sent.map((l) => [l['domain'], l['rua']])).toEqual(
      expect.arrayContaining([
        ['sts.test', 'mailto:tlsrpt@reports.test'],
        ['nofetch.test', 'mailto:tlsrpt@reports.test'],
        ['plain.test', 'mailto:tlsrpt@reports.test'],
        ['plain.test', expect.stringMatching(/^https:\/\/reports-https\.test:\d+\/v1\/tlsrpt$/) as string],
      ]),
    );
    expect(sent).toHaveLength(4);
    // the report mail went out without a TLS decision (RFC 8460 §5.3), so none was counted
    const delivered = lines.filter(
      (l) => l['component'] === 'mail' && l['to'] === 'tlsrpt@reports.test' && l['status'] === 'sent',
    );
    expect(delivered).toHaveLength(3);
    expect(
      lines.find((l) => l['component'] === 'mail' && l['to'] === 'bob@sts.test' && l['status'] === 'sent'),
    ).toMatchObject({ tlsPolicy: 'mta-sts-enforce' });
    for (const line of delivered) expect(line).not.toHaveProperty('tlsPolicy');
  });
});
