import { describe, expect, it } from 'vitest';
import { ipInNetwork, parseIp, sameIp } from '../../src/policy/ip.js';
import type { ParsedIp } from '../../src/policy/ip.js';

describe('parseIp', () => {
  it.each([
    ['1.2.3.4', { family: 4, bytes: [1, 2, 3, 4] }],
    ['::ffff:1.2.3.4', { family: 4, bytes: [1, 2, 3, 4] }],
    ['::ffff:0102:0304', { family: 4, bytes: [1, 2, 3, 4] }],
    ['::1', { family: 6, bytes: [...Array<number>(15).fill(0), 1] }],
    [
      '2001:db8::ff00:42:8329',
      { family: 6, bytes: [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0xff, 0, 0, 0x42, 0x83, 0x29] },
    ],
    ['64:ff9b::192.0.2.33', { family: 6, bytes: [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 33] }],
    ['1.2.3', undefined],
    ['1.2.3.256', undefined],
    ['01.2.3.4', undefined],
    ['1::2::3', undefined],
    ['example.com', undefined],
    ['::', { family: 6, bytes: Array<number>(16).fill(0) }],
    ['1::', { family: 6, bytes: [0, 1, ...Array<number>(14).fill(0)] }],
    ['1:2:3:4:5:6:7:8', { family: 6, bytes: [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8] }],
    ['1:2:3:4:5:6::8', { family: 6, bytes: [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 0, 0, 8] }],
  ] as const)('%s', (text, expected) => {
    expect(parseIp(text)).toEqual(expected);
  });
});

describe('sameIp', () => {
  it.each([
    ['1.2.3.4', '::ffff:1.2.3.4', true],
    ['2001:db8::1', '2001:0DB8:0:0:0:0:0:1', true],
    ['2001:db8::1', '2001:db8::2', false],
    ['1.2.3.4', 'bogus', false],
    ['1.2.3.4', '102:304::', false], // the same first bytes, another family
    [' 1.2.3.4 ', '1.2.3.4', true],
    ['fe80::1%eth0', 'fe80::1', true], // the zone is not part of the address
  ])('%s = %s -> %s', (a, b, expected) => {
    expect(sameIp(a, b)).toBe(expected);
  });
});

describe('ipInNetwork', () => {
  const ip = (text: string): ParsedIp => parseIp(text) ?? { family: 4, bytes: [] };
  it.each([
    ['192.0.2.130', '192.0.2.128', 25, 4, true],
    ['192.0.2.127', '192.0.2.128', 25, 4, false],
    ['192.0.2.1', '192.0.2.0', 24, 4, true],
    ['192.0.3.1', '192.0.2.0', 24, 4, false],
    ['192.0.2.1', '192.0.2.1', 32, 4, true],
    ['192.0.2.2', '192.0.2.1', 32, 4, false],
    ['203.0.113.9', '0.0.0.0', 0, 4, true],
    ['10.127.255.1', '10.0.0.0', 9, 4, true],
    ['10.128.0.1', '10.0.0.0', 9, 4, false],
    ['2001:db8:1:2::9', '2001:db8:1:2::', 64, 6, true],
    ['2001:db8:1:3::9', '2001:db8:1:2::', 64, 6, false],
    ['2001:db8:1:2:8000::1', '2001:db8:1:2::', 65, 6, false],
    ['2001:db8:1:2:7fff::1', '2001:db8:1:2::', 65, 6, true],
    ['192.0.2.1', '::ffff:192.0.2.0', 120, 6, true], // an IPv4 client in a mapped IPv6 network
    ['2001:db8::1', '192.0.2.0', 24, 4, false],
    ['192.0.2.1', '2001:db8::', 0, 4, false], // an IPv4 network written with an IPv6 address matches nothing
    ['192.0.2.1', 'not an address', 0, 4, false],
  ] as const)('%s in %s/%i (IPv%i) -> %s', (client, address, prefix, family, expected) => {
    expect(ipInNetwork(ip(client), { address, prefix, family })).toBe(expected);
  });
});
