/**
 * TLS-RPT counts survive a restart (SPEC §5, RFC 8460): a daemon counts a
 * session and stops (its day file written at shutdown, long before its
 * flush timer); a second daemon on the same SMTP_QUEUE_PATH, its clock past
 * the end of that day, sends the report with that count. With either queue
 * backend: with Redis the day files are the node's own, the report mail goes
 * through the shared queue.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { eventually } from '../helpers/eventually.js';
import { sendRaw } from '../helpers/smtp-client.js';
import { deleteKeys, REDIS_URL, redisUnavailable, uniquePrefix } from '../helpers/redis.js';
import { startTlsWorld, type TlsWorld } from '../helpers/tls-world.js';
import { tlsReportSchema } from '../tlsrpt/schema.js';

const DAY_MS = 86_400_000;
const unavailable = await redisUnavailable();
if (unavailable) console.warn(`skipping the Redis case: ${unavailable}`);
let world: TlsWorld;
let queuePath: string;
const daemons: TestDaemon[] = [];
const prefixes: string[] = [];

function env(backend: Record<string, string>): Record<string, string> {
  return {
    ...backend,
    SMTP_QUEUE_PATH: queuePath,
    SMTP_DELIVERY_MODE: 'mx',
    SMTP_DNS_SERVERS: `127.0.0.1:${world.dns.port}`,
    SMTP_OUTBOUND_PORT: String(world.port),
    SMTP_OUTBOUND_CA_FILE: world.caFile,
    SMTP_MTA_STS: 'false',
    SMTP_TLSRPT_ORGANIZATION: 'Example Mail Operations',
    SMTP_TLSRPT_CONTACT: 'mailto:tls-admin@mx.local.test',
  };
}

beforeAll(async () => {
  world = await startTlsWorld();
  world.route('plain.test', ['plain']);
  world.route('reports.test', ['good']);
  world.dns.zone['_smtp._tls.plain.test'] = { TXT: ['v=TLSRPTv1; rua=mailto:tlsrpt@reports.test'] };
});

afterAll(async () => {
  for (const d of daemons) await d.stop(); // each removes its own unused spool directory
  await world?.close();
  for (const prefix of prefixes) await deleteKeys(prefix);
});

const backends: [string, () => Record<string, string>][] = [['file', () => ({})]];
if (!unavailable) {
  backends.push([
    'redis',
    () => {
      const prefix = uniquePrefix('tlsrpt');
      prefixes.push(prefix);
      return { SMTP_QUEUE_BACKEND: 'redis', SMTP_REDIS_URL: REDIS_URL, SMTP_REDIS_PREFIX: prefix };
    },
  ]);
}

describe.each(backends)('TLS-RPT counts across a restart (%s backend)', (_name, backendEnv) => {
  it('are written at shutdown and reported by the next daemon', async () => {
    queuePath = await mkdtemp(join(tmpdir(), 'gp-tlsrpt-restart-'));
    const backend = backendEnv();
    const today = new Date().toISOString().slice(0, 10);
    const before = world.sinks.good.messages.length;
    const first = await startTestDaemon(env(backend), { tlsRpt: { flushMs: 3_600_000, tickMs: 3_600_000 } });
    daemons.push(first);
    const id = await sendRaw(first.port, 'alice@mx.local.test', ['bob@plain.test'], 'Subject: x\r\n\r\nbody\r\n');
    await eventually(async () => (await first.daemon.spool.get(id))?.recipients[0]?.status === 'delivered', 10_000);
    const dayFile = join(queuePath, 'tlsrpt', `${today}.json`);
    expect(await readFile(dayFile, 'utf8').catch(() => 'absent')).toBe('absent'); // not flushed yet
    await first.daemon.stop(500);
    expect(await readFile(dayFile, 'utf8')).toContain('plain.test');

    const second = await startTestDaemon(env(backend), {
      tlsRpt: { clock: () => Date.now() + 2 * DAY_MS, tickMs: 20, maxDelayMs: 1000 },
    });
    daemons.push(second);
    const messages = await world.sinks.good.waitForMessages(before + 1, 20_000);
    const mail = await simpleParser(messages[before]?.raw ?? Buffer.alloc(0));
    expect(mail.headers.get('tls-report-domain')).toBe('plain.test');
    const report = tlsReportSchema.parse(
      JSON.parse(gunzipSync(mail.attachments[0]?.content ?? Buffer.alloc(0)).toString('utf8')),
    );
    expect(report['date-range']['start-datetime']).toBe(`${today}T00:00:00Z`);
    expect(report.policies.map((p) => [p.policy['policy-type'], p.summary])).toEqual([
      ['no-policy-found', { 'total-successful-session-count': 0, 'total-failure-session-count': 1 }],
    ]);
    await second.stop();
    await rm(queuePath, { recursive: true, force: true });
  });
});
