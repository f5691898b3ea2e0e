/**
 * PROXY protocol headers as load balancers send them (HAProxy's
 * proxy-protocol.txt), built byte by byte for tests: v1 lines and v2 binary
 * headers with their address blocks and TLVs.
 */
/** The v2 signature, as the protocol text spells it: `\r\n\r\n\0\r\nQUIT\n`. */
const V2_SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

/** A v2 header: version 2, `command` (0 LOCAL, 1 PROXY), family/protocol byte, then `body`. */
export function v2(command: number, familyProtocol: number, body: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head[0] = 0x20 | command;
  head[1] = familyProtocol;
  head.writeUInt16BE(body.length, 2);
  return Buffer.concat([V2_SIGNATURE, head, body]);
}

/** TCP over IPv4: source, destination, ports. */
export function tcp4(source: string, destination: string, sourcePort: number, destinationPort: number): Buffer {
  const ports = Buffer.alloc(4);
  ports.writeUInt16BE(sourcePort, 0);
  ports.writeUInt16BE(destinationPort, 2);
  const octets = (ip: string): number[] => ip.split('.').map(Number);
  return Buffer.concat([Buffer.from([...octets(source), ...octets(destination)]), ports]);
}

/** TCP over IPv6 with 16-byte addresses given as hex strings. */
export function tcp6(source: string, destination: string, sourcePort: number, destinationPort: number): Buffer {
  const ports = Buffer.alloc(4);
  ports.writeUInt16BE(sourcePort, 0);
  ports.writeUInt16BE(destinationPort, 2);
  return Buffer.concat([Buffer.from(source, 'hex'), Buffer.from(destination, 'hex'), ports]);
}

/** A TLV (type, 16-bit length, value), as AWS and HAProxy append them. */
export function tlv(type: number, value: Buffer): Buffer {
  const head = Buffer.alloc(3);
  head[0] = type;
  head.writeUInt16BE(value.length, 1);
  return Buffer.concat([head, value]);
}

/** A v1 line for TCP over IPv4 or IPv6. */
export function v1(source: string, destination: string, sourcePort: number, destinationPort: number): string {
  const family = source.includes(':') ? 'TCP6' : 'TCP4';
  return `PROXY ${family} ${source} ${destination} ${sourcePort} ${destinationPort}\r\n`;
}
