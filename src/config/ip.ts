/** IP addresses and CIDR networks: parsed to bytes, masked, printed canonically. */
import { isIP } from 'node:net';
import type { Network } from './types.js';

/** The 4 or 16 bytes of an IP address; undefined if `text` is not one (zone ids are refused). */
export function ipToBytes(text: string): Uint8Array | undefined {
  if (text.includes('%')) return undefined;
  const family = isIP(text);
  if (family === 4) return Uint8Array.from(text.split('.').map(Number));
  if (family !== 6) return undefined;
  let tail: number[] = [];
  let body = text;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    // embedded IPv4 (`::ffff:1.2.3.4`): two 16-bit groups
    tail = text
      .slice(lastColon + 1)
      .split('.')
      .map(Number);
    body = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [head = '', rest] = body.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const restGroups = rest === undefined || rest === '' ? [] : rest.split(':');
  const zeros = rest === undefined ? 0 : 8 - headGroups.length - restGroups.length;
  const groups = [...headGroups, ...Array<string>(zeros).fill('0'), ...restGroups].map((g) => parseInt(g, 16));
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[i * 2] = g >> 8;
    bytes[i * 2 + 1] = g & 0xff;
  });
  if (tail.length > 0) bytes.set(tail, 12);
  return bytes;
}

/** RFC 5952 text: lower case, longest zero run as `::`, IPv4-mapped as `::ffff:a.b.c.d`. */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => ((bytes[i * 2] ?? 0) << 8) | (bytes[i * 2 + 1] ?? 0));
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${Array.from(bytes.subarray(12)).join('.')}`;
  }
  let bestStart = -1;
  let bestLength = 1; // a single zero group is not compressed
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** Canonical text of an IP address, or undefined if `text` is not one. */
export function normaliseIp(text: string): string | undefined {
  const bytes = ipToBytes(text);
  return bytes === undefined ? undefined : formatIp(bytes);
}

/**
 * `10.1.2.3/8` → `{ address: '10.0.0.0', prefix: 8, family: 4 }`: host bits are
 * cleared, a bare IP is a /32 or /128. Returns the reason as a string when invalid.
 */
export function parseNetwork(text: string): Network | string {
  const slash = text.indexOf('/');
  const ipText = slash < 0 ? text : text.slice(0, slash);
  const bytes = ipToBytes(ipText);
  if (bytes === undefined) return `"${text}" is not an IP address or CIDR`;
  const family = bytes.length === 4 ? 4 : 6;
  const maxPrefix = bytes.length * 8;
  let prefix = maxPrefix;
  if (slash >= 0) {
    const prefixText = text.slice(slash + 1);
    prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
    if (!(prefix <= maxPrefix)) return `"${text}" has a prefix outside /0-${maxPrefix}`;
  }
  for (let bit = prefix; bit < maxPrefix; bit++) {
    const index = bit >> 3;
    bytes[index] = (bytes[index] ?? 0) & ~(0x80 >> (bit & 7));
  }
  return { address: formatIp(bytes), prefix, family };
}
