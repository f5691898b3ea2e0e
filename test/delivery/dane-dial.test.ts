/**
 * The DANE hook of the outbound session (SPEC §5, RFC 7672 §3): with TLSA
 * records, STARTTLS's handshake is judged by them and not by certificate
 * authorities, against real TLS sinks: an expired certificate whose key a
 * DANE-EE record names is taken, a certificate no record names is refused
 * and the session does not open, and a CA that the session does not trust is a
 * DANE-TA anchor all the same (while a record naming no certificate of the
 * chain is refused). Through the transport too: its sessions get the TLSA
 * records and the CAs it was configured with.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmtpSession, type SessionOptions } from '../../src/delivery/smtp/session.js';
import type { TlsaAuthentication, TlsaRecord } from '../../src/delivery/tls/tlsa.js';
import { createSmtpTransport, type SendRequest } from '../../src/delivery/transport.js';
import { startTlsWorld, type SinkKind, type TlsWorld } from '../helpers/tls-world.js';

let world: TlsWorld;

beforeAll(async () => {
  world = await startTlsWorld();
});

afterAll(async () => {
  await world?.close();
});

const sha256 = (bytes: Buffer): Buffer => createHash('sha256').update(bytes).digest();
const certOf = (kind: SinkKind): X509Certificate => new X509Certificate(world.certificate(kind) ?? '');

function options(kind: SinkKind, records: TlsaRecord[]): SessionOptions {
  const tlsa: TlsaAuthentication = { base: `_${world.port}._tcp.${world.mx(kind)}`, records, names: [world.mx(kind)] };
  return {
    host: world.address(kind),
    port: world.port,
    servername: world.mx(kind),
    // what the guard dials a DANE host with: TLS required, no CA check of its own
    tlsVerify: false,
    requireTls: true,
    tlsa,
    name: 'client.test',
    connectTimeoutMs: 5_000,
    greetingTimeoutMs: 5_000,
    socketTimeoutMs: 5_000,
  };
}

describe('SmtpSession with TLSA records', () => {
  it('takes an expired certificate whose key a DANE-EE record names', async () => {
    const spki = certOf('expired').publicKey.export({ type: 'spki', format: 'der' });
    const session = await SmtpSession.open(
      options('expired', [{ usage: 3, selector: 1, mtype: 1, data: sha256(spki) }]),
    );
    expect(session.encrypted).toBe(true);
    // certificate authorities said no: the records alone let it through
    expect(session.tls?.authorized).toBe(false);
    session.close();
  });

  it('takes it even when certificates are otherwise checked (no CA check under TLSA)', async () => {
    const spki = certOf('expired').publicKey.export({ type: 'spki', format: 'der' });
    const records = [{ usage: 3, selector: 1, mtype: 1, data: sha256(spki) }];
    const session = await SmtpSession.open({ ...options('expired', records), tlsVerify: true });
    expect(session.encrypted).toBe(true);
    session.close();
  });

  it('refuses a certificate no record names (the session does not open), even one CAs would accept', async () => {
    const other = { usage: 3, selector: 0, mtype: 1, data: sha256(certOf('wrongname').raw) };
    const before = world.sinks.good.messages.length;
    const opened = SmtpSession.open({ ...options('good', [other]), tlsVerify: true, ca: [world.ca.cert] });
    await expect(opened).rejects.toMatchObject({
      code: 'ETLS',
      command: 'STARTTLS',
      message: expect.stringMatching(/^DANE: the certificate matches no TLSA record of _\d+\._tcp\.mx\.good\.test$/),
      cause: { code: 'ERR_DANE_CERTIFICATE_MISMATCH' },
    });
    expect(world.sinks.good.messages.length).toBe(before);
  });

  it('takes a DANE-TA anchor from the chain the server sends, with no CA configured', async () => {
    const anchor = { usage: 2, selector: 0, mtype: 1, data: sha256(new X509Certificate(world.ca.cert).raw) };
    const session = await SmtpSession.open(options('good', [anchor]));
    expect(session.encrypted).toBe(true);
    session.close();
  });

  it('refuses a DANE-TA anchor for a server whose certificate names another host', async () => {
    const anchor = { usage: 2, selector: 0, mtype: 0, data: new X509Certificate(world.ca.cert).raw };
    await expect(SmtpSession.open(options('wrongname', [anchor]))).rejects.toMatchObject({
      code: 'ETLS',
      message: expect.stringMatching(/names none of mx\.wrongname\.test/),
    });
  });

  it('refuses a DANE-TA record that names no certificate of the chain, though the chain is signed link by link', async () => {
    const elsewhere = { usage: 2, selector: 0, mtype: 1, data: sha256(certOf('wrongname').raw) };
    await expect(SmtpSession.open(options('good', [elsewhere]))).rejects.toMatchObject({
      code: 'ETLS',
      message: expect.stringMatching(/matches no TLSA record/),
    });
  });
  it('refuses a DANE-EE record that names the CA: under usage 3 only the certificate of the server counts', async () => {
    const ca = { usage: 3, selector: 0, mtype: 1, data: sha256(new X509Certificate(world.ca.cert).raw) };
    await expect(SmtpSession.open(options('good', [ca]))).rejects.toMatchObject({
      code: 'ETLS',
      message: expect.stringMatching(/matches no TLSA record/),
    });
  });
});

describe('the transport passes TLSA records and configured CAs to its sessions', () => {
  const request = (kind: SinkKind, extra: Partial<SendRequest>): SendRequest => {
    const o = options(kind, []);
    return {
      host: o.host,
      port: o.port,
      servername: world.mx(kind),
      requireTls: true,
      from: 'alice@sender.test',
      to: ['bob@good.test'],
      body: (async function* () {
        yield Buffer.from('Subject: dane\r\n\r\nbody\r\n');
      })(),
      ...extra,
    };
  };

  it('refuses, through the transport, a certificate no TLSA record names', async () => {
    const transport = createSmtpTransport({ hostname: 'client.test', tlsVerify: false });
    try {
      const other = { usage: 3, selector: 0, mtype: 1, data: sha256(certOf('wrongname').raw) };
      const tlsa = options('good', [other]).tlsa;
      const before = world.sinks.good.messages.length;
      await expect(
        transport.sendEnvelope(request('good', { tlsVerify: false, ...(tlsa ? { tlsa } : {}) })),
      ).rejects.toMatchObject({
        name: 'TransportError',
        cause: { code: 'ETLS', message: expect.stringMatching(/matches no TLSA record/) },
      });
      expect(world.sinks.good.messages.length).toBe(before);
    } finally {
      await transport.close();
    }
  });

  it('verifies a certificate by the CAs it was given (SMTP_OUTBOUND_CA_FILE), and not without them', async () => {
    const trusting = createSmtpTransport({ hostname: 'client.test', tlsVerify: true, ca: [world.ca.cert] });
    const plain = createSmtpTransport({ hostname: 'client.test', tlsVerify: true });
    try {
      const sent = await trusting.sendEnvelope(request('good', { tlsVerify: true }));
      expect(sent.recipients.map((r) => r.outcome.kind)).toEqual(['delivered']);
      await expect(plain.sendEnvelope(request('good', { tlsVerify: true }))).rejects.toMatchObject({
        name: 'TransportError',
        cause: { code: 'ETLS' },
      });
    } finally {
      await trusting.close();
      await plain.close();
    }
  });
});
