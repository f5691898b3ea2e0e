/**
 * mailauth's `resolver(name, rrtype)` option over the daemon's DNS seam
 * (SMTP_DNS_SERVERS), answering in the shapes of node's `dns.resolve`:
 * TXT as string[][], A/AAAA/PTR as string[], MX as { exchange, priority }[].
 * Errors keep node's codes, which mailauth sorts itself: ENOTFOUND/ENODATA
 * are "no record", anything else (ETIMEOUT, ESERVFAIL, ECONNREFUSED) a
 * temporary error.
 *
 * `withDeadline` bounds a whole check: once the budget is spent every
 * look-up fails at once with ETIMEOUT, so a dead DNS server costs one budget,
 * not one timeout per look-up.
 */
import type { DnsResolver } from '../dns/resolver.js';

export type MailauthResolver = (name: string, rrtype: string) => Promise<unknown[]>;

function dnsError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/** The address an in-addr.arpa / ip6.arpa name stands for, or undefined. */
export function addressOfReverseName(name: string): string | undefined {
  const lower = name.toLowerCase().replace(/\.$/, '');
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.in-addr\.arpa$/.exec(lower);
  if (v4) return `${v4[4]}.${v4[3]}.${v4[2]}.${v4[1]}`;
  const v6 = /^((?:[0-9a-f]\.){32})ip6\.arpa$/.exec(lower);
  if (!v6?.[1]) return undefined;
  const nibbles = v6[1].split('.').filter(Boolean).reverse().join('');
  return (nibbles.match(/.{4}/g) ?? []).join(':');
}

export function mailauthResolver(dns: DnsResolver): MailauthResolver {
  return async (name, rrtype) => {
    switch (rrtype.toUpperCase()) {
      case 'TXT':
        return (await dns.resolveTxt(name)).map((strings) => [...strings]);
      case 'A':
        return (await dns.resolve4(name)).map((r) => r.address);
      case 'AAAA':
        return (await dns.resolve6(name)).map((r) => r.address);
      case 'MX':
        return (await dns.resolveMx(name)).map((mx) => ({ exchange: mx.exchange, priority: mx.priority }));
      case 'PTR': {
        const address = addressOfReverseName(name);
        if (address === undefined) throw dnsError('ENOTFOUND', `not a reverse name: ${name}`);
        return [...(await dns.reverse(address))];
      }
      default:
        throw dnsError('ENOTIMP', `${rrtype} look-ups are not supported`);
    }
  };
}

/** `resolver` until `deadline` (ms, per `now`); later look-ups, and those still running then, fail with ETIMEOUT. */
export function withDeadline(
  resolver: MailauthResolver,
  deadline: number,
  now: () => number = Date.now,
): MailauthResolver {
  return (name, rrtype) => {
    const left = deadline - now();
    if (left <= 0) return Promise.reject(dnsError('ETIMEOUT', `DNS budget spent before ${rrtype} ${name}`));
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(dnsError('ETIMEOUT', `DNS budget spent during ${rrtype} ${name}`)), left);
    });
    return Promise.race([resolver(name, rrtype), expired]).finally(() => clearTimeout(timer));
  };
}
