/**
 * SMTP smuggling (SEC Consult, 2023) end to end: every end-of-data look-alike
 * from a raw inbound socket, through the spool, relayed to a sink that
 * records the bytes on the wire. Whatever SMTP_BARE_NEWLINE says, the
 * smuggled second transaction is never accepted nor delivered, and no lone
 * CR or LF leaves the server (SPEC §2, §3).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { eventually } from '../helpers/eventually.js';
import { startSink, type Sink } from '../helpers/sink.js';
import { ehlo, type RawSmtp, type SmtpReply } from '../helpers/smtp-client.js';
import { allMessages, bodyBytes } from '../helpers/spool.js';

/** End-of-data look-alikes: each alone on the wire, the smuggled transaction right after it. */
const VARIANTS: readonly (readonly [string, string])[] = [
  ['<LF>.<LF>', '\n.\n'],
  ['<LF>.<CR><LF>', '\n.\r\n'],
  ['<CR>.<CR>', '\r.\r'],
  ['<CR>.<CR><LF>', '\r.\r\n'],
  ['<CR><LF>.<CR>', '\r\n.\r'],
  ['<CR><LF>.<LF>', '\r\n.\n'],
  ['<LF>.<CR>', '\n.\r'],
  ['<CR><LF>.<CR><CR><LF>', '\r\n.\r\r\n'],
  ['<LF>..<LF> (dot-stuffed)', '\n..\n'],
  ['<CR>..<CR><LF> (dot-stuffed)', '\r..\r\n'],
  ['<CR><LF><NUL>.<CR><LF>', '\r\n\0.\r\n'],
  ['<CR><LF>.<NUL><CR><LF>', '\r\n.\0\r\n'],
];

const BARE = /\r(?!\n)|(?<!\r)\n/;
const SMUGGLED = 'MAIL FROM:<mallory@mx.local.test>\r\nRCPT TO:<victim@example.test>\r\nDATA\r\n';

/** The DATA of variant `n`: a first message, the look-alike, then a whole second transaction as text. */
function dataOf(n: number, variant: string): string {
  return `Subject: variant ${n}\r\n\r\nbefore${variant}${SMUGGLED}Subject: smuggled\r\n\r\nsmuggled\r\n`;
}

/** Sends variant `n` in one transaction; the reply to the end of DATA, and the one to QUIT right after. */
async function sendVariant(port: number, n: number, variant: string): Promise<readonly [SmtpReply, SmtpReply]> {
  const client: RawSmtp = await ehlo(port);
  try {
    await client.command('MAIL FROM:<alice@mx.local.test>');
    await client.command('RCPT TO:<bob@example.test>');
    expect((await client.command('DATA')).code).toBe(354);
    const end = await client.command(`${dataOf(n, variant)}.`);
    // a second transaction read from the DATA would answer here (250 to MAIL FROM), not 221
    return [end, await client.command('QUIT')];
  } finally {
    client.close();
  }
}

/** The senders of the MAIL FROM commands a receiver ending lines at a lone CR or LF as well would read in `wire`. */
function sendersSeenByLenientReceiver(wire: string): string[] {
  const mails: string[] = [];
  let inData = false;
  for (const line of wire.split(/\r\n|\r|\n/)) {
    if (inData) {
      if (line === '.') inData = false;
      continue;
    }
    const mail = /^MAIL FROM:<([^>]*)>/i.exec(line);
    if (mail) mails.push(mail[1] ?? '');
    if (/^DATA$/i.test(line)) inData = true;
  }
  return mails;
}

describe.each(['normalize', 'keep'] as const)('SMTP_BARE_NEWLINE=%s: smuggling end to end (§3)', (mode) => {
  let d: TestDaemon;
  let sink: Sink;
  const ids: string[] = [];

  beforeAll(async () => {
    sink = await startSink({ recordWire: true });
    d = await startTestDaemon({
      SMTP_BARE_NEWLINE: mode,
      SMTP_DELIVERY_MODE: 'relay',
      SMTP_RELAY_URL: `smtp://127.0.0.1:${sink.port}`,
    });
    for (const [n, [, variant]] of VARIANTS.entries()) {
      const [end, quit] = await sendVariant(d.port, n, variant);
      expect([end.code, quit.code], VARIANTS[n]?.[0]).toEqual([250, 221]);
      ids.push(/queued as ([0-9a-z]{20})/.exec(end.text)?.[1] ?? '');
    }
    await sink.waitForMessages(VARIANTS.length);
    await eventually(
      async () => (await allMessages(d.daemon.spool)).every((m) => m.recipients.every((r) => r.status === 'delivered')),
      10_000,
      () => 'every message delivered',
    );
  });
  afterAll(async () => {
    await d.stop();
    await sink.close();
  });

  it('accepted exactly one message per variant, never the smuggled one', async () => {
    const stored = await allMessages(d.daemon.spool);
    expect(stored.map((m) => m.envelope.sender)).toEqual(VARIANTS.map(() => 'alice@mx.local.test'));
    expect(stored.map((m) => m.id).sort()).toEqual([...ids].sort());
  });

  it(
    mode === 'normalize'
      ? 'stored every lone CR and LF as CRLF'
      : 'stored every message as received (smtp-server removes a stuffed dot after a LF)',
    async () => {
      for (const [n, [name, variant]] of VARIANTS.entries()) {
        const body = (await bodyBytes(d.daemon.spool, ids[n] ?? '')).toString('latin1');
        const sent = `before${variant.replace(/\n\.\./g, '\n.')}${SMUGGLED}`;
        const expected = mode === 'normalize' ? sent.replace(/\r\n|\r|\n/g, '\r\n') : sent;
        expect(body, name).toContain(expected);
        if (mode === 'normalize') expect(body, name).not.toMatch(BARE);
      }
    },
  );

  it('delivered exactly one message per variant, all from the real sender, none smuggled', () => {
    expect(sink.transactions()).toBe(VARIANTS.length);
    expect(sink.messages.map((m) => [m.from, m.to])).toEqual(
      VARIANTS.map(() => ['alice@mx.local.test', ['bob@example.test']]),
    );
    for (const [n, [name]] of VARIANTS.entries()) {
      const raw = sink.messages.find((m) => m.raw.includes(`Subject: variant ${n}\r\n`))?.raw.toString('latin1');
      expect(raw, name).toContain(`before\r\n`);
      expect(raw, name).toContain(`\r\n${SMUGGLED}Subject: smuggled\r\n\r\nsmuggled\r\n`);
      expect(raw, name).not.toMatch(BARE);
    }
  });

  it('sent no lone CR or LF on the wire, so even a lenient receiver reads one MAIL FROM per message', () => {
    const wire = sink.wire().map((bytes) => bytes.toString('latin1'));
    const all = wire.join('');
    for (const n of VARIANTS.keys()) expect(all).toContain(`Subject: variant ${n}\r\n`);
    for (const connection of wire) expect(connection).not.toMatch(BARE);
    expect(wire.flatMap(sendersSeenByLenientReceiver)).toEqual(VARIANTS.map(() => 'alice@mx.local.test'));
  });
});

describe('SMTP_BARE_NEWLINE=reject: smuggling attempts are refused (§3)', () => {
  let d: TestDaemon;
  beforeAll(async () => {
    d = await startTestDaemon({ SMTP_BARE_NEWLINE: 'reject' });
  });
  afterAll(async () => {
    await d.stop();
  });

  it.each(VARIANTS.filter(([, variant]) => BARE.test(variant)))(
    'refuses %s with 550 5.6.0, stores nothing, and the session goes on',
    async (_name, variant) => {
      const before = (await allMessages(d.daemon.spool)).length;
      const client = await ehlo(d.port);
      try {
        await client.command('MAIL FROM:<alice@mx.local.test>');
        await client.command('RCPT TO:<bob@example.test>');
        await client.command('DATA');
        const end = await client.command(`${dataOf(0, variant)}.`);
        expect(end.code).toBe(550);
        expect(end.text).toMatch(/^5\.6\.0 .*bare CR or LF/);
        // the session is usable: a clean message right after is accepted
        await client.command('MAIL FROM:<alice@mx.local.test>');
        await client.command('RCPT TO:<bob@example.test>');
        await client.command('DATA');
        expect((await client.command('Subject: clean\r\n\r\nclean\r\n.')).code).toBe(250);
        expect((await client.command('QUIT')).code).toBe(221);
      } finally {
        client.close();
      }
      const stored = await allMessages(d.daemon.spool);
      expect(stored.length).toBe(before + 1);
    },
  );

  it.each(VARIANTS.filter(([, variant]) => !BARE.test(variant)))(
    'accepts %s (every line ends in CRLF: the NUL is content) as one message',
    async (_name, variant) => {
      const [end, quit] = await sendVariant(d.port, 0, variant);
      expect([end.code, quit.code]).toEqual([250, 221]);
    },
  );
});
