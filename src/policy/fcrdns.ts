import { parseIp, sameIp } from './ip.js';

/** The subset of `dns.promises.Resolver` that forward-confirmed reverse DNS needs. */
export interface ReverseResolver {
  reverse(ip: string): Promise<string[]>;
  resolve4(name: string): Promise<string[]>;
  resolve6(name: string): Promise<string[]>;
}

/** At most this many PTR names are confirmed, so a hostile PTR set cannot fan out. */
export const MAX_PTR_NAMES = 10;

/** Runs a look-up; any failure, synchronous or not, means "no records". */
async function orEmpty(lookup: () => Promise<string[]>): Promise<string[]> {
  try {
    return await lookup();
  } catch {
    return [];
  }
}

/**
 * Forward-confirmed reverse DNS: the PTR names of `ip` whose A (IPv4 clients,
 * including IPv4-mapped IPv6) or AAAA records contain `ip`. Names come back
 * lower-cased without a trailing dot, de-duplicated, in PTR order. DNS errors
 * (NXDOMAIN, timeouts, refused) count as "no name": the result is then [].
 * The resolver is a parameter, so tests use a real local DNS server.
 */
export async function forwardConfirmedHostnames(ip: string, resolver: ReverseResolver): Promise<string[]> {
  const parsed = parseIp(ip);
  if (!parsed) return [];
  const address = parsed.family === 4 ? parsed.bytes.join('.') : ip.replace(/%.*/, '');
  const ptr = await orEmpty(() => resolver.reverse(address));
  const names = [...new Set(ptr.map((name) => name.toLowerCase().replace(/\.+$/, '')))]
    .filter((name) => name !== '')
    .slice(0, MAX_PTR_NAMES);
  const confirmed = await Promise.all(
    names.map(async (name) => {
      const addresses = await orEmpty(() => (parsed.family === 4 ? resolver.resolve4(name) : resolver.resolve6(name)));
      return addresses.some((candidate) => sameIp(candidate, address)) ? name : undefined;
    }),
  );
  return confirmed.filter((name): name is string => name !== undefined);
}
