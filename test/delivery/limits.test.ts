import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { isTooManyRecipients, nextBatch, recipientsToResend } from '../../src/delivery/recipient-batches.js';
import { parseLimits } from '../../src/delivery/smtp/limits.js';
import { SmtpTransport, type SendRequest } from '../../src/delivery/transport.js';
import { startDnsServer } from '../helpers/dns-server.js';
import { startTestDaemon } from '../helpers/daemon.js';
import { eventually } from '../helpers/eventually.js';
import { startSink, type Sink, type SinkOptions } from '../helpers/sink.js';
import { sendRaw } from '../helpers/smtp-client.js';

// Outbound LIMITS (RFC 9422) and 452 4.5.3 (RFC 5321 §4.5.3.1.10), against sinks that advertise and enforce them.

const message = Buffer.from('From: alice@sender.test\r\nSubject: limits\r\n\r\nhello\r\n');
const rcpts = (n: number): string[] => Array.from({ length: n }, (_, i) => `r${i + 1}@example.test`);

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function sink(options: SinkOptions): Promise<Sink> {
  const s = await startSink(options);
  cleanup.push(() => s.close());
  return s;
}

function transport(): SmtpTransport {
  const t = new SmtpTransport({ hostname: 'mta.sender.test', tlsVerify: false });
  cleanup.push(() => t.close());
  return t;
}

/** A request whose body can be opened again; counts how often it was. */
function request(s: Sink, to: readonly string[], reopen = true): SendRequest & { readonly opened: () => number } {
  let opened = 1;
  return {
    host: s.host,
    port: s.port,
    from: 'alice@sender.test',
    to,
    body: Readable.from([message]),
    ...(reopen
      ? {
          reopenBody: () => {
            opened += 1;
            return Promise.resolve(Readable.from([message]));
          },
        }
      : {}),
    opened: () => opened,
  };
}

describe("a next hop's LIMITS", () => {
  it('splits the recipients by RCPTMAX into transactions on one connection, each with the whole message', async () => {
    const s = await sink({ limits: { rcptMax: 2 } });
    const req = request(s, rcpts(5));
    const result = await transport().sendEnvelope(req);
    expect(result.recipients.map((r) => [r.recipient, r.outcome.kind])).toEqual(rcpts(5).map((r) => [r, 'delivered']));
    const got = await s.waitForMessages(3);
    expect(got.map((m) => m.to)).toEqual([rcpts(5).slice(0, 2), rcpts(5).slice(2, 4), rcpts(5).slice(4)]);
    expect(got.every((m) => m.raw.equals(message))).toBe(true);
    expect(new Set(got.map((m) => m.connectionId)).size).toBe(1);
    expect(req.opened()).toBe(3);
  });

  it("gives every RCPTMAX batch its own recipients' DSN parameters, and RET/ENVID on each MAIL FROM", async () => {
    const s = await sink({ limits: { rcptMax: 2 } });
    const to = rcpts(3);
    const dsn = {
      ret: 'HDRS' as const,
      envid: 'env-1',
      recipients: {
        'r1@example.test': { notify: ['NEVER' as const] },
        'r3@example.test': { notify: ['SUCCESS' as const] },
      },
    };
    const result = await transport().sendEnvelope({ ...request(s, to), dsn });
    expect(result.dsn).toBe(true);
    const got = await s.waitForMessages(2);
    expect(got.map((m) => m.commands)).toEqual([
      [
        'MAIL FROM:<alice@sender.test> RET=HDRS ENVID=env-1',
        'RCPT TO:<r1@example.test> NOTIFY=NEVER',
        'RCPT TO:<r2@example.test>',
        'DATA',
      ],
      ['MAIL FROM:<alice@sender.test> RET=HDRS ENVID=env-1', 'RCPT TO:<r3@example.test> NOTIFY=SUCCESS', 'DATA'],
    ]);
  });

  it('opens a new connection after MAILMAX transactions, never hearing its 451', async () => {
    const s = await sink({ limits: { rcptMax: 2, mailMax: 2 } });
    const t = transport();
    const result = await t.sendEnvelope(request(s, rcpts(5)));
    expect(result.recipients.every((r) => r.outcome.kind === 'delivered')).toBe(true);
    const got = await s.waitForMessages(3);
    const connections = got.map((m) => m.connectionId);
    expect(connections[0]).toBe(connections[1]);
    expect(connections[2]).not.toBe(connections[0]);
    expect(s.mailCommands()).toBe(3); // no MAIL past MAILMAX
    // the pool honours it across envelopes too: one more message, then a third connection
    await t.sendEnvelope(request(s, ['late@example.test']));
    await t.sendEnvelope(request(s, ['later@example.test']));
    expect(new Set((await s.waitForMessages(5)).map((m) => m.connectionId)).size).toBe(3);
    expect(s.mailCommands()).toBe(5);
  });

  it('without a way to reopen the body, the recipients past RCPTMAX wait for the next attempt', async () => {
    const s = await sink({ limits: { rcptMax: 2 } });
    const result = await transport().sendEnvelope(request(s, rcpts(3), false));
    expect(result.recipients.map((r) => r.outcome.kind)).toEqual(['delivered', 'delivered', 'deferred']);
    expect(result.recipients[2]?.outcome.response).toContain('more recipients than the server takes');
    expect(s.transactions()).toBe(1);
  });
});

describe('452 4.5.3 to some recipients', () => {
  const limitOf = (n: number): SinkOptions => ({
    rcpt: (_address, session) =>
      session.envelope.rcptTo.length >= n ? { code: 452, message: '4.5.3 Too many recipients' } : undefined,
  });

  it('sends the refused ones in a new transaction at once, in the same attempt', async () => {
    const s = await sink(limitOf(2)); // enforced, not advertised
    const started = Date.now();
    const result = await transport().sendEnvelope(request(s, rcpts(5)));
    expect(result.recipients.map((r) => r.outcome.kind)).toEqual(Array(5).fill('delivered'));
    expect(new Set(result.recipients.map((r) => r.recipient))).toEqual(new Set(rcpts(5)));
    const got = await s.waitForMessages(3);
    expect(got.map((m) => m.to.length)).toEqual([2, 2, 1]);
    expect(Date.now() - started).toBeLessThan(5_000); // no backoff in between (the base delay is a minute)
  });

  it('does not go round when nothing was taken: every recipient deferred after one transaction', async () => {
    const s = await sink(limitOf(0));
    const result = await transport().sendEnvelope(request(s, rcpts(3)));
    expect(result.recipients.map((r) => r.outcome)).toEqual(
      Array(3).fill({ kind: 'deferred', response: '452 4.5.3 Too many recipients' }),
    );
    expect(s.mailCommands()).toBe(1);
  });

  it('a 452 about storage (4.3.1) is a deferral, not a resend', async () => {
    const s = await sink({
      rcpt: (address) => (address === 'r2@example.test' ? { code: 452, message: '4.3.1 Mailbox full' } : undefined),
    });
    const result = await transport().sendEnvelope(request(s, rcpts(2)));
    expect(result.recipients.map((r) => r.outcome.kind)).toEqual(['delivered', 'deferred']);
    expect(s.mailCommands()).toBe(1);
  });
});

describe('through the daemon', () => {
  it('delivers a message for five recipients to a next hop with RCPTMAX=2 in one attempt', async () => {
    const dns = await startDnsServer({
      'example.test': { MX: [{ exchange: 'mx.example.test', priority: 10 }] },
      'mx.example.test': { A: ['127.0.0.1'] },
    });
    cleanup.push(() => dns.close());
    const s = await sink({ limits: { rcptMax: 2, mailMax: 2 } });
    const d = await startTestDaemon({
      SMTP_DELIVERY_MODE: 'mx',
      SMTP_DNS_SERVERS: `127.0.0.1:${dns.port}`,
      SMTP_OUTBOUND_PORT: String(s.port),
      SMTP_OUTBOUND_TLS_VERIFY: 'false',
    });
    cleanup.push(() => d.stop());
    const id = await sendRaw(d.port, 'alice@mx.local.test', rcpts(5), 'Subject: five\r\n\r\nhello\r\n');
    await eventually(async () => {
      const record = await d.daemon.spool.get(id);
      return record?.recipients.every((r) => r.status === 'delivered') === true;
    }, 10_000);
    const record = await d.daemon.spool.get(id);
    expect(record?.recipients.map((r) => r.attempts)).toEqual(Array(5).fill(1));
    expect((await s.waitForMessages(3)).flatMap((m) => m.to).sort()).toEqual(rcpts(5).sort());
    expect(s.connections()).toBe(2);
  });
});

describe('pure parts', () => {
  it.each<[string | undefined, object]>([
    [undefined, {}],
    ['RCPTMAX=50 MAILMAX=100', { rcptMax: 50, mailMax: 100 }],
    ['rcptmax=5 RCPTDOMAINMAX=1', { rcptMax: 5 }],
    ['MAILMAX=0 RCPTMAX=x RCPTMAX', {}],
    ['  MAILMAX=7  ', { mailMax: 7 }],
    // a number is digits only, the whole value, at most nine of them
    ['RCPTMAX=5x MAILMAX=x5', {}],
    ['RCPTMAX=1234567890 MAILMAX=123456789', { mailMax: 123_456_789 }],
  ])('LIMITS %j', (params, limits) => {
    expect(parseLimits(params)).toEqual(limits);
  });

  it('batches by RCPTMAX', () => {
    expect(nextBatch(['a', 'b', 'c'], 2)).toEqual(['a', 'b']);
    expect(nextBatch(['a', 'b', 'c'], undefined)).toEqual(['a', 'b', 'c']);
  });

  it.each<[number, string, boolean]>([
    [452, '4.5.3 Too many recipients', true],
    [452, 'Too many recipients', true],
    [452, '4.3.1 Insufficient system storage', false],
    [452, '4.3.1 too many recipients queued, disk full', false],
    [452, 'Too many recipients, see 4.5.3', true],
    [452, 'too many recipients 4.3.1 later', true],
    [452, 'x 4.5.3 Too few', false],
    [451, '4.5.3 Too many recipients', false],
    [552, '5.5.3 Too many recipients', false],
  ])('%i %s: resend at once %s', (code, text, resend) => {
    expect(isTooManyRecipients({ code, lines: [text] })).toBe(resend);
  });

  it('reads a multi-line 452 as one text', () => {
    expect(isTooManyRecipients({ code: 452, lines: ['4.5.3', 'Too many recipients'] })).toBe(true);
    expect(isTooManyRecipients({ code: 452, lines: ['Too many', 'recipients'] })).toBe(true);
    const pending = ['a', 'b'];
    const all = nextBatch(pending, undefined);
    expect(all).toEqual(pending);
    expect(all).not.toBe(pending);
  });

  it('resends only when the transaction went through for someone', () => {
    const tooMany = { code: 452, lines: ['4.5.3 Too many recipients'] };
    const ok = { code: 250, lines: ['Accepted'] };
    const sent = ['a', 'b', 'c'];
    const delivered = { code: 250, lines: ['2.0.0 queued'] };
    expect(recipientsToResend(sent, { rcpt: [ok, tooMany, tooMany], data: delivered, dsn: false })).toEqual(['b', 'c']);
    expect(recipientsToResend(sent, { rcpt: [tooMany, tooMany, tooMany], dsn: false })).toEqual([]);
    const refused = { code: 554, lines: ['5.6.0 rejected'] };
    expect(recipientsToResend(sent, { rcpt: [ok, tooMany, tooMany], data: refused, dsn: false })).toEqual([]);
  });
});
