import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import nodemailer from 'nodemailer';
import { describe, expect, it } from 'vitest';
import type { HistoryEntry, MessageView } from '../../src/http/api-types.js';
import { openFileSpool } from '../../src/spool/file-spool.js';
import { runCli } from '../cli/helpers.js';
import { httpPortOf, startChildDaemon, type ChildDaemon } from '../helpers/child-daemon.js';
import { startDnsServer } from '../helpers/dns-server.js';
import { eventually } from '../helpers/eventually.js';
import { startSink } from '../helpers/sink.js';
import { sendRaw } from '../helpers/smtp-client.js';

/** One line of the mail log as the daemon wrote it on stdout. */
interface MailLine {
  readonly msg: string;
  readonly component: string;
  readonly level: string;
  readonly queueId: string;
  readonly [field: string]: unknown;
}

interface Delays {
  readonly beforeQueueMs: number;
  readonly queueMs: number;
  readonly connectMs: number;
  readonly transmitMs: number;
}

function mailLines(d: ChildDaemon): MailLine[] {
  return d
    .output()
    .split('\n')
    .filter((l) => l.includes('"component":"mail"'))
    .map((l) => JSON.parse(l) as MailLine);
}

function linesOf(d: ChildDaemon, id: string): MailLine[] {
  return mailLines(d).filter((l) => l.queueId === id);
}

async function waitForLine(d: ChildDaemon, match: (l: MailLine) => boolean, what: string): Promise<MailLine> {
  await eventually(
    () => mailLines(d).some(match),
    30_000,
    () => `${what}; mail log so far:\n${mailLog(d)}`,
  );
  const line = mailLines(d).find(match);
  if (!line) throw new Error(`no ${what}`);
  return line;
}

function mailLog(d: ChildDaemon): string {
  return mailLines(d)
    .map((l) => JSON.stringify(l))
    .join('\n');
}

/** The parts of a recipient's delay add up to its total (whole milliseconds). */
function expectDelaysAddUp(line: MailLine): void {
  const delays = line['delays'] as Delays;
  const parts = [delays.beforeQueueMs, delays.queueMs, delays.connectMs, delays.transmitMs];
  for (const part of parts) expect(part).toBeGreaterThanOrEqual(0);
  expect(Math.abs(parts.reduce((a, b) => a + b, 0) - (line['delayMs'] as number))).toBeLessThanOrEqual(1);
}

const zone = {
  'example.test': { MX: [{ exchange: 'mx.example.test', priority: 10 }] },
  'mx.example.test': { A: ['127.0.0.1'] },
  'mx.local.test': { A: ['127.0.0.1'] },
};

describe('the mail log with default logging (§7)', () => {
  it("logs each message's receipt and each recipient's fate with the queue id, and keeps its history", async () => {
    const dns = await startDnsServer(zone);
    let laterTries = 0;
    const sink = await startSink({
      rcpt: (address) => {
        if (address.startsWith('gone@')) return { code: 550, message: '5.1.1 no such user' };
        if (address.startsWith('later@') && (laterTries += 1) === 1) return { code: 451, message: '4.3.0 try later' };
        return undefined;
      },
    });
    const dir = await mkdtemp(join(tmpdir(), 'gp-maillog-'));
    const d = await startChildDaemon({
      SMTP_QUEUE_PATH: dir,
      SMTP_DELIVERY_MODE: 'mx',
      SMTP_DNS_SERVERS: `127.0.0.1:${dns.port}`,
      SMTP_OUTBOUND_PORT: String(sink.port),
      SMTP_OUTBOUND_TLS_VERIFY: 'false',
      SMTP_RETRY_BASE_SECONDS: '1',
      SMTP_HEALTH_DISABLE: 'false',
      SMTP_HEALTH_ADDR: '127.0.0.1:0',
    });
    try {
      const to = ['ok@example.test', 'later@example.test', 'gone@example.test'];
      const id = await sendRaw(d.port, 'alice@mx.local.test', to, 'Subject: three\r\n\r\nbody\r\n');
      // the second message over STARTTLS, to a domain that does not exist
      const info = await nodemailer
        .createTransport({ host: '127.0.0.1', port: d.port, secure: false, tls: { rejectUnauthorized: false } })
        .sendMail({
          envelope: { from: 'alice@mx.local.test', to: ['x@nowhere.test'] },
          raw: 'Subject: nx\r\n\r\nx\r\n',
        });
      const nx = /queued as ([0-9a-z]{20})/.exec(info.response)?.[1] ?? '';

      const received = await waitForLine(d, (l) => l.queueId === id && l.msg === 'received', 'the received line');
      expect(received).toMatchObject({
        level: 'info',
        from: 'alice@mx.local.test',
        nrcpt: 3,
        to,
        client: '127.0.0.1',
        tls: 'no',
      });
      expect(received['size']).toBeGreaterThan(20);
      expect(received['receiptMs']).toBeGreaterThanOrEqual(0);
      const nxReceived = await waitForLine(d, (l) => l.queueId === nx && l.msg === 'received', 'the TLS receipt');
      expect(nxReceived['tls']).toMatch(/^TLSv1\.[23]$/);

      const relay = /^mx\.example\.test\[127\.0\.0\.1\]:\d+$/;
      const sent = await waitForLine(d, (l) => l.queueId === id && l['to'] === 'ok@example.test', 'ok@ sent');
      expect(sent).toMatchObject({ msg: 'sent', status: 'sent', dsn: '2.0.0', attempts: 1 });
      expect(sent['relay']).toMatch(relay);
      expect(sent['reply']).toMatch(/^250/);
      expectDelaysAddUp(sent);
      expect((sent['delays'] as Delays).beforeQueueMs).toBeLessThanOrEqual(received['receiptMs'] as number);

      const bounced = await waitForLine(d, (l) => l.queueId === id && l['to'] === 'gone@example.test', 'gone@');
      expect(bounced).toMatchObject({ msg: 'bounced', status: 'bounced', dsn: '5.1.1' });
      expect(bounced['relay']).toMatch(relay);
      expect(bounced['reply']).toMatch(/^550 5\.1\.1 no such user/);
      expectDelaysAddUp(bounced);

      const deferred = await waitForLine(
        d,
        (l) => l.queueId === id && l['to'] === 'later@example.test' && l.msg === 'deferred',
        'later@ deferred',
      );
      expect(deferred).toMatchObject({ status: 'deferred', dsn: '4.3.0', attempts: 1 });
      expect(deferred['reply']).toMatch(/^451 4\.3\.0 try later/);
      expectDelaysAddUp(deferred);
      const retried = await waitForLine(
        d,
        (l) => l.queueId === id && l['to'] === 'later@example.test' && l.msg === 'sent',
        'later@ sent on the retry',
      );
      expect(retried).toMatchObject({ status: 'sent', attempts: 2 });
      expectDelaysAddUp(retried);
      expect((retried['delays'] as Delays).queueMs).toBeGreaterThanOrEqual(500); // it waited for the retry
      await waitForLine(d, (l) => l.queueId === id && l.msg === 'removed', 'the removed line');
      expect(linesOf(d, id).map((l) => l.msg)).toEqual(['received', 'sent', 'deferred', 'bounced', 'sent', 'removed']);

      const nxBounced = await waitForLine(d, (l) => l.queueId === nx && l.msg === 'bounced', 'the NXDOMAIN bounce');
      expect(nxBounced).toMatchObject({ to: 'x@nowhere.test', relay: 'none', status: 'bounced' });
      expect(nxBounced['dsn']).toBe('5.1.2');
      expect(nxBounced['reply']).toBe('5.1.2 nowhere.test: domain not found (NXDOMAIN)');
      expectDelaysAddUp(nxBounced);
      await waitForLine(d, (l) => l.queueId === nx && l.msg === 'removed', 'the NXDOMAIN message removed');

      // the same story from the admin API and the CLI
      const base = `http://127.0.0.1:${httpPortOf(d)}`;
      const view = (await (await fetch(`${base}/api/messages/${id}`)).json()) as MessageView;
      const story = view.history.map((h: HistoryEntry) => [h.event, h.recipient ?? '', h.status ?? '']);
      expect(story[0]).toEqual(['received', '', '']);
      expect(story.slice(1, 4)).toEqual(
        expect.arrayContaining([
          ['sent', 'ok@example.test', '2.0.0'],
          ['deferred', 'later@example.test', '4.3.0'],
          ['bounced', 'gone@example.test', '5.1.1'],
        ]),
      );
      expect(story.slice(4)).toEqual([
        ['sent', 'later@example.test', '2.0.0'],
        ['removed', '', ''],
      ]);
      const later = view.history.find((h) => h.event === 'deferred');
      expect(later?.relay).toMatch(relay);
      expect(later?.reply).toMatch(/^451 4\.3\.0/);
      expect(later?.delayMs).toBe(deferred['delayMs']);
      expect(Date.parse(later?.time ?? '')).toBeGreaterThanOrEqual(Date.parse(view.receivedAt));

      const shown = await runCli(['messages', 'show', id], { adminUrl: base });
      expect(shown.error).toBeUndefined();
      expect(shown.stdout).toMatch(/history:\nTIME\s+EVENT\s+RECIPIENT\s+RELAY\s+STATUS\s+DELAY\s+REPLY/);
      expect(shown.stdout).toMatch(/deferred\s+later@example\.test\s+mx\.example\.test\[127\.0\.0\.1\]:\d+\s+4\.3\.0/);
      expect(shown.stdout).toMatch(/bounced\s+gone@example\.test\s+\S+\s+5\.1\.1\s+\d+\.\ds\s+550 5\.1\.1/);
    } finally {
      d.child.kill('SIGTERM');
      await d.exited;
      await sink.close();
      await dns.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('logs a recipient deferred past SMTP_QUEUE_LIFETIME_HOURS as expired', async () => {
    const dns = await startDnsServer(zone);
    const sink = await startSink({ rcpt: () => ({ code: 451, message: '4.2.0 still greylisted' }) });
    const dir = await mkdtemp(join(tmpdir(), 'gp-maillog-'));
    // the lifetime is whole hours: the message is put in the spool as if it arrived two hours ago
    const arrived = Date.now() - 2 * 3_600_000;
    const seed = await openFileSpool({ path: dir, now: () => arrived });
    const record = await seed.store(
      {
        sender: 'alice@mx.local.test',
        recipients: ['old@example.test'],
        clientAddress: '127.0.0.1',
        heloName: 'client.test',
        receivedAt: arrived,
      },
      Readable.from([Buffer.from('Subject: old\r\n\r\nold\r\n')]),
    );
    await seed.close();
    const d = await startChildDaemon({
      SMTP_QUEUE_PATH: dir,
      SMTP_DELIVERY_MODE: 'mx',
      SMTP_DNS_SERVERS: `127.0.0.1:${dns.port}`,
      SMTP_OUTBOUND_PORT: String(sink.port),
      SMTP_QUEUE_LIFETIME_HOURS: '1',
    });
    try {
      const expired = await waitForLine(d, (l) => l.queueId === record.id && l['to'] === 'old@example.test', 'old@');
      expect(expired).toMatchObject({ msg: 'expired', status: 'expired', dsn: '4.2.0' });
      expect(expired['relay']).toMatch(/^mx\.example\.test\[127\.0\.0\.1\]:\d+$/);
      expect(expired['reply']).toMatch(/^451 4\.2\.0 still greylisted/);
      expect(expired['delayMs']).toBeGreaterThanOrEqual(2 * 3_600_000);
      expectDelaysAddUp(expired);
      await waitForLine(d, (l) => l.queueId === record.id && l.msg === 'removed', 'the removed line');
    } finally {
      d.child.kill('SIGTERM');
      await d.exited;
      await sink.close();
      await dns.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
