import { createReadStream, type ReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { relayTarget, SmtpTransport, TransportError } from '../../src/delivery/transport.js';
import type { TransportOptions } from '../../src/delivery/transport.js';
import { eventually } from '../helpers/eventually.js';
import { freePort } from '../helpers/ports.js';
import { startSink } from '../helpers/sink.js';
import type { Sink } from '../helpers/sink.js';

const message = Buffer.from(
  [
    'From: alice@sender.test',
    'To: bob@example.test',
    'Subject: dots',
    '',
    'first line',
    '.a line starting with a dot',
    '..two dots',
    '.',
    'last line',
    '',
  ].join('\r\n'),
);

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function sink(options: Parameters<typeof startSink>[0] = {}): Promise<Sink> {
  const s = await startSink(options);
  cleanup.push(() => s.close());
  return s;
}

function transport(options: Partial<TransportOptions> = {}): SmtpTransport {
  const t = new SmtpTransport({ hostname: 'mta.sender.test', tlsVerify: false, ...options });
  cleanup.push(() => t.close());
  return t;
}

describe('createSmtpTransport', () => {
  it('delivers byte-for-byte, dot-stuffed lines included, with the right envelope and EHLO name', async () => {
    const s = await sink();
    const t = transport();
    const result = await t.sendEnvelope({
      host: s.host,
      port: s.port,
      from: 'alice@sender.test',
      to: ['bob@example.test', 'Carol@Example.test'],
      body: Readable.from([message.subarray(0, 20), message.subarray(20)]),
    });
    expect(result.recipients.map((r) => r.outcome.kind)).toEqual(['delivered', 'delivered']);
    expect(result.recipients[0]?.outcome.response).toMatch(/^250 /);
    const [got] = await s.waitForMessages(1);
    expect(got?.raw.equals(message)).toBe(true);
    expect(got?.from).toBe('alice@sender.test');
    expect(got?.to).toEqual(['bob@example.test', 'Carol@Example.test']);
    expect(got?.heloName).toBe('mta.sender.test');
  });

  it('sends the null sender as MAIL FROM:<>', async () => {
    const s = await sink();
    const t = transport();
    await t.sendEnvelope({
      host: s.host,
      port: s.port,
      from: '',
      to: ['bob@example.test'],
      body: Readable.from([message]),
    });
    expect((await s.waitForMessages(1))[0]?.from).toBe('');
  });

  it('keeps per-recipient results in one transaction', async () => {
    const s = await sink({
      rcpt: (a) =>
        a.startsWith('gone')
          ? { code: 550, message: '5.1.1 No such user' }
          : a.startsWith('full')
            ? { code: 452, message: '4.2.2 Mailbox full' }
            : undefined,
    });
    const t = transport();
    const result = await t.sendEnvelope({
      host: s.host,
      port: s.port,
      from: 'alice@sender.test',
      to: ['ok@example.test', 'gone@example.test', 'full@example.test'],
      body: Readable.from([message]),
    });
    expect(result.recipients).toEqual([
      { recipient: 'ok@example.test', outcome: { kind: 'delivered', response: expect.stringMatching(/^250 /) } },
      { recipient: 'gone@example.test', outcome: { kind: 'failed', response: '550 5.1.1 No such user' } },
      { recipient: 'full@example.test', outcome: { kind: 'deferred', response: '452 4.2.2 Mailbox full' } },
    ]);
    expect((await s.waitForMessages(1))[0]?.to).toEqual(['ok@example.test']);
  });

  it('reports every recipient when all are refused, and reuses the session afterwards', async () => {
    const s = await sink({
      rcpt: (a) => (a.startsWith('gone') ? { code: 550, message: '5.1.1 No such user' } : undefined),
    });
    const t = transport();
    const refused = await t.sendEnvelope({
      host: s.host,
      port: s.port,
      from: 'alice@sender.test',
      to: ['gone1@example.test', 'gone2@example.test'],
      body: Readable.from([message]),
    });
    expect(refused.recipients.map((r) => r.outcome)).toEqual([
      { kind: 'failed', response: '550 5.1.1 No such user' },
      { kind: 'failed', response: '550 5.1.1 No such user' },
    ]);
    // the session is parked again once its RSET is answered
    await eventually(
      () => t.parkedSessions === 1,
      3_000,
      () => 'the session parked after RSET',
    );
    const ok = await t.sendEnvelope({
      host: s.host,
      port: s.port,
      from: 'a@sender.test',
      to: ['x@example.test'],
      body: Readable.from([message]),
    });
    expect(ok.recipients[0]?.outcome.kind).toBe('delivered');
    expect(ok.reused).toBe(true);
    expect(s.connections()).toBe(1);
  });

  it('maps a 4xx DATA reply to deferred and a 5xx to failed for all recipients', async () => {
    const s = await sink({
      data: (n) => (n === 1 ? { code: 451, message: '4.3.0 later' } : { code: 554, message: '5.6.0 spam' }),
    });
    const t = transport();
    const send = () =>
      t.sendEnvelope({
        host: s.host,
        port: s.port,
        from: 'a@sender.test',
        to: ['x@example.test', 'y@example.test'],
        body: Readable.from([message]),
      });
    expect((await send()).recipients.map((r) => r.outcome)).toEqual([
      { kind: 'deferred', response: '451 4.3.0 later' },
      { kind: 'deferred', response: '451 4.3.0 later' },
    ]);
    expect((await send()).recipients.map((r) => r.outcome.kind)).toEqual(['failed', 'failed']);
  });

  it('reuses one connection for consecutive messages to the same host', async () => {
    const s = await sink();
    const t = transport();
    for (let i = 0; i < 3; i += 1) {
      const r = await t.sendEnvelope({
        host: s.host,
        port: s.port,
        from: 'a@sender.test',
        to: [`r${i}@example.test`],
        body: Readable.from([message]),
      });
      expect(r.reused).toBe(i > 0);
    }
    const got = await s.waitForMessages(3);
    expect(new Set(got.map((m) => m.connectionId)).size).toBe(1);
    expect(s.connections()).toBe(1);
  });

  it('closes idle sessions after the idle timeout', async () => {
    const s = await sink();
    const t = transport({ idleTimeoutMs: 50 });
    await t.sendEnvelope({
      host: s.host,
      port: s.port,
      from: 'a@sender.test',
      to: ['r@example.test'],
      body: Readable.from([message]),
    });
    await eventually(
      () => s.sessionsClosed() === 1,
      3_000,
      () => 'the idle session to end at the sink',
    );
    const r = await t.sendEnvelope({
      host: s.host,
      port: s.port,
      from: 'a@sender.test',
      to: ['r@example.test'],
      body: Readable.from([message]),
    });
    expect(r.reused).toBe(false);
    expect(s.connections()).toBe(2);
  });

  it('upgrades with STARTTLS when offered; a self-signed certificate defers when verification is on', async () => {
    const s = await sink({ tls: 'starttls' });
    const lax = transport({ tlsVerify: false });
    await lax.sendEnvelope({
      host: s.host,
      port: s.port,
      servername: 'localhost',
      from: 'a@sender.test',
      to: ['r@example.test'],
      body: Readable.from([message]),
    });
    expect((await s.waitForMessages(1))[0]?.secure).toBe(true);

    const strict = transport({ tlsVerify: true });
    const err = await strict
      .sendEnvelope({
        host: s.host,
        port: s.port,
        servername: 'localhost',
        from: 'a@sender.test',
        to: ['r@example.test'],
        body: Readable.from([message]),
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).classification).toMatchObject({ kind: 'deferred', scope: 'host' });
  });

  it('relays with AUTH over smtp:// (STARTTLS required) and smtps://', async () => {
    const auth = { user: 'relayuser', pass: 's3cret' };
    const starttls = await sink({ tls: 'starttls', auth });
    const implicit = await sink({ tls: 'implicit', auth });
    const t = transport();
    for (const s of [starttls, implicit]) {
      const target = relayTarget({ secure: s === implicit, host: s.host, port: s.port, ...auth });
      const r = await t.sendEnvelope({
        ...target,
        from: 'a@sender.test',
        to: ['r@example.test'],
        body: Readable.from([message]),
      });
      expect(r.recipients[0]?.outcome.kind).toBe('delivered');
      const [got] = await s.waitForMessages(1);
      expect(got).toMatchObject({ user: 'relayuser', secure: true });
    }
  });

  it('defers (host failure) on wrong relay credentials', async () => {
    const s = await sink({ tls: 'implicit', auth: { user: 'u', pass: 'right' } });
    const t = transport();
    const target = relayTarget({ secure: true, host: s.host, port: s.port, user: 'u', pass: 'wrong' });
    const err = await t
      .sendEnvelope({ ...target, from: 'a@sender.test', to: ['r@example.test'], body: Readable.from([message]) })
      .catch((e: unknown) => e);
    expect((err as TransportError).classification).toMatchObject({ kind: 'deferred', scope: 'host' });
    expect((err as TransportError).classification.response).toMatch(/535/);
  });

  it('times out on a server that never answers', async () => {
    const s = await sink({ hang: true });
    const t = transport({ greetingTimeoutMs: 200 });
    const err = await t
      .sendEnvelope({
        host: s.host,
        port: s.port,
        from: 'a@sender.test',
        to: ['r@example.test'],
        body: Readable.from([message]),
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).classification).toMatchObject({ kind: 'deferred', scope: 'host' });
  });

  it('refused connections are host failures', async () => {
    const s = await sink();
    await s.close();
    cleanup.length = 0;
    const t = transport();
    const err = await t
      .sendEnvelope({
        host: s.host,
        port: s.port,
        from: 'a@sender.test',
        to: ['r@example.test'],
        body: Readable.from([message]),
      })
      .catch((e: unknown) => e);
    expect((err as TransportError).classification).toMatchObject({ kind: 'deferred', scope: 'host' });
    expect((err as TransportError).classification.response).toMatch(/^4\.4\.1 /);
  });
});

describe('createSmtpTransport streaming', () => {
  it('streams the body: the producer never runs far ahead of the server (socket buffers only)', async () => {
    const s = await sink({ keepBodies: false });
    const t = transport();
    const chunk = Buffer.from(('x'.repeat(1022) + '\r\n').repeat(64)); // 64 KiB of 1 KiB lines
    const total = 384; // 24 MiB: more than kernel socket buffers can hide
    let produced = 0;
    let maxLead = 0;
    async function* body(): AsyncGenerator<Buffer> {
      yield Buffer.from('Subject: big\r\n\r\n');
      for (let i = 0; i < total; i += 1) {
        maxLead = Math.max(maxLead, produced - s.bytesReceived());
        produced += chunk.length;
        yield chunk;
      }
    }
    const result = await t.sendEnvelope({
      host: s.host,
      port: s.port,
      from: 'a@sender.test',
      to: ['r@example.test'],
      body: Readable.from(body(), { objectMode: false }),
    });
    expect(result.recipients[0]?.outcome.kind).toBe('delivered');
    expect(s.bytesReceived()).toBe(produced + 'Subject: big\r\n\r\n'.length);
    // loopback socket buffers hold a few MiB; a buffered body would lead by the whole 24 MiB
    expect(maxLead).toBeLessThan(10 * 1024 * 1024);
  });
});

describe('a body the transaction never reads', () => {
  /** A message in a file (as the spool keeps bodies over 128 KiB), its descriptor open. */
  async function fileBody(): Promise<{ body: ReadStream; cleanup: () => Promise<void> }> {
    const dir = await mkdtemp(join(tmpdir(), 'gp-transport-'));
    const file = join(dir, 'message.eml');
    await writeFile(file, message);
    const body = createReadStream(file);
    await new Promise((resolve) => body.once('open', resolve));
    return { body, cleanup: () => rm(dir, { recursive: true, force: true }) };
  }

  it('is closed when every recipient is refused (no DATA)', async () => {
    const s = await sink({ rcpt: () => ({ code: 550, message: '5.1.1 No such user' }) });
    const { body, cleanup: remove } = await fileBody();
    cleanup.push(remove);
    const result = await transport().sendEnvelope({
      host: s.host,
      port: s.port,
      from: 'a@sender.test',
      to: ['b@example.test'],
      body,
    });
    expect(result.recipients[0]?.outcome.kind).toBe('failed');
    await eventually(() => body.destroyed && body.closed);
  });

  it('is closed when the host cannot be reached', async () => {
    const s = await sink();
    const port = s.port;
    await s.close();
    const { body, cleanup: remove } = await fileBody();
    cleanup.push(remove);
    const sent = transport().sendEnvelope({
      host: '127.0.0.1',
      port,
      from: 'a@sender.test',
      to: ['b@example.test'],
      body,
    });
    await expect(sent).rejects.toBeInstanceOf(TransportError);
    await eventually(() => body.destroyed && body.closed);
  });
});

describe('SmtpTransport at the edges of a transaction', () => {
  const envelope = { from: 'alice@sender.test', to: ['bob@example.test', 'carol@example.test'] };

  it('takes nothing for an empty envelope', async () => {
    const s = await sink();
    const result = await transport().sendEnvelope({
      host: s.host,
      port: s.port,
      ...envelope,
      to: [],
      body: Readable.from([message]),
    });
    expect(result).toEqual({ reused: false, recipients: [], transmitMs: 0, dsn: false });
  });

  it('does not take a parked session once shut down either', async () => {
    const s = await sink();
    const t = transport();
    await t.sendEnvelope({ host: s.host, port: s.port, ...envelope, body: Readable.from([message]) });
    expect(t.parkedSessions).toBe(1);
    const aborted = new AbortController();
    aborted.abort();
    const error = await t
      .sendEnvelope({ host: s.host, port: s.port, ...envelope, body: Readable.from([message]), signal: aborted.signal })
      .catch((e: unknown) => e);
    expect((error as TransportError).cause).toMatchObject({ message: 'delivery aborted (shutdown)' });
    expect(s.messages).toHaveLength(1);
  });

  it('does not connect once shut down: a host failure naming the shutdown', async () => {
    const s = await sink();
    const aborted = new AbortController();
    aborted.abort();
    const error = await transport()
      .sendEnvelope({ host: s.host, port: s.port, ...envelope, body: Readable.from([message]), signal: aborted.signal })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).cause).toMatchObject({ message: 'delivery aborted (shutdown)', command: 'CONN' });
  });

  it('treats a 421 to the message as the server closing: a host failure naming the step', async () => {
    const s = await sink({ data: () => ({ code: 421, message: '4.3.2 shutting down' }) });
    const error = await transport()
      .sendEnvelope({ host: s.host, port: s.port, ...envelope, body: Readable.from([message]) })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).cause).toMatchObject({
      command: 'DATA',
      message: expect.stringMatching(/^the server is closing: 421 /),
    });
  });

  it('makes a message that cannot be read a failure of this try, to be tried again (not a verdict)', async () => {
    const s = await sink();
    async function* unreadable(): AsyncGenerator<Buffer> {
      yield Buffer.from('Subject: x\r\n');
      throw new Error('EIO: i/o error, read');
    }
    const error = await transport()
      .sendEnvelope({ host: s.host, port: s.port, ...envelope, body: unreadable() })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).classification).toEqual({
      kind: 'deferred',
      scope: 'message',
      response: '4.3.0 reading the message failed: EIO: i/o error, read',
    });
  });
});

describe('SmtpTransport around its sessions', () => {
  const plain = Buffer.from('From: alice@sender.test\r\nSubject: t\r\n\r\nbody\r\n');
  const pair = { from: 'alice@sender.test', to: ['bob@example.test', 'carol@example.test'] };
  const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

  it('names the host and the reason in a failure with no verdict', async () => {
    const port = await freePort();
    const error = await transport()
      .sendEnvelope({ host: '127.0.0.1', port, ...pair, body: Readable.from([plain]) })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    const e = error as TransportError;
    expect(e.name).toBe('TransportError');
    expect(e.target).toBe(`127.0.0.1:${port}`);
    expect(e.message).toBe(`127.0.0.1:${port}: ${e.classification.response}`);
    expect(e.classification.response).toMatch(/^4\.4\.1 .*ECONNREFUSED/);
  });

  it('adds up the time spent in transactions, the end-of-DATA wait included', async () => {
    const s = await sink({ limits: { rcptMax: 1 }, beforeDataReply: () => wait(150) });
    const result = await transport().sendEnvelope({
      host: s.host,
      port: s.port,
      ...pair,
      body: Readable.from([plain]),
      reopenBody: () => Promise.resolve(Readable.from([plain])),
    });
    expect(result.recipients.map((r) => r.outcome.kind)).toEqual(['delivered', 'delivered']);
    expect(s.transactions()).toBe(2);
    expect(result.transmitMs).toBeGreaterThanOrEqual(290);
  });

  it('reports the TLS a session used, and none in clear', async () => {
    const secure = await sink({ tls: 'starttls' });
    const clear = await sink();
    const t = transport();
    const overTls = await t.sendEnvelope({
      host: secure.host,
      port: secure.port,
      ...pair,
      body: Readable.from([plain]),
    });
    expect(overTls.tls).toMatchObject({ protocol: expect.stringMatching(/^TLSv1\.[23]$/) });
    const inClear = await t.sendEnvelope({
      host: clear.host,
      port: clear.port,
      ...pair,
      body: Readable.from([plain]),
    });
    expect(inClear).not.toHaveProperty('tls');
  });

  it('defers the recipients past the host’s limit with the reason when the body cannot be read again', async () => {
    const s = await sink({ limits: { rcptMax: 1 } });
    const result = await transport().sendEnvelope({
      host: s.host,
      port: s.port,
      ...pair,
      body: Readable.from([plain]),
    });
    expect(result.recipients).toEqual([
      { recipient: 'bob@example.test', outcome: { kind: 'delivered', response: expect.stringMatching(/^250 /) } },
      {
        recipient: 'carol@example.test',
        outcome: {
          kind: 'deferred',
          response:
            '4.5.3 more recipients than the server takes in one transaction; the rest wait for the next attempt',
        },
      },
    ]);
  });

  it('closes the session when a shutdown comes in the middle of a transaction, without waiting for the server', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    cleanup.push(() => Promise.resolve(release()));
    const s = await sink({ beforeDataReply: () => held });
    const shutdown = new AbortController();
    const sending = transport({ socketTimeoutMs: 60_000 })
      .sendEnvelope({
        host: s.host,
        port: s.port,
        ...pair,
        body: Readable.from([plain]),
        signal: shutdown.signal,
      })
      .catch((e: unknown) => e);
    await eventually(
      () => s.bytesReceived() >= plain.length,
      3_000,
      () => 'the body to reach the sink',
    );
    shutdown.abort();
    const error = await sending;
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).classification.kind).toBe('deferred');
    await eventually(
      () => s.sessionsClosed() === 1,
      3_000,
      () => 'the sink to see the connection go',
    );
  });

  it('stops listening for a shutdown once the transaction is over: the parked session survives it', async () => {
    const s = await sink();
    const t = transport();
    const shutdown = new AbortController();
    await t.sendEnvelope({
      host: s.host,
      port: s.port,
      ...pair,
      body: Readable.from([plain]),
      signal: shutdown.signal,
    });
    shutdown.abort(); // abort listeners run now, within this call
    const again = await t.sendEnvelope({ host: s.host, port: s.port, ...pair, body: Readable.from([plain]) });
    expect(again.reused).toBe(true);
    expect(s.connections()).toBe(1);
  });

  it('QUITs its idle sessions at close', async () => {
    const s = await sink();
    const t = new SmtpTransport({ hostname: 'mta.sender.test', tlsVerify: false, idleTimeoutMs: 60_000 });
    await t.sendEnvelope({ host: s.host, port: s.port, ...pair, body: Readable.from([plain]) });
    expect(t.parkedSessions).toBe(1);
    await t.close();
    expect(t.parkedSessions).toBe(0);
    await eventually(
      () => s.sessionsClosed() === 1,
      3_000,
      () => 'the idle session to end',
    );
  });
});
