/**
 * The PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and 2)
 * that a load balancer puts before the first byte of the connection it
 * forwards: who the client really is.
 *
 * Owns: what a valid header is. Pure: bytes in, a verdict out.
 * In:   the bytes received so far on a connection from a SMTP_PROXY_FROM peer.
 * Out:  `incomplete` (read more), `invalid` (with the reason, for the log),
 *       or the header and how many bytes it took (the rest is SMTP).
 *
 * v1 is one text line, `PROXY TCP4|TCP6 <src> <dst> <sport> <dport>\r\n`
 * (at most 107 bytes) or `PROXY UNKNOWN …\r\n`. v2 is a 12-byte signature,
 * a version/command byte, a family/protocol byte and a 16-bit length, then
 * the addresses and TLVs (which we skip). LOCAL (v2) and UNKNOWN (v1) say
 * "the connection is the proxy's own" (health checks): the peer's address
 * stays the client's.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { formatIp } from '../config/ip.js';

export type ProxyHeader =
  | {
      readonly kind: 'proxied';
      readonly version: 1 | 2;
      readonly source: string;
      readonly sourcePort: number;
      readonly destination: string;
      readonly destinationPort: number;
    }
  | { readonly kind: 'local'; readonly version: 1 | 2 };

export type ProxyParse =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'invalid'; readonly reason: string }
  | { readonly kind: 'header'; readonly header: ProxyHeader; readonly length: number };

/** The v2 signature: `\r\n\r\n\0\r\nQUIT\n`. */
export const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_PREFIX = Buffer.from('PROXY ');
/** v1's longest line (the protocol's own bound, CRLF included). */
export const V1_MAX_LENGTH = 107;
/** The longest v2 header we read: addresses plus TLVs (AWS, GCP and HAProxy send well under this). */
export const V2_MAX_LENGTH = 4096;

const incomplete: ProxyParse = { kind: 'incomplete' };
const invalid = (reason: string): ProxyParse => ({ kind: 'invalid', reason });

/** Parses the start of a connection as a PROXY v1 or v2 header. */
export function parseProxyHeader(data: Buffer): ProxyParse {
  if (startsLike(data, V2_SIGNATURE)) return data.length < V2_SIGNATURE.length ? incomplete : parseV2(data);
  if (startsLike(data, V1_PREFIX)) return data.length < V1_PREFIX.length ? incomplete : parseV1(data);
  return invalid('not a PROXY protocol header');
}

/** Whether `data` and `prefix` agree as far as both go. */
function startsLike(data: Buffer, prefix: Buffer): boolean {
  const n = Math.min(data.length, prefix.length);
  return data.subarray(0, n).equals(prefix.subarray(0, n));
}

function parseV1(data: Buffer): ProxyParse {
  const lf = data.indexOf(0x0a);
  if (lf < 0) return data.length >= V1_MAX_LENGTH ? invalid('PROXY v1 line longer than 107 bytes') : incomplete;
  if (lf + 1 > V1_MAX_LENGTH) return invalid('PROXY v1 line longer than 107 bytes');
  if (data[lf - 1] !== 0x0d) return invalid('PROXY v1 line does not end with CRLF');
  const fields = data
    .subarray(0, lf - 1)
    .toString('latin1')
    .split(' ');
  const length = lf + 1;
  if (fields[1] === 'UNKNOWN') return { kind: 'header', header: { kind: 'local', version: 1 }, length };
  if (fields.length !== 6) return invalid('PROXY v1 line needs 6 fields');
  const [, family, source = '', destination = '', sourcePort = '', destinationPort = ''] = fields;
  const isFamily = family === 'TCP4' ? isIPv4 : family === 'TCP6' ? isIPv6 : undefined;
  if (!isFamily) return invalid(`PROXY v1 protocol ${JSON.stringify(family)} is not TCP4, TCP6 or UNKNOWN`);
  if (!isFamily(source) || !isFamily(destination)) return invalid(`PROXY v1 addresses are not ${family} addresses`);
  const ports = [sourcePort, destinationPort].map(portOf);
  if (ports[0] === undefined || ports[1] === undefined) return invalid('PROXY v1 ports are not 0-65535');
  const [from, to] = ports;
  const header: ProxyHeader = {
    kind: 'proxied',
    version: 1,
    source,
    destination,
    sourcePort: from,
    destinationPort: to,
  };
  return { kind: 'header', header, length };
}

/** A decimal port without sign or leading zeros. */
function portOf(text: string): number | undefined {
  if (!/^(0|[1-9]\d{0,4})$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 65535 ? port : undefined;
}

const FAMILIES: Readonly<Record<number, { readonly bytes: number; readonly name: string }>> = {
  0x11: { bytes: 4, name: 'TCP over IPv4' },
  0x21: { bytes: 16, name: 'TCP over IPv6' },
};

function parseV2(data: Buffer): ProxyParse {
  if (data.length < 16) return incomplete;
  const versionCommand = data[12] ?? 0;
  const familyProtocol = data[13] ?? 0;
  const length = 16 + data.readUInt16BE(14);
  if (versionCommand >> 4 !== 2) return invalid(`PROXY v2 header with version ${versionCommand >> 4}`);
  const command = versionCommand & 0x0f;
  if (command > 1) return invalid(`PROXY v2 header with command ${command}`);
  if (length > V2_MAX_LENGTH) return invalid(`PROXY v2 header of ${length} bytes (at most ${V2_MAX_LENGTH})`);
  if (data.length < length) return incomplete;
  // LOCAL (a health check of the proxy's own), or an unspecified family: the connection's own address stands
  if (command === 0 || familyProtocol === 0x00)
    return { kind: 'header', header: { kind: 'local', version: 2 }, length };
  const family = FAMILIES[familyProtocol];
  if (!family) return invalid(`PROXY v2 family/protocol 0x${familyProtocol.toString(16)} is not TCP over IPv4/IPv6`);
  const body = data.subarray(16, length);
  if (body.length < family.bytes * 2 + 4) return invalid(`PROXY v2 ${family.name} addresses are cut short`);
  const address = (at: number): string => formatIp(Uint8Array.from(body.subarray(at, at + family.bytes)));
  const ports = family.bytes * 2;
  const header: ProxyHeader = {
    kind: 'proxied',
    version: 2,
    source: address(0),
    destination: address(family.bytes),
    sourcePort: body.readUInt16BE(ports),
    destinationPort: body.readUInt16BE(ports + 2),
  };
  return { kind: 'header', header, length };
}
