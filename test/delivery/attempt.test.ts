/**
 * One delivery attempt (src/delivery/attempt.ts): which addresses are dialled
 * and how they are named, and what the attempt comes to when hosts fail in
 * different ways, through the real SMTP transport to real sinks and a port
 * where nothing listens.
 */
import { Readable } from 'node:stream';
import { firstValueFrom, from } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  attemptDelivery,
  dialTargets,
  tryTargets,
  type AttemptOptions,
  type DialTarget,
} from '../../src/delivery/attempt.js';
import { SmtpTransport } from '../../src/delivery/transport.js';
import { freePort } from '../helpers/ports.js';
import { startSink, type Sink, type SinkOptions } from '../helpers/sink.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function sink(options: SinkOptions = {}): Promise<Sink> {
  const s = await startSink(options);
  cleanup.push(() => s.close());
  return s;
}

function options(extra: Partial<AttemptOptions> = {}): AttemptOptions & { readonly dialled: DialTarget[] } {
  const transport = new SmtpTransport({ hostname: 'mta.sender.test', tlsVerify: false });
  cleanup.push(() => transport.close());
  const dialled: DialTarget[] = [];
  return {
    dialled,
    resolve: () => Promise.reject(new Error('not used')),
    send: (target) =>
      from(
        transport.sendEnvelope({
          ...target,
          from: 'alice@sender.test',
          to: ['bob@d.test'],
          body: Readable.from([Buffer.from('Subject: x\r\n\r\nbody\r\n')]),
        }),
      ),
    port: 25,
    maxTargets: 5,
    retryBaseMs: 1,
    retryMaxMs: 2,
    random: () => 0.5,
    onDial: (target) => dialled.push(target),
    ...extra,
  };
}

describe('dialTargets', () => {
  const hosts = [
    { name: 'mx1.d.test', priority: 10, addresses: ['192.0.2.1', '2001:db8::1'] },
    { name: '192.0.2.9', priority: 20, addresses: ['192.0.2.9'] },
    { name: 'mx3.d.test', priority: 30, addresses: ['192.0.2.3'] },
  ];

  it('takes hosts × addresses in order, naming each, SNI for host names only', () => {
    expect(dialTargets(hosts, 25, 10)).toEqual([
      { host: '192.0.2.1', port: 25, label: 'mx1.d.test[192.0.2.1]:25', servername: 'mx1.d.test' },
      { host: '2001:db8::1', port: 25, label: 'mx1.d.test[2001:db8::1]:25', servername: 'mx1.d.test' },
      { host: '192.0.2.9', port: 25, label: '[192.0.2.9]:25' },
      { host: '192.0.2.3', port: 25, label: 'mx3.d.test[192.0.2.3]:25', servername: 'mx3.d.test' },
    ]);
  });

  it('stops at the limit, exactly', () => {
    expect(dialTargets(hosts, 2525, 3).map((t) => t.label)).toEqual([
      'mx1.d.test[192.0.2.1]:2525',
      'mx1.d.test[2001:db8::1]:2525',
      '[192.0.2.9]:2525',
    ]);
    expect(dialTargets(hosts, 25, 1)).toHaveLength(1);
  });
});

describe('tryTargets', () => {
  it('defers every recipient when there is no host to dial', async () => {
    const result = await firstValueFrom(tryTargets([], ['a@d.test', 'b@d.test'], options()));
    expect([...result.outcomes]).toEqual([
      ['a@d.test', { kind: 'deferred', response: '4.4.4 no host to deliver to' }],
      ['b@d.test', { kind: 'deferred', response: '4.4.4 no host to deliver to' }],
    ]);
    expect(result).not.toHaveProperty('relay');
  });

  it("keeps a later host's refusal of the message (5xx) even after an unreachable one", async () => {
    const refusing = await sink({ data: () => ({ code: 554, message: '5.7.1 not this message' }) });
    const targets: DialTarget[] = [
      { host: '127.0.0.1', port: await freePort(), label: 'down' },
      { host: '127.0.0.1', port: refusing.port, label: 'refusing' },
    ];
    const o = options();
    const result = await firstValueFrom(tryTargets(targets, ['bob@d.test'], o));
    expect(o.dialled.map((t) => t.label)).toEqual(['down', 'refusing']);
    expect([result.relay, result.remoteMta]).toEqual(['refusing', '127.0.0.1']);
    expect(result.outcomes.get('bob@d.test')).toMatchObject({ kind: 'failed' });
    expect(result).not.toHaveProperty('unreachable');
  });

  it('says whether the answering host offers DSN and how long the transaction took, only when it does', async () => {
    const withDsn = await sink();
    const o = options();
    const taken = await firstValueFrom(
      tryTargets([{ host: '127.0.0.1', port: withDsn.port, label: 'dsn' }], ['bob@d.test'], o),
    );
    expect(taken).toMatchObject({ answered: true, relay: 'dsn', dsn: true, transmitMs: expect.any(Number) });
    const withoutDsn = await sink({ dsn: false });
    const plain = await firstValueFrom(
      tryTargets([{ host: '127.0.0.1', port: withoutDsn.port, label: 'plain' }], ['bob@d.test'], o),
    );
    expect(plain.answered).toBe(true);
    expect(plain).not.toHaveProperty('dsn');
  });
});

describe('attemptDelivery through a relay', () => {
  it('dials the relay, named by its scheme, host and port', async () => {
    const relay = await sink();
    const o = options({ relay: { host: '127.0.0.1', port: relay.port } });
    const result = await firstValueFrom(attemptDelivery('d.test', ['bob@d.test'], o));
    expect(o.dialled.map((t) => t.label)).toEqual([`smtp://127.0.0.1:${relay.port}`]);
    expect(result.outcomes.get('bob@d.test')).toMatchObject({ kind: 'delivered' });
    expect(result.remoteMta).toBe('127.0.0.1'); // a DSN's Remote-MTA: the relay's host
  });
});
