/**
 * The transport around its sessions (src/delivery/transport.ts), against
 * real sinks: what a failure with no verdict says, how long the transactions
 * took, the TLS a session used, a shutdown in the middle of a transaction,
 * recipients past the host's limit without a way to read the body again, and
 * idle sessions at close.
 */
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { SmtpTransport, TransportError, type TransportOptions } from '../../src/delivery/transport.js';
import { eventually } from '../helpers/eventually.js';
import { freePort } from '../helpers/ports.js';
import { startSink, type Sink } from '../helpers/sink.js';

const message = Buffer.from('From: alice@sender.test\r\nSubject: t\r\n\r\nbody\r\n');
const envelope = { from: 'alice@sender.test', to: ['bob@example.test', 'carol@example.test'] };

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

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('transport', () => {
  it('names the host and the reason in a failure with no verdict', async () => {
    const port = await freePort();
    const error = await transport()
      .sendEnvelope({ host: '127.0.0.1', port, ...envelope, body: Readable.from([message]) })
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
      ...envelope,
      body: Readable.from([message]),
      reopenBody: () => Promise.resolve(Readable.from([message])),
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
      ...envelope,
      body: Readable.from([message]),
    });
    expect(overTls.tls).toMatchObject({ protocol: expect.stringMatching(/^TLSv1\.[23]$/) });
    const inClear = await t.sendEnvelope({
      host: clear.host,
      port: clear.port,
      ...envelope,
      body: Readable.from([message]),
    });
    expect(inClear).not.toHaveProperty('tls');
  });

  it('defers the recipients past the host’s limit with the reason when the body cannot be read again', async () => {
    const s = await sink({ limits: { rcptMax: 1 } });
    const result = await transport().sendEnvelope({
      host: s.host,
      port: s.port,
      ...envelope,
      body: Readable.from([message]),
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
        ...envelope,
        body: Readable.from([message]),
        signal: shutdown.signal,
      })
      .catch((e: unknown) => e);
    await eventually(
      () => s.bytesReceived() >= message.length,
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
      ...envelope,
      body: Readable.from([message]),
      signal: shutdown.signal,
    });
    shutdown.abort(); // abort listeners run now, within this call
    const again = await t.sendEnvelope({ host: s.host, port: s.port, ...envelope, body: Readable.from([message]) });
    expect(again.reused).toBe(true);
    expect(s.connections()).toBe(1);
  });

  it('QUITs its idle sessions at close', async () => {
    const s = await sink();
    const t = new SmtpTransport({ hostname: 'mta.sender.test', tlsVerify: false, idleTimeoutMs: 60_000 });
    await t.sendEnvelope({ host: s.host, port: s.port, ...envelope, body: Readable.from([message]) });
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
