/**
 * The DANE facts of a destination (RFC 7672 §2.2): through a validating
 * resolver, whether its MX records are DNSSEC-validated, and for each MX
 * host whose addresses are validated too, its TLSA records at
 * `_<port>._tcp.<host>`.
 *
 * Per host: `tlsa` (validated, usable records: authenticate by them),
 * `unusable` (validated records, none usable: TLS required, not
 * authenticated, RFC 7672 §2.2), `insecure` (no DANE: the destination's
 * other policy applies) or `failed` (the TLSA look-up of a validated host
 * failed: that host is not used, RFC 7672 §2.2). A failed MX look-up
 * (SERVFAIL, timeout) is `failed` for the whole destination: it waits
 * rather than going without DANE. Never rejects.
 */
import type { SecureAnswer, SecureDns } from '../../dns/secure-query.js';
import { decodeTlsa, usableTlsa, type TlsaRecord } from './tlsa.js';

export type DaneHost =
  | { readonly kind: 'tlsa'; readonly base: string; readonly records: readonly TlsaRecord[] }
  | { readonly kind: 'unusable'; readonly base: string }
  | { readonly kind: 'insecure'; readonly why: string }
  | { readonly kind: 'failed'; readonly why: string };

export interface DaneState {
  /** By MX host name (lower case, no trailing dot). */
  readonly hosts: ReadonlyMap<string, DaneHost>;
  /** Why no host has DANE (the MX records are not validated …); undefined when hosts were looked at. */
  readonly why?: string;
  /** The MX look-up itself failed (SERVFAIL, timeout): the destination waits, as for any MX look-up failure. */
  readonly failed?: string;
}

/** The key of a host name in `DaneState.hosts`. */
export function daneKey(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Whether every address answer of `host` (A and AAAA, records or none) is validated. */
async function addressesSecure(host: string, dns: SecureDns): Promise<boolean> {
  const answers = await Promise.all([dns.query(host, 'A'), dns.query(host, 'AAAA')]);
  return answers.every((a) => a.ad);
}

/** One MX host's DANE. */
export async function lookupDaneHost(host: string, port: number, dns: SecureDns): Promise<DaneHost> {
  const secure = await addressesSecure(host, dns).catch(() => false);
  if (!secure) return { kind: 'insecure', why: `the addresses of ${host} are not DNSSEC-validated` };
  const base = `_${port}._tcp.${host}`;
  let answer: SecureAnswer;
  try {
    answer = await dns.query(base, 'TLSA');
  } catch (error) {
    return { kind: 'failed', why: `TLSA look-up of ${base} failed: ${reason(error)}` };
  }
  if (answer.records.length === 0) {
    return { kind: 'insecure', why: `no TLSA records at ${base}` };
  }
  if (!answer.ad) return { kind: 'insecure', why: `the TLSA records of ${base} are not DNSSEC-validated` };
  const records = answer.records.flatMap((r) => {
    const record = r.data ? decodeTlsa(r.data) : undefined;
    return record && usableTlsa(record) ? [record] : [];
  });
  return records.length > 0 ? { kind: 'tlsa', base, records } : { kind: 'unusable', base };
}

/** The MX host names of `domain` when its MX answer is validated (the domain itself without MX). */
async function secureMxHosts(
  domain: string,
  dns: SecureDns,
): Promise<{ readonly names: readonly string[] } | Omit<DaneState, 'hosts'>> {
  let answer: SecureAnswer;
  try {
    answer = await dns.query(domain, 'MX');
  } catch (error) {
    const why = `the MX look-up of ${domain} failed: ${reason(error)}`;
    return { why, failed: why };
  }
  if (!answer.ad) return { why: `the MX records of ${domain} are not DNSSEC-validated` };
  if (answer.rcode !== 0) return { why: `${domain} does not exist` };
  const names = answer.records.map((r) => daneKey(r.exchange ?? '')).filter((name) => name !== '');
  return { names: answer.records.length === 0 ? [daneKey(domain)] : names };
}

export async function lookupDane(domain: string, port: number, dns: SecureDns): Promise<DaneState> {
  const mx = await secureMxHosts(domain, dns);
  if (!('names' in mx)) return { hosts: new Map(), ...mx };
  const hosts = mx.names;
  const found = await Promise.all(hosts.map((host) => lookupDaneHost(host, port, dns)));
  return { hosts: new Map(hosts.map((host, i) => [host, found[i] ?? { kind: 'insecure', why: 'not looked up' }])) };
}
