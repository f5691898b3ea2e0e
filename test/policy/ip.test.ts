import { describe, expect, it } from 'vitest';
import { parseIp, sameIp } from '../../src/policy/ip.js';

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
  ])('%s = %s -> %s', (a, b, expected) => {
    expect(sameIp(a, b)).toBe(expected);
  });
});
