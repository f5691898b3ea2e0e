import { isIPv4, isIPv6 } from 'node:net';
import type { Network } from '../config/types.js';

/**
 * A parsed IP address. IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`, in any
 * spelling) are folded to IPv4, so `::ffff:127.0.0.1` and `127.0.0.1` compare
 * equal and match the same networks.
 */
export interface ParsedIp {
  readonly family: 4 | 6;
  /** 4 bytes for IPv4, 16 for IPv6. */
  readonly bytes: readonly number[];
}

const MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff] as const;

function parseV4(text: string): number[] | undefined {
  if (!isIPv4(text)) return undefined;
  return text.split('.').map((part) => Number(part));
}

function parseV6(text: string): number[] | undefined {
  if (!isIPv6(text)) return undefined;
  let hex = text;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = parseV4(tail);
    if (!v4) return undefined;
    const [a = 0, b = 0, c = 0, d = 0] = v4;
    hex = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = hex.split('::');
  const head = halves[0] ? halves[0].split(':') : [];
  const rest = halves[1] ? halves[1].split(':') : [];
  // isIPv6 passed: without `::` there are 8 groups already, with it at least one is left out
  const zeros = Array<string>(8 - head.length - rest.length).fill('0');
  const groups = [...head, ...zeros, ...rest];
  if (groups.length !== 8) return undefined;
  return groups.flatMap((group) => {
    const value = parseInt(group, 16);
    return [value >> 8, value & 0xff];
  });
}

/** Parses an IPv4 or IPv6 address (a `%zone` suffix is ignored); undefined if it is not one. */
export function parseIp(ip: string): ParsedIp | undefined {
  const text = ip.trim().replace(/%.*/, '');
  const v4 = parseV4(text);
  if (v4) return { family: 4, bytes: v4 };
  const v6 = parseV6(text);
  if (!v6) return undefined;
  const mapped = MAPPED_PREFIX.every((byte, i) => v6[i] === byte);
  return mapped ? { family: 4, bytes: v6.slice(12) } : { family: 6, bytes: v6 };
}

/** The 16-byte IPv6 form of an address (IPv4 as `::ffff:a.b.c.d`). */
function asV6Bytes(ip: ParsedIp): readonly number[] {
  return ip.family === 6 ? ip.bytes : [...MAPPED_PREFIX, ...ip.bytes];
}

function samePrefix(a: readonly number[], b: readonly number[], prefix: number): boolean {
  const bits = Math.max(0, Math.min(prefix, a.length * 8));
  const whole = Math.floor(bits / 8);
  for (let i = 0; i < whole; i += 1) if (a[i] !== b[i]) return false;
  // the leading bits of the next byte; none (0xff00 & a byte is 0) when the prefix ends at a byte boundary
  const mask = 0xff << (8 - (bits % 8));
  return ((a[whole] ?? 0) & mask) === ((b[whole] ?? 0) & mask);
}

/** Whether `ip` lies in `network`. IPv4 clients also match IPv6 networks through their mapped form. */
export function ipInNetwork(ip: ParsedIp, network: Network): boolean {
  const base = parseIp(network.address);
  if (!base) return false;
  if (network.family === 4) {
    return base.family === 4 && ip.family === 4 && samePrefix(ip.bytes, base.bytes, network.prefix);
  }
  return samePrefix(asV6Bytes(ip), asV6Bytes(base), network.prefix);
}

/** Whether two textual addresses denote the same IP (`::ffff:1.2.3.4` equals `1.2.3.4`). */
export function sameIp(a: string, b: string): boolean {
  const pa = parseIp(a);
  const pb = parseIp(b);
  return !!pa && !!pb && pa.family === pb.family && pa.bytes.every((byte, i) => pb.bytes[i] === byte);
}
