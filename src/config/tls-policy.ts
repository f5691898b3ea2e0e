/**
 * SMTP_TLS_POLICY: `domain=may|encrypt|verify|dane,…`, outbound TLS per
 * destination (Postfix's smtp_tls_policy_maps). `example.com` is that domain
 * only; `.example.com` is every domain below it (not example.com itself).
 * `dane` is Postfix's opportunistic DANE (RFC 7672): hosts with
 * DNSSEC-validated TLSA records are authenticated by them, others get `may`.
 */
import { normaliseHostname } from './addresses.js';
import { fail, ok, splitList, type Parsed } from './parsed.js';
import type { TlsLevel } from './types.js';

export const TLS_LEVELS: readonly TlsLevel[] = ['may', 'encrypt', 'verify', 'dane'];

const EXPECTED = 'a list of domain=may|encrypt|verify|dane (example.com=verify,.example.net=dane)';

function levelOf(text: string): TlsLevel | undefined {
  const lower = text.toLowerCase();
  return TLS_LEVELS.find((level) => level === lower);
}

/** `example.com`, or `.example.com` for the domains below it; lower case. */
function keyOf(text: string): string | undefined {
  const sub = text.startsWith('.');
  const name = normaliseHostname(sub ? text.slice(1) : text);
  return name === undefined ? undefined : `${sub ? '.' : ''}${name}`;
}

export function parseTlsPolicy(text: string): Parsed<ReadonlyMap<string, TlsLevel>> {
  const table = new Map<string, TlsLevel>();
  for (const entry of splitList(text)) {
    const match = /^([^=\s]+)\s*=\s*([a-z-]+)$/i.exec(entry);
    const domain = match?.[1] === undefined ? undefined : keyOf(match[1]);
    const level = levelOf(match?.[2] ?? '');
    if (domain === undefined || level === undefined) return fail(`${EXPECTED}; "${entry}" is not`);
    if (table.has(domain)) return fail(`${EXPECTED}; ${domain} is listed twice`);
    table.set(domain, level);
  }
  return ok(table);
}

/** The table as it is written in SMTP_TLS_POLICY. */
export function tlsPolicyText(table: ReadonlyMap<string, TlsLevel>): string {
  return [...table].map(([domain, level]) => `${domain}=${level}`).join(',');
}
