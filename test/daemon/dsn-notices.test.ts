/**
 * DSN end to end (§3, §4): messages sent to the daemon over real sockets
 * (nodemailer's dsn option, raw commands), delivered by MX to real sinks
 * through a local DNS server; every notice the daemon sends comes back to
 * the sink from `<>` and is parsed with mailparser.
 */
import nodemailer from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { startDnsServer, type RunningDnsServer } from '../helpers/dns-server.js';
import { eventually } from '../helpers/eventually.js';
import { startSink, type Sink, type SinkOptions } from '../helpers/sink.js';
import { ehlo } from '../helpers/smtp-client.js';
import { allMessages } from '../helpers/spool.js';
import { parseDsn } from '../bounce/parse-dsn.js';

const zone = {
  'example.test': { MX: [{ exchange: 'mx.example.test', priority: 10 }] },
  'mx.example.test': { A: ['127.0.0.1'] },
  'mx.local.test': { A: ['127.0.0.1'] },
};

let running: { d: TestDaemon; sink: Sink; dns: RunningDnsServer } | undefined;
afterEach(async () => {
  if (!running) return;
  await running.d.stop();
  await running.sink.close();
  await running.dns.close();
  running = undefined;
});

async function start(sinkOptions: SinkOptions, env: Record<string, string> = {}) {
  const dns = await startDnsServer(zone);
  const sink = await startSink(sinkOptions);
  const d = await startTestDaemon({
    SMTP_DELIVERY_MODE: 'mx',
    SMTP_DNS_SERVERS: `127.0.0.1:${dns.port}`,
    SMTP_OUTBOUND_PORT: String(sink.port),
    ...env,
  });
  running = { d, sink, dns };
  return running;
}

/** One message over a raw session with the exact MAIL and RCPT lines given; resolves with its queue id. */
async function sendLines(port: number, mail: string, rcpts: readonly string[], data: string): Promise<string> {
  const client = await ehlo(port);
  for (const line of [mail, ...rcpts]) {
    const reply = await client.command(line);
    if (reply.code !== 250) throw new Error(`${line}: ${reply.code} ${reply.text}`);
  }
  await client.command('DATA');
  const reply = await client.command(`${data}.`);
  client.close();
  return /queued as ([0-9a-z]{20})/.exec(reply.text)?.[1] ?? '';
}

const notices = (sink: Sink) => sink.messages.filter((m) => m.from === '');

async function finished(d: TestDaemon, id: string): Promise<void> {
  await eventually(
    async () =>
      (await d.daemon.spool.get(id))?.recipients.every((r) => r.status === 'delivered' || r.status === 'bounced') ===
      true,
    10_000,
    () => `message ${id} to finish`,
  );
}

describe('DSN parameters to the next hop (§3)', () => {
  it('passes RET, ENVID, NOTIFY and ORCPT from nodemailer to a sink that offers DSN, and sends no notice itself', async () => {
    const { d, sink } = await start({});
    const mail: SMTPTransport.MailOptions = {
      envelope: { from: 'alice@mx.local.test', to: ['bob@example.test'] },
      raw: 'Subject: with dsn\r\n\r\nhi\r\n',
      dsn: { ret: 'HDRS', envid: 'track 42', notify: ['SUCCESS', 'FAILURE'], orcpt: 'bob+old@example.test' },
    };
    const info = await nodemailer
      .createTransport({ host: '127.0.0.1', port: d.port, secure: false, tls: { rejectUnauthorized: false } })
      .sendMail(mail);
    const id = /queued as ([0-9a-z]{20})/.exec(info.response)?.[1] ?? '';
    const [message] = await sink.waitForMessages(1);
    expect(message?.commands).toEqual([
      expect.stringMatching(/^MAIL FROM:<alice@mx\.local\.test> SIZE=\d+ RET=HDRS ENVID=track\+2042$/),
      'RCPT TO:<bob@example.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob+2Bold@example.test',
      'DATA',
    ]);
    await finished(d, id);
    // notices are stored before the recipient's state: none is in the spool, so none will go out
    expect((await allMessages(d.daemon.spool)).map((m) => m.id)).toEqual([id]);
  });
});

describe('notices (§4)', () => {
  it('sends a "relayed" notice for NOTIFY=SUCCESS when the next hop does not offer DSN', async () => {
    const { d, sink } = await start({ dsn: false });
    await sendLines(
      d.port,
      'MAIL FROM:<alice@mx.local.test> ENVID=env+2B1',
      ['RCPT TO:<bob@example.test> NOTIFY=SUCCESS ORCPT=rfc822;Bob+2Bold@example.test', 'RCPT TO:<carol@example.test>'],
      'Subject: relayed\r\n\r\nhi\r\n',
    );
    await eventually(
      () => notices(sink).length === 1,
      10_000,
      () => 'the relayed notice',
    );
    const [notice] = notices(sink);
    expect(notice?.to).toEqual(['alice@mx.local.test']);
    const { mail, status, part } = await parseDsn(notice?.raw ?? Buffer.alloc(0));
    expect(mail.subject).toBe('Successful Mail Delivery Report');
    expect(status[0]).toMatchObject({ 'original-envelope-id': 'env+1', 'reporting-mta': 'dns; mx.local.test' });
    expect(status.slice(1)).toEqual([
      {
        'original-recipient': 'rfc822;Bob+old@example.test',
        'final-recipient': 'rfc822; bob@example.test',
        action: 'relayed',
        status: '2.0.0',
        'remote-mta': 'dns; mx.example.test',
        'diagnostic-code': expect.stringMatching(/^smtp; 250 2\.0\.0 Ok: queued as sink-1$/),
        'last-attempt-date': expect.any(String),
      },
    ]);
    expect(part('text/rfc822-headers')).toContain('Subject: relayed');
  });

  it('sends a failure notice with the whole message for RET=FULL, and none for NOTIFY=NEVER or NOTIFY=SUCCESS', async () => {
    const { d, sink } = await start({
      rcpt: (address) => (address.startsWith('nobody') ? { code: 550, message: '5.1.1 No such user' } : undefined),
    });
    const id = await sendLines(
      d.port,
      'MAIL FROM:<alice@mx.local.test> RET=FULL ENVID=full1',
      [
        'RCPT TO:<nobody1@example.test> NOTIFY=FAILURE,DELAY ORCPT=rfc822;first@example.test',
        'RCPT TO:<nobody2@example.test> NOTIFY=NEVER',
        'RCPT TO:<nobody3@example.test> NOTIFY=SUCCESS',
      ],
      'Subject: whole\r\n\r\nthe body line\r\n',
    );
    await eventually(
      () => notices(sink).length === 1,
      10_000,
      () => 'the failure notice',
    );
    await finished(d, id);
    const { mail, parts, status } = await parseDsn(notices(sink)[0]?.raw ?? Buffer.alloc(0));
    expect(mail.subject).toBe('Undelivered Mail Returned to Sender');
    expect(parts.map((p) => p.contentType)).toEqual(['text/plain', 'message/delivery-status', 'message/rfc822']);
    expect(status[0]).toMatchObject({ 'original-envelope-id': 'full1' });
    expect(status.slice(1)).toEqual([
      {
        'original-recipient': 'rfc822;first@example.test',
        'final-recipient': 'rfc822; nobody1@example.test',
        action: 'failed',
        status: '5.1.1',
        'remote-mta': 'dns; mx.example.test',
        'diagnostic-code': 'smtp; 550 5.1.1 No such user',
        'last-attempt-date': expect.any(String),
      },
    ]);
    const returned = mail.attachments.find((a) => a.contentType === 'message/rfc822')?.content.toString() ?? '';
    expect(returned).toContain('Subject: whole\r\n\r\nthe body line\r\n');
    // every recipient bounced, one notice only (in the spool too: the original and that one)
    expect((await d.daemon.spool.get(id))?.recipients.map((r) => r.status)).toEqual(['bounced', 'bounced', 'bounced']);
    expect(await allMessages(d.daemon.spool)).toHaveLength(2);
  });

  it('NOTIFY=NEVER suppresses the failure notice', async () => {
    const { d, sink } = await start({ rcpt: () => ({ code: 550, message: '5.1.1 No such user' }) });
    const id = await sendLines(
      d.port,
      'MAIL FROM:<alice@mx.local.test>',
      ['RCPT TO:<nobody@example.test> NOTIFY=NEVER'],
      'Subject: never\r\n\r\nhi\r\n',
    );
    await finished(d, id);
    expect((await d.daemon.spool.get(id))?.recipients[0]?.status).toBe('bounced');
    expect((await allMessages(d.daemon.spool)).map((m) => m.id)).toEqual([id]);
    expect(notices(sink)).toEqual([]);
  });

  it('sends one delay notice per recipient once the message is older than SMTP_DELAY_WARNING_HOURS', async () => {
    const { d, sink } = await start(
      { rcpt: (address) => (address.startsWith('slow') ? { code: 451, message: '4.2.2 Mailbox full' } : undefined) },
      { SMTP_DELAY_WARNING_HOURS: '0.0005', SMTP_RETRY_BASE_SECONDS: '1', SMTP_RETRY_MAX_SECONDS: '1' },
    );
    const id = await sendLines(
      d.port,
      'MAIL FROM:<alice@mx.local.test> ENVID=slow1',
      [
        'RCPT TO:<slow1@example.test>',
        'RCPT TO:<slow2@example.test> NOTIFY=FAILURE',
        'RCPT TO:<slow3@example.test> NOTIFY=DELAY',
      ],
      'Subject: slow\r\n\r\nhi\r\n',
    );
    // recipients fall due apart (each has its own jitter), so they may be reported in one notice or in two
    const delayed = async (): Promise<string[]> => {
      const all = await Promise.all(notices(sink).map((n) => parseDsn(n.raw)));
      return all.flatMap((n) => n.status.slice(1).map((s) => s['final-recipient'] ?? '')).sort();
    };
    const marks = async (): Promise<boolean[]> =>
      ((await d.daemon.spool.get(id))?.recipients ?? []).map((r) => r.delayNoticeAt !== undefined);
    await eventually(
      async () => (await marks()).join() === 'true,false,true',
      15_000,
      () => 'slow1, slow3 noticed',
    );
    // each notice was stored before its recipients were marked: they only have to arrive
    await eventually(
      async () => (await delayed()).length >= 2,
      10_000,
      () => 'delay notices at the sink',
    );
    const noticed = await d.daemon.spool.get(id);
    // more attempts of every recipient go by; no second notice for anyone
    const attempts = noticed?.recipients.map((r) => r.attempts) ?? [];
    await eventually(
      async () =>
        ((await d.daemon.spool.get(id))?.recipients ?? []).every((r, i) => r.attempts >= (attempts[i] ?? 0) + 2),
      15_000,
      () => 'two more attempts of each recipient',
    );
    expect(await delayed()).toEqual(['rfc822; slow1@example.test', 'rfc822; slow3@example.test']);
    const { mail, status, part } = await parseDsn(notices(sink)[0]?.raw ?? Buffer.alloc(0));
    expect(mail.subject).toBe('Delayed Mail (still being retried)');
    expect(part('text/plain')).toContain('THIS IS A WARNING ONLY');
    expect(status[0]).toMatchObject({ 'original-envelope-id': 'slow1' });
    expect(status[1]).toMatchObject({
      action: 'delayed',
      status: '4.2.2',
      'remote-mta': 'dns; mx.example.test',
      'diagnostic-code': 'smtp; 451 4.2.2 Mailbox full',
    });
    expect(status[1]?.['will-retry-until']).toMatch(/\+0000$/);
    expect(part('text/rfc822-headers')).toContain('Subject: slow');
  }, 40_000);
});
