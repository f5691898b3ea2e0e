import { describe, expect, it } from 'vitest';
import { normaliseIp, parseNetwork } from '../../src/config/ip.js';
import { maskUrlPassword } from '../../src/config/variables.js';

describe('normaliseIp (RFC 5952)', () => {
  it.each([
    ['192.0.2.1', '192.0.2.1'],
    ['2001:0DB8:0000:0000:0000:0000:0002:0001', '2001:db8::2:1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first of equal runs
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // one zero group stays
    ['1:0:0:0:0:0:0:0', '1::'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['::', '::'],
    ['::1', '::1'],
    ['1::2:0:0:0:3', '1:0:0:2::3'],
    ['::FFFF:192.0.2.1', '::ffff:192.0.2.1'],
    ['::ffff:c000:201', '::ffff:192.0.2.1'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
  ])('%s → %s', (text, canonical) => {
    expect(normaliseIp(text)).toBe(canonical);
  });

  it.each(['', '1.2.3', '256.1.1.1', '01.1.1.1', 'fe80::1%eth0', '1:2:3:4:5:6:7:8:9', 'example.com', '[::1]'])(
    'refuses %j',
    (text) => {
      expect(normaliseIp(text)).toBeUndefined();
    },
  );
});

describe('parseNetwork', () => {
  it.each([
    ['10.9.8.7/8', { address: '10.0.0.0', prefix: 8, family: 4 }],
    ['10.9.8.7/31', { address: '10.9.8.6', prefix: 31, family: 4 }],
    ['10.9.8.7/0', { address: '0.0.0.0', prefix: 0, family: 4 }],
    ['10.9.8.7', { address: '10.9.8.7', prefix: 32, family: 4 }],
    ['2001:db8:ffff::1/33', { address: '2001:db8:8000::', prefix: 33, family: 6 }],
    ['2001:db8::1/128', { address: '2001:db8::1', prefix: 128, family: 6 }],
    ['fe80::1/10', { address: 'fe80::', prefix: 10, family: 6 }],
  ])('%s', (text, network) => {
    expect(parseNetwork(text)).toEqual(network);
  });

  it.each(['10.0.0.0/33', '10.0.0.0/-1', '10.0.0.0/8/8', '10.0.0.0/ 8', '::/129', '::/0x10', 'host/8'])(
    'refuses %j',
    (text) => {
      expect(typeof parseNetwork(text)).toBe('string');
    },
  );
});

describe('maskUrlPassword', () => {
  it.each([
    ['smtp://u:p@h', 'smtp://u:****@h'],
    ['smtp://u:p@ss@h:25', 'smtp://u:****@h:25'],
    ['smtp://u:p/ss@h', 'smtp://u:****@h'],
    ['redis://:p@h:6379/0', 'redis://:****@h:6379/0'],
    ['smtp://u@h:25', 'smtp://u@h:25'],
    ['smtp://h:25', 'smtp://h:25'],
    ['u:p@h', 'u:****@h'],
  ])('%s → %s', (url, masked) => {
    expect(maskUrlPassword(url)).toBe(masked);
  });
});
