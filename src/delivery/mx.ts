/**
 * Where mail for a domain goes (RFC 5321 §5.1, RFC 7505): MX hosts sorted by
 * preference with equal preferences shuffled, each resolved to its addresses
 * through the configured resolver (nodemailer never does its own look-ups);
 * no MX → the domain itself (implicit MX); null MX → permanent failure;
 * NXDOMAIN → permanent; SERVFAIL/timeouts → temporary.
 *
 * Failures are values (`kind: 'failed' | 'deferred'`), never thrown.
 */
import { isIP } from 'node:net';
import { dnsErrorKind } from '../dns/resolver.js';
import type { AddressRecord, DnsResolver, MxRecord } from '../dns/resolver.js';

export interface MxHost {
  /** Host name (TLS SNI and certificate name), or an IP literal. */
  readonly name: string;
  readonly priority: number;
  /** IPv4 addresses first, then IPv6. */
  readonly addresses: readonly string[];
}

export type Destination =
  | { readonly kind: 'hosts'; readonly domain: string; readonly implicit: boolean; readonly hosts: readonly MxHost[] }
  | { readonly kind: 'failed'; readonly domain: string; readonly response: string }
  | { readonly kind: 'deferred'; readonly domain: string; readonly response: string };

/** A destination with how long it may be cached (seconds). */
export interface Resolved {
  readonly destination: Destination;
  readonly ttlSeconds: number;
}

/** Node exposes no MX TTL: MX answers are kept at most this long (and no longer than their A/AAAA TTLs). */
export const MX_TTL_SECONDS = 300;
/** NXDOMAIN, null MX and "no address at all" are remembered this long. */
export const NEGATIVE_TTL_SECONDS = 60;

function literalAddress(domain: string): string | undefined {
  const m = /^\[(?:ipv6:)?([^\]]+)\]$/i.exec(domain);
  return m?.[1] !== undefined && isIP(m[1]) !== 0 ? m[1] : undefined;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : typeof err === 'string' ? err : 'unknown error';
}

type AddressLookup =
  | { readonly kind: 'ok'; readonly addresses: readonly string[]; readonly ttl: number }
  | { readonly kind: 'none'; readonly nxdomain: boolean }
  | { readonly kind: 'error'; readonly message: string };

async function lookupAddresses(name: string, resolver: DnsResolver): Promise<AddressLookup> {
  if (isIP(name) !== 0) return { kind: 'ok', addresses: [name], ttl: MX_TTL_SECONDS };
  const [v4, v6] = await Promise.allSettled([resolver.resolve4(name), resolver.resolve6(name)]);
  const records: AddressRecord[] = [];
  const errors: unknown[] = [];
  for (const result of [v4, v6]) {
    if (result.status === 'fulfilled') records.push(...result.value);
    else errors.push(result.reason);
  }
  if (records.length > 0) {
    return { kind: 'ok', addresses: records.map((r) => r.address), ttl: Math.min(...records.map((r) => r.ttl)) };
  }
  const temporary = errors.find((e) => dnsErrorKind(e) === 'temporary');
  if (temporary !== undefined) {
    return { kind: 'error', message: `${name}: ${errorText(temporary)}` };
  }
  return { kind: 'none', nxdomain: errors.some((e) => dnsErrorKind(e) === 'nxdomain') };
}

function failed(domain: string, response: string): Resolved {
  return { destination: { kind: 'failed', domain, response }, ttlSeconds: NEGATIVE_TTL_SECONDS };
}

function deferred(domain: string, response: string): Resolved {
  return { destination: { kind: 'deferred', domain, response }, ttlSeconds: 0 };
}

async function implicitMx(domain: string, resolver: DnsResolver): Promise<Resolved> {
  const found = await lookupAddresses(domain, resolver);
  switch (found.kind) {
    case 'ok':
      return {
        destination: {
          kind: 'hosts',
          domain,
          implicit: true,
          hosts: [{ name: domain, priority: 0, addresses: found.addresses }],
        },
        ttlSeconds: Math.min(found.ttl, MX_TTL_SECONDS),
      };
    case 'none':
      return found.nxdomain
        ? failed(domain, `5.1.2 ${domain}: domain not found (NXDOMAIN)`)
        : failed(domain, `5.1.2 ${domain}: no MX, A or AAAA records`);
    case 'error':
      return deferred(domain, `4.4.3 DNS failure looking up ${found.message}`);
  }
}

/** Resolves `domain` without caching; hosts sorted by preference, not yet shuffled. */
export async function lookupDestination(domain: string, resolver: DnsResolver): Promise<Resolved> {
  const literal = literalAddress(domain);
  if (literal !== undefined) {
    return {
      destination: {
        kind: 'hosts',
        domain,
        implicit: true,
        hosts: [{ name: literal, priority: 0, addresses: [literal] }],
      },
      ttlSeconds: MX_TTL_SECONDS,
    };
  }
  let records: readonly MxRecord[];
  try {
    records = await resolver.resolveMx(domain);
  } catch (err) {
    switch (dnsErrorKind(err)) {
      case 'nxdomain':
        return failed(domain, `5.1.2 ${domain}: domain not found (NXDOMAIN)`);
      case 'nodata':
        return implicitMx(domain, resolver);
      case 'temporary':
        return deferred(domain, `4.4.3 DNS failure looking up MX for ${domain}: ${errorText(err)}`);
    }
  }
  if (records.length === 0) return implicitMx(domain, resolver);
  if (records.some((r) => r.exchange === '' || r.exchange === '.')) {
    return failed(domain, `5.1.10 ${domain}: null MX, the domain accepts no mail (RFC 7505)`);
  }
  const sorted = [...records].sort((a, b) => a.priority - b.priority);
  const lookups = await Promise.all(sorted.map((r) => lookupAddresses(r.exchange, resolver)));
  const hosts: MxHost[] = [];
  let ttl = MX_TTL_SECONDS;
  const problems: string[] = [];
  sorted.forEach((record, i) => {
    const found = lookups[i];
    if (found?.kind === 'ok') {
      hosts.push({ name: record.exchange.replace(/\.$/, ''), priority: record.priority, addresses: found.addresses });
      ttl = Math.min(ttl, found.ttl);
    } else if (found?.kind === 'error') {
      problems.push(found.message);
    } else {
      problems.push(`${record.exchange}: no A or AAAA records`);
    }
  });
  if (hosts.length === 0) {
    // Postfix defers too: a broken MX target is usually fixed, and the lifetime bounces it otherwise.
    return deferred(domain, `4.4.3 no usable MX host for ${domain}: ${problems.join('; ')}`);
  }
  return { destination: { kind: 'hosts', domain, implicit: false, hosts }, ttlSeconds: ttl };
}

/** Sorts by preference and shuffles each run of equal preference (Fisher–Yates with `random`). */
export function orderHosts(hosts: readonly MxHost[], random: () => number): MxHost[] {
  const sorted = [...hosts].sort((a, b) => a.priority - b.priority);
  let start = 0;
  while (start < sorted.length) {
    let end = start + 1;
    while (end < sorted.length && sorted[end]?.priority === sorted[start]?.priority) end += 1;
    for (let i = end - 1; i > start; i -= 1) {
      const j = start + Math.floor(Math.min(Math.max(random(), 0), 0.999999) * (i - start + 1));
      const a = sorted[i];
      const b = sorted[j];
      if (a !== undefined && b !== undefined) {
        sorted[i] = b;
        sorted[j] = a;
      }
    }
    start = end;
  }
  return sorted;
}

function shuffled(destination: Destination, random: () => number): Destination {
  return destination.kind === 'hosts' ? { ...destination, hosts: orderHosts(destination.hosts, random) } : destination;
}

/** Answers cached until their TTL runs out, on an injected clock (ms). */
export class MxCache {
  private readonly entries = new Map<string, { readonly resolved: Resolved; readonly expiresAt: number }>();

  constructor(
    private readonly clock: () => number,
    private readonly maxEntries = 10_000,
  ) {}

  get(domain: string): Resolved | undefined {
    const entry = this.entries.get(domain);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.clock()) {
      this.entries.delete(domain);
      return undefined;
    }
    return entry.resolved;
  }

  set(domain: string, resolved: Resolved): void {
    if (resolved.ttlSeconds <= 0) return;
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(domain, { resolved, expiresAt: this.clock() + resolved.ttlSeconds * 1000 });
  }

  get size(): number {
    return this.entries.size;
  }
}

/**
 * The destination for `domain` (lower-case), hosts in the order to try.
 * With a cache, answers are reused until their TTL expires; the shuffle of
 * equal preferences is redone on every call so load spreads.
 */
export async function resolveDestination(
  domain: string,
  resolver: DnsResolver,
  random: () => number,
  cache?: MxCache,
): Promise<Destination> {
  const key = domain.toLowerCase();
  const cached = cache?.get(key);
  if (cached) return shuffled(cached.destination, random);
  let resolved: Resolved;
  try {
    resolved = await lookupDestination(key, resolver);
  } catch (err) {
    resolved = deferred(key, `4.4.3 DNS failure for ${key}: ${errorText(err)}`);
  }
  cache?.set(key, resolved);
  return shuffled(resolved.destination, random);
}
