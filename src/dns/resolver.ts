/**
 * The daemon's DNS seam: MX/A/AAAA/TXT/PTR look-ups through SMTP_DNS_SERVERS
 * (or the system resolvers when none are configured), wrapping node's
 * `dns.promises.Resolver`. Errors keep node's codes (`ENOTFOUND` = NXDOMAIN,
 * `ENODATA` = the name exists without that type, `ESERVFAIL`, `ETIMEOUT`,
 * `ECONNREFUSED`, `EREFUSED`); `dnsErrorKind` sorts them.
 */
import { Resolver } from 'node:dns/promises';
import type { DnsServer } from '../config/types.js';

export interface MxRecord {
  readonly exchange: string;
  readonly priority: number;
}

export interface AddressRecord {
  readonly address: string;
  /** Seconds, as the server answered. */
  readonly ttl: number;
}

export interface DnsResolver {
  /** MX records in answer order. Node does not expose MX TTLs. */
  resolveMx(name: string): Promise<readonly MxRecord[]>;
  resolve4(name: string): Promise<readonly AddressRecord[]>;
  resolve6(name: string): Promise<readonly AddressRecord[]>;
  /** Each record's character-strings, unjoined (join them for SPF/DKIM). */
  resolveTxt(name: string): Promise<readonly (readonly string[])[]>;
  reverse(ip: string): Promise<readonly string[]>;
}

export interface ResolverOptions {
  /** Per-try timeout in ms (node default 5000 is long for a mail queue). */
  readonly timeoutMs?: number;
  /** Tries per server before giving up. */
  readonly tries?: number;
}

/** `host:port`, with brackets for IPv6 literals, as `Resolver.setServers` wants. */
export function formatDnsServer(server: DnsServer): string {
  return server.host.includes(':') ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`;
}

export function createResolver(servers: readonly DnsServer[], options: ResolverOptions = {}): DnsResolver {
  const resolver = new Resolver({ timeout: options.timeoutMs ?? 3000, tries: options.tries ?? 2 });
  if (servers.length > 0) resolver.setServers(servers.map(formatDnsServer));
  return {
    resolveMx: (name) => resolver.resolveMx(name),
    resolve4: (name) => resolver.resolve4(name, { ttl: true }),
    resolve6: (name) => resolver.resolve6(name, { ttl: true }),
    resolveTxt: (name) => resolver.resolveTxt(name),
    // PTR through DNS itself: c-ares' reverse() answers from /etc/hosts first
    reverse: (ip) => resolver.resolvePtr(reverseName(ip)),
  };
}

/**
 * How a failed look-up should be treated:
 * - `nxdomain`: the name does not exist (permanent),
 * - `nodata`: the name exists without records of that type,
 * - `temporary`: SERVFAIL, timeouts, refused or unreachable servers.
 */
export type DnsErrorKind = 'nxdomain' | 'nodata' | 'temporary';

export function dnsErrorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = err.code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

export function dnsErrorKind(err: unknown): DnsErrorKind {
  switch (dnsErrorCode(err)) {
    case 'ENOTFOUND':
      return 'nxdomain';
    case 'ENODATA':
      return 'nodata';
    default:
      return 'temporary';
  }
}

/** The in-addr.arpa / ip6.arpa name of an address (IPv4-mapped IPv6 as IPv4). */
export function reverseName(ip: string): string {
  const v4 = /^(?:::ffff:)?(\d+)\.(\d+)\.(\d+)\.(\d+)$/i.exec(ip);
  if (v4) return `${v4[4]}.${v4[3]}.${v4[2]}.${v4[1]}.in-addr.arpa`;
  const [head = '', tail = ''] = ip.split('::');
  const groups = (part: string): string[] => (part === '' ? [] : part.split(':'));
  const left = groups(head);
  const right = groups(tail);
  const middle = ip.includes('::') ? Array<string>(8 - left.length - right.length).fill('0') : [];
  const nibbles = [...left, ...middle, ...right].map((g) => g.padStart(4, '0')).join('');
  return `${[...nibbles].reverse().join('.')}.ip6.arpa`;
}
