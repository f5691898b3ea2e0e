import { describe, expect, it } from 'vitest';
import { parseProxyHeader, V2_MAX_LENGTH, V2_SIGNATURE } from '../../src/inbound/proxy-header.js';
import { tcp4, tcp6, tlv, v2 } from '../helpers/proxy.js';

// PROXY protocol v1 (text) and v2 (binary) headers: HAProxy's proxy-protocol.txt.

const text = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('PROXY v1', () => {
  it('reads TCP4 and says where SMTP starts', () => {
    const data = text('PROXY TCP4 203.0.113.7 192.0.2.1 51234 25\r\nEHLO x\r\n');
    expect(parseProxyHeader(data)).toEqual({
      kind: 'header',
      length: 43,
      header: {
        kind: 'proxied',
        version: 1,
        source: '203.0.113.7',
        destination: '192.0.2.1',
        sourcePort: 51234,
        destinationPort: 25,
      },
    });
    expect(data.subarray(43).toString()).toBe('EHLO x\r\n');
  });

  it('reads TCP6', () => {
    const parsed = parseProxyHeader(text('PROXY TCP6 2001:db8::7 2001:db8::1 65535 0\r\n'));
    expect(parsed).toMatchObject({ kind: 'header', header: { source: '2001:db8::7', sourcePort: 65535 } });
  });

  it('reads UNKNOWN as the proxy speaking for itself', () => {
    expect(parseProxyHeader(text('PROXY UNKNOWN\r\n'))).toEqual({
      kind: 'header',
      length: 15,
      header: { kind: 'local', version: 1 },
    });
    expect(parseProxyHeader(text('PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n'))).toMatchObject({
      header: { kind: 'local' },
    });
  });

  it.each(['P', 'PROXY', 'PROXY TCP4 203.0.113.7 192.0.2.1 5123', 'PROXY TCP4 203.0.113.7 192.0.2.1 51234 25\r'])(
    'waits for the rest of %j',
    (partial) => {
      expect(parseProxyHeader(text(partial))).toEqual({ kind: 'incomplete' });
    },
  );

  it.each<[string, string]>([
    ['EHLO client.test\r\n', 'not a PROXY protocol header'],
    ['proxy TCP4 203.0.113.7 192.0.2.1 1 25\r\n', 'not a PROXY protocol header'],
    ['PROXY TCP4 203.0.113.7 192.0.2.1 1 25\n', 'does not end with CRLF'],
    ['PROXY TCP5 203.0.113.7 192.0.2.1 1 25\r\n', 'is not TCP4, TCP6 or UNKNOWN'],
    ['PROXY TCP4 2001:db8::7 192.0.2.1 1 25\r\n', 'are not TCP4 addresses'],
    ['PROXY TCP6 203.0.113.7 2001:db8::1 1 25\r\n', 'are not TCP6 addresses'],
    ['PROXY TCP4 203.0.113.7 192.0.2.1 65536 25\r\n', 'ports are not 0-65535'],
    ['PROXY TCP4 203.0.113.7 192.0.2.1 01 25\r\n', 'ports are not 0-65535'],
    ['PROXY TCP4 203.0.113.7 192.0.2.1 1\r\n', 'needs 6 fields'],
    ['PROXY TCP4  203.0.113.7 192.0.2.1 1 25\r\n', 'needs 6 fields'],
    ['PROXY TCP4 203.0.113.7\r\n1.2.3.4 1 25\r\n', 'needs 6 fields'],
    [`PROXY TCP4 ${'1'.repeat(120)}`, 'longer than 107 bytes'],
    [`PROXY UNKNOWN ${'x'.repeat(100)}\r\n`, 'longer than 107 bytes'],
  ])('refuses %j', (line, reason) => {
    const parsed = parseProxyHeader(text(line));
    expect(parsed.kind).toBe('invalid');
    expect(parsed.kind === 'invalid' ? parsed.reason : '').toContain(reason);
  });
});

describe('PROXY v2', () => {
  it('reads TCP over IPv4 and skips the TLVs', () => {
    const body = Buffer.concat([tcp4('203.0.113.7', '192.0.2.1', 51234, 25), tlv(0xea, text('vpce-0123456789'))]);
    const header = v2(1, 0x11, body);
    const data = Buffer.concat([header, text('EHLO x\r\n')]);
    expect(parseProxyHeader(data)).toEqual({
      kind: 'header',
      length: header.length,
      header: {
        kind: 'proxied',
        version: 2,
        source: '203.0.113.7',
        destination: '192.0.2.1',
        sourcePort: 51234,
        destinationPort: 25,
      },
    });
  });

  it('reads TCP over IPv6 in canonical form', () => {
    const source = '20010db8000000000000000000000007';
    const parsed = parseProxyHeader(v2(1, 0x21, tcp6(source, '20010db8000000000000000000000001', 40000, 465)));
    expect(parsed).toMatchObject({
      kind: 'header',
      header: { source: '2001:db8::7', destination: '2001:db8::1', sourcePort: 40000, destinationPort: 465 },
    });
  });

  it('reads LOCAL (a health check) and an unspecified family as the proxy speaking for itself', () => {
    expect(parseProxyHeader(v2(0, 0x11, tcp4('10.0.0.1', '10.0.0.2', 1, 2)))).toMatchObject({
      header: { kind: 'local', version: 2 },
    });
    expect(parseProxyHeader(v2(0, 0x00, Buffer.alloc(0)))).toEqual({
      kind: 'header',
      length: 16,
      header: { kind: 'local', version: 2 },
    });
    expect(parseProxyHeader(v2(1, 0x00, Buffer.alloc(0)))).toMatchObject({ header: { kind: 'local' } });
  });

  it('waits for the signature, the fixed part and the announced length', () => {
    const whole = v2(1, 0x11, tcp4('203.0.113.7', '192.0.2.1', 1, 25));
    for (const cut of [1, 11, 12, 15, 16, whole.length - 1]) {
      expect(parseProxyHeader(whole.subarray(0, cut)), `first ${cut} bytes`).toEqual({ kind: 'incomplete' });
    }
  });

  it.each<[string, Buffer, string]>([
    ['version 1 in the v2 form', Buffer.concat([V2_SIGNATURE, Buffer.from([0x11, 0x11, 0, 0])]), 'with version 1'],
    ['command 2', v2(2, 0x11, tcp4('1.2.3.4', '5.6.7.8', 1, 2)), 'with command 2'],
    ['UDP over IPv4', v2(1, 0x12, tcp4('1.2.3.4', '5.6.7.8', 1, 2)), 'family/protocol 0x12'],
    ['a UNIX socket', v2(1, 0x31, Buffer.alloc(216)), 'family/protocol 0x31'],
    ['IPv4 addresses cut short', v2(1, 0x11, Buffer.alloc(8)), 'addresses are cut short'],
    ['IPv6 addresses cut short', v2(1, 0x21, Buffer.alloc(12)), 'addresses are cut short'],
    ['a header beyond the bound', v2(1, 0x11, Buffer.alloc(V2_MAX_LENGTH)), `at most ${V2_MAX_LENGTH}`],
    ['a broken signature', Buffer.concat([text('\r\n\r\n\0\r\nQUIX\n'), Buffer.alloc(4)]), 'not a PROXY'],
  ])('refuses %s', (_what, data, reason) => {
    const parsed = parseProxyHeader(data);
    expect(parsed.kind).toBe('invalid');
    expect(parsed.kind === 'invalid' ? parsed.reason : '').toContain(reason);
  });
});
