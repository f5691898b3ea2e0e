/**
 * TLSA records (RFC 6698, RFC 7671) and authenticating a server's
 * certificate chain by them as RFC 7672 §3.1 wants for SMTP (pure).
 *
 * Usable for SMTP: DANE-TA(2) and DANE-EE(3), selector 0 (whole
 * certificate) or 1 (SubjectPublicKeyInfo), matching 0 (exact), 1 (SHA-256)
 * or 2 (SHA-512); PKIX-TA(0) and PKIX-EE(1) are not (RFC 7672 §3.1.3).
 *
 * - DANE-EE: the server's own certificate (or its key) matches; no name,
 *   no expiry, no chain is checked (RFC 7672 §3.1.1).
 * - DANE-TA: a certificate of the chain the server sent (or the record's
 *   own full certificate, `2 0 0`) matches, the chain from the server's
 *   certificate up to it is signed link by link, and the server's
 *   certificate is current and names the MX host or the destination domain
 *   (RFC 7672 §3.1.2, §3.2.2).
 */
import { createHash, X509Certificate } from 'node:crypto';
import type { DetailedPeerCertificate } from 'node:tls';

export interface TlsaRecord {
  readonly usage: number;
  readonly selector: number;
  readonly mtype: number;
  /** The association data (a certificate, a key, or a digest of one). */
  readonly data: Buffer;
}

/** What the server must prove: the usable records, and the names a DANE-TA certificate may carry. */
export interface TlsaAuthentication {
  /** `_25._tcp.mx.example.com`, for messages. */
  readonly base: string;
  readonly records: readonly TlsaRecord[];
  readonly names: readonly string[];
}

/** TLSA RDATA (RFC 6698 §2.1): usage, selector, matching type, then the data. */
export function decodeTlsa(rdata: Buffer): TlsaRecord | undefined {
  if (rdata.length < 4) return undefined;
  return { usage: rdata[0] ?? 0, selector: rdata[1] ?? 0, mtype: rdata[2] ?? 0, data: Buffer.from(rdata.subarray(3)) };
}

const DIGEST_LENGTH: Readonly<Record<number, number>> = { 1: 32, 2: 64 };

/** A record SMTP may use (RFC 7672 §3.1.3); a digest of the wrong length is malformed, so unusable. */
export function usableTlsa(record: TlsaRecord): boolean {
  if (record.usage !== 2 && record.usage !== 3) return false;
  if (record.selector !== 0 && record.selector !== 1) return false;
  if (record.mtype === 0) return record.data.length > 0;
  // an unknown matching type has no length: nothing equals it
  return record.data.length === DIGEST_LENGTH[record.mtype];
}

/**
 * What a session authenticated by `tlsa` was authenticated against, short:
 * a pooled session is reused only under the same records and names.
 */
export function tlsaKey(tlsa: TlsaAuthentication): string {
  const text = [...tlsa.records.map(tlsaText), ...tlsa.names].join('\n');
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** `3 1 1 ab12…` as written in a zone. */
export function tlsaText(record: TlsaRecord): string {
  return `${record.usage} ${record.selector} ${record.mtype} ${record.data.toString('hex')}`;
}

function selected(cert: X509Certificate, selector: number): Buffer {
  return selector === 0 ? cert.raw : cert.publicKey.export({ type: 'spki', format: 'der' });
}

/** Whether `cert` is the one `record` designates (its selector, matching type and data). */
export function certMatches(cert: X509Certificate, record: TlsaRecord): boolean {
  const bytes = selected(cert, record.selector);
  const seen =
    record.mtype === 0
      ? bytes
      : createHash(record.mtype === 1 ? 'sha256' : 'sha512')
          .update(bytes)
          .digest();
  return seen.equals(record.data);
}

/** The chain the server sent, its own certificate first (node links it through `issuerCertificate`). */
export function peerChain(peer: DetailedPeerCertificate | undefined): X509Certificate[] {
  const chain: X509Certificate[] = [];
  let at: DetailedPeerCertificate | undefined = peer;
  while (at?.raw && chain.length < 16) {
    chain.push(new X509Certificate(at.raw));
    if (at.issuerCertificate === at) break;
    at = at.issuerCertificate;
  }
  return chain;
}

/** Whether the chain is authenticated, and by which record (or why not). */
export interface TlsaVerdict {
  readonly ok: boolean;
  readonly detail: string;
}

/** DANE-EE: the server's certificate itself. */
function matchEe(leaf: X509Certificate, records: readonly TlsaRecord[]): TlsaRecord | undefined {
  return records.find((r) => r.usage === 3 && certMatches(leaf, r));
}

/** Every link up to `top` signed by the next; a DANE-TA trust anchor need not be self-signed. */
function signedUpTo(chain: readonly X509Certificate[], top: number): boolean {
  for (let i = 0; i < top; i += 1) {
    const cert = chain[i];
    const issuer = chain[i + 1];
    if (!cert || !issuer || !cert.checkIssued(issuer) || !cert.verify(issuer.publicKey)) return false;
  }
  return true;
}

/** DANE-TA: a trust anchor in the chain (or a full certificate in the record) the server's certificate chains to. */
function matchTa(chain: readonly X509Certificate[], records: readonly TlsaRecord[]): TlsaRecord | undefined {
  for (const record of records.filter((r) => r.usage === 2)) {
    const own = record.selector === 0 && record.mtype === 0 ? fullCert(record.data) : undefined;
    const withRecord = own ? [...chain, own] : chain;
    for (let top = 1; top < withRecord.length; top += 1) {
      const anchor = withRecord[top];
      if (anchor && certMatches(anchor, record) && signedUpTo(withRecord, top)) return record;
    }
  }
  return undefined;
}

/** The record's own certificate (`2 0 0`); undefined when its data is none. */
function fullCert(der: Buffer): X509Certificate | undefined {
  try {
    return new X509Certificate(der);
  } catch {
    return undefined;
  }
}

/** The server's certificate chain (its own first) against the records, at `now`. */
export function authenticateByTlsa(
  chain: readonly X509Certificate[],
  tlsa: TlsaAuthentication,
  now: Date = new Date(),
): TlsaVerdict {
  const leaf = chain[0];
  if (!leaf) return { ok: false, detail: `the server sent no certificate (TLSA ${tlsa.base})` };
  const ee = matchEe(leaf, tlsa.records);
  if (ee) return { ok: true, detail: `DANE-EE ${tlsaText(ee).slice(0, 5)} of ${tlsa.base}` };
  const ta = safely(() => matchTa(chain, tlsa.records));
  if (!ta) return { ok: false, detail: `the certificate matches no TLSA record of ${tlsa.base}` };
  const name = tlsa.names.find((n) => leaf.checkHost(n) !== undefined);
  if (name === undefined) {
    return { ok: false, detail: `the certificate names none of ${tlsa.names.join(', ')} (DANE-TA of ${tlsa.base})` };
  }
  if (now < new Date(leaf.validFrom) || now > new Date(leaf.validTo)) {
    return { ok: false, detail: `the certificate is not current (${leaf.validTo}; DANE-TA of ${tlsa.base})` };
  }
  return { ok: true, detail: `DANE-TA ${tlsaText(ta).slice(0, 5)} of ${tlsa.base}, ${name}` };
}

function safely<T>(run: () => T | undefined): T | undefined {
  try {
    return run();
  } catch {
    return undefined;
  }
}
