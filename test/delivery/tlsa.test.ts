/**
 * Authenticating a certificate chain by TLSA records (SPEC §5, RFC 7672
 * §3.1, RFC 6698): DANE-EE matches the server's own certificate or key and
 * ignores names and expiry; DANE-TA needs a matching anchor the chain is
 * signed up to, a current certificate and one of the reference names; PKIX
 * usages and malformed digests are unusable.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  authenticateByTlsa,
  certMatches,
  peerChain,
  decodeTlsa,
  tlsaKey,
  usableTlsa,
  type TlsaAuthentication,
  type TlsaRecord,
} from '../../src/delivery/tls/tlsa.js';
import { testCa } from '../helpers/pki.js';

let ca: X509Certificate;
let good: X509Certificate;
let expired: X509Certificate;
let wrongname: X509Certificate;

beforeAll(async () => {
  const authority = await testCa();
  ca = new X509Certificate(authority.cert);
  good = new X509Certificate((await authority.issue('mx.good.test')).cert);
  expired = new X509Certificate((await authority.issue('mx.expired.test', { expired: true })).cert);
  wrongname = new X509Certificate((await authority.issue('somewhere-else.test')).cert);
});

const spki = (cert: X509Certificate): Buffer => cert.publicKey.export({ type: 'spki', format: 'der' });
const sha256 = (bytes: Buffer): Buffer => createHash('sha256').update(bytes).digest();
const sha512 = (bytes: Buffer): Buffer => createHash('sha512').update(bytes).digest();
const record = (usage: number, selector: number, mtype: number, data: Buffer): TlsaRecord => ({
  usage,
  selector,
  mtype,
  data,
});
const auth = (records: TlsaRecord[], names = ['mx.good.test', 'good.test']): TlsaAuthentication => ({
  base: '_25._tcp.mx.good.test',
  records,
  names,
});

describe('decodeTlsa and usableTlsa', () => {
  it('reads usage, selector, matching type and data from the RDATA', () => {
    const rdata = Buffer.concat([Buffer.from([3, 1, 1]), Buffer.alloc(32, 0xab)]);
    expect(decodeTlsa(rdata)).toEqual({ usage: 3, selector: 1, mtype: 1, data: Buffer.alloc(32, 0xab) });
    expect(decodeTlsa(Buffer.from([3, 1, 1]))).toBeUndefined();
    expect(decodeTlsa(Buffer.from([2, 0, 0, 7]))).toEqual({ usage: 2, selector: 0, mtype: 0, data: Buffer.from([7]) });
  });

  it.each([
    [3, 1, 1, 32, true],
    [3, 0, 2, 64, true],
    [2, 0, 1, 32, true],
    [2, 1, 0, 10, true],
    [1, 1, 1, 32, false],
    [0, 0, 1, 32, false],
    [3, 2, 1, 32, false],
    [3, 1, 3, 32, false],
    [3, 1, 1, 31, false],
    [3, 1, 2, 32, false],
    [3, 1, 0, 0, false],
  ])('%i %i %i with %i bytes usable for SMTP: %s', (usage, selector, mtype, length, usable) => {
    expect(usableTlsa(record(usage, selector, mtype, Buffer.alloc(length, 1)))).toBe(usable);
  });
});

describe('certMatches', () => {
  it('matches the whole certificate or its key, exactly or by SHA-256 / SHA-512', () => {
    expect(certMatches(good, record(3, 0, 0, good.raw))).toBe(true);
    expect(certMatches(good, record(3, 0, 1, sha256(good.raw)))).toBe(true);
    expect(certMatches(good, record(3, 0, 2, sha512(good.raw)))).toBe(true);
    expect(certMatches(good, record(3, 1, 1, sha256(spki(good))))).toBe(true);
    expect(certMatches(good, record(3, 0, 1, sha256(wrongname.raw)))).toBe(false);
    expect(certMatches(good, record(3, 1, 1, Buffer.alloc(32)))).toBe(false);
  });
});

describe('authenticateByTlsa', () => {
  it('DANE-EE: the key of an expired certificate for another name is enough', () => {
    const verdict = authenticateByTlsa([expired], auth([record(3, 1, 1, sha256(spki(expired)))]));
    expect(verdict).toEqual({ ok: true, detail: 'DANE-EE 3 1 1 of _25._tcp.mx.good.test' });
  });

  it('DANE-EE: another certificate does not match', () => {
    const verdict = authenticateByTlsa([good, ca], auth([record(3, 0, 1, sha256(wrongname.raw))]));
    expect(verdict).toEqual({ ok: false, detail: 'the certificate matches no TLSA record of _25._tcp.mx.good.test' });
  });

  it('DANE-TA: the chain the server sent up to the matching anchor, the name checked', () => {
    const verdict = authenticateByTlsa([good, ca], auth([record(2, 0, 1, sha256(ca.raw))]));
    expect(verdict).toEqual({ ok: true, detail: 'DANE-TA 2 0 1 of _25._tcp.mx.good.test, mx.good.test' });
  });

  it('DANE-TA: the destination domain is a reference name too', () => {
    const names = ['mx.other.test', 'somewhere-else.test'];
    expect(authenticateByTlsa([wrongname, ca], auth([record(2, 0, 1, sha256(ca.raw))], names)).ok).toBe(true);
  });

  it('DANE-TA: a digest of an anchor the server did not send matches nothing; the full certificate does', () => {
    expect(authenticateByTlsa([good], auth([record(2, 0, 1, sha256(ca.raw))])).ok).toBe(false);
    expect(authenticateByTlsa([good], auth([record(2, 0, 0, ca.raw)])).ok).toBe(true);
  });

  it('DANE-TA: the server certificate itself is no anchor', () => {
    expect(authenticateByTlsa([good], auth([record(2, 0, 1, sha256(good.raw))])).ok).toBe(false);
  });

  it('DANE-TA: a certificate for another name fails', () => {
    const verdict = authenticateByTlsa([wrongname, ca], auth([record(2, 0, 1, sha256(ca.raw))]));
    expect(verdict).toEqual({
      ok: false,
      detail: 'the certificate names none of mx.good.test, good.test (DANE-TA of _25._tcp.mx.good.test)',
    });
  });

  it('DANE-TA: an expired certificate fails', () => {
    const verdict = authenticateByTlsa([expired, ca], auth([record(2, 0, 1, sha256(ca.raw))], ['mx.expired.test']));
    expect(verdict.ok).toBe(false);
    expect(verdict.detail).toMatch(/^the certificate is not current/);
  });

  it('DANE-TA: a chain whose links are not signed by the next fails', () => {
    // the anchor matches but is not the server certificate's issuer
    const verdict = authenticateByTlsa([good, wrongname], auth([record(2, 0, 1, sha256(wrongname.raw))]));
    expect(verdict.ok).toBe(false);
  });

  it('no certificate is no authentication', () => {
    expect(authenticateByTlsa([], auth([record(3, 0, 0, good.raw)])).ok).toBe(false);
  });
});

describe('tlsaKey', () => {
  it('differs when the records or the names differ, and only then', () => {
    const ee = record(3, 1, 1, Buffer.alloc(32, 1));
    const key = tlsaKey(auth([ee]));
    expect(tlsaKey(auth([record(3, 1, 1, Buffer.alloc(32, 1))]))).toBe(key);
    expect(tlsaKey(auth([record(3, 1, 1, Buffer.alloc(32, 2))]))).not.toBe(key);
    expect(tlsaKey(auth([ee], ['mx.good.test', 'other.test']))).not.toBe(key);
  });
});

describe('tlsaKey and peerChain', () => {
  it('keys a session by its records and names, line by line, in 16 hex digits', () => {
    const records = [record(3, 1, 1, Buffer.alloc(32, 1))];
    const key = tlsaKey(auth(records, ['ab']));
    expect(key).toMatch(/^[0-9a-f]{16}$/);
    expect(tlsaKey(auth(records, ['a', 'b']))).not.toBe(key);
    expect(tlsaKey(auth(records, ['ab']))).toBe(key);
  });

  it("follows node's issuer links up to a self-issued certificate, at most 16", () => {
    type Peer = NonNullable<Parameters<typeof peerChain>[0]>;
    const link = (raw: Buffer, issuer?: Peer): Peer => ({ raw, issuerCertificate: issuer }) as unknown as Peer;
    const root = link(ca.raw);
    (root as { issuerCertificate: Peer }).issuerCertificate = root; // node links a self-signed root to itself
    expect(peerChain(link(good.raw, root)).map((c) => c.subject)).toEqual([good.subject, ca.subject]);
    let long = link(good.raw);
    for (let i = 0; i < 20; i += 1) long = link(good.raw, long);
    expect(peerChain(long)).toHaveLength(16);
    expect(peerChain(undefined)).toEqual([]);
  });

  it('says when the server sent no certificate', () => {
    expect(authenticateByTlsa([], auth([record(3, 1, 1, sha256(spki(good)))]))).toEqual({
      ok: false,
      detail: 'the server sent no certificate (TLSA _25._tcp.mx.good.test)',
    });
  });
});
