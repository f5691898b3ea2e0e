import { describe, expect, it } from 'vitest';
import type { Network } from '../../src/config/types.js';
import { accept } from '../../src/domain/reply.js';
import { accessDenied, decideAccess, hostMatches, needsReverseLookup } from '../../src/policy/access.js';

const none = { networks: [], hosts: [] };
const nets: Network[] = [
  { address: '192.0.2.0', prefix: 24, family: 4 },
  { address: '10.1.2.3', prefix: 32, family: 4 },
  { address: '2001:db8:abcd::', prefix: 48, family: 6 },
];
const v6Mapped: Network[] = [{ address: '::ffff:198.51.100.0', prefix: 120, family: 6 }];
const hosts = { networks: [], hosts: ['mail.example.com', '.relay.example.net'] };

describe('decideAccess', () => {
  it.each([
    // both lists empty: loopback only
    ['127.0.0.1', none, true],
    ['127.255.3.4', none, true],
    ['::1', none, true],
    ['::ffff:127.0.0.1', none, true],
    ['::FFFF:7f00:1', none, true],
    ['0:0:0:0:0:0:0:1', none, true],
    ['128.0.0.1', none, false],
    ['::2', none, false],
    ['::127.0.0.1', none, false], // IPv4-compatible, not mapped
    ['192.168.1.1', none, false],
    ['not an ip', none, false],
    ['', none, false],
    // networks: IPv4, mapped IPv4, IPv6, single host
    ['192.0.2.77', { networks: nets, hosts: [] }, true],
    ['::ffff:192.0.2.77', { networks: nets, hosts: [] }, true],
    ['192.0.3.1', { networks: nets, hosts: [] }, false],
    ['10.1.2.3', { networks: nets, hosts: [] }, true],
    ['10.1.2.4', { networks: nets, hosts: [] }, false],
    ['2001:db8:abcd:12::5', { networks: nets, hosts: [] }, true],
    ['2001:DB8:ABCD:0000::1', { networks: nets, hosts: [] }, true],
    ['fe80::1%eth0', { networks: [{ address: 'fe80::', prefix: 10, family: 6 }], hosts: [] }, true],
    ['2001:db8:abce::1', { networks: nets, hosts: [] }, false],
    // configured networks replace the loopback default
    ['127.0.0.1', { networks: nets, hosts: [] }, false],
    ['::1', { networks: nets, hosts: [] }, false],
    // an IPv6 network written in mapped form matches plain IPv4 clients
    ['198.51.100.9', { networks: v6Mapped, hosts: [] }, true],
    ['198.51.101.9', { networks: v6Mapped, hosts: [] }, false],
    // /0
    ['203.0.113.1', { networks: [{ address: '0.0.0.0', prefix: 0, family: 4 }], hosts: [] }, true],
    ['2001:db8::1', { networks: [{ address: '0.0.0.0', prefix: 0, family: 4 }], hosts: [] }, false],
    ['2001:db8::1', { networks: [{ address: '::', prefix: 0, family: 6 }], hosts: [] }, true],
  ] as const)('%s with %j -> %s', (ip, allow, allowed) => {
    expect(decideAccess({ ip }, allow)).toEqual(allowed ? accept : accessDenied);
  });

  it.each([
    [['mail.example.com'], true],
    [['MAIL.Example.COM.'], true],
    [['a.relay.example.net'], true],
    [['deep.a.relay.example.net'], true],
    [['relay.example.net'], false], // a leading-dot entry matches subdomains only
    [['evilrelay.example.net'], false],
    [['mail.example.com.evil.test'], false],
    [['x.mail.example.com'], false], // no leading dot: exact name only
    [[], false],
    [['other.test', 'mail.example.com'], true],
  ] as const)('verified %j -> %s', (names, allowed) => {
    expect(decideAccess({ ip: '203.0.113.5', verifiedHostnames: names }, hosts)).toEqual(
      allowed ? accept : accessDenied,
    );
  });

  it('rejects with 554 5.7.1 and closes', () => {
    expect(decideAccess({ ip: '203.0.113.5' }, hosts)).toEqual({
      kind: 'reject',
      code: 554,
      enhanced: '5.7.1',
      text: 'Access denied',
      close: true,
    });
  });

  it('hosts-only lists do not add loopback', () => {
    expect(decideAccess({ ip: '127.0.0.1' }, hosts)).toEqual(accessDenied);
  });
});

describe('hostMatches', () => {
  it.each([
    ['a.example.com', '.example.com', true],
    ['example.com', '.example.com', false],
    ['example.com', 'example.com', true],
    ['', '', false],
    ['anything', '.', false],
    ['Mail.Example.COM.', '.example.com', true], // case and a trailing dot do not count
    [' mail.example.com ', 'MAIL.example.com..', true],
    ['mail.example.com..', 'mail.example.com', true],
    ['\u0131.example.com', 'i.example.com', false],
    ['.example.com', '.example.com', false], // a subdomain rule needs a name in front of it // dotless i is not i: only case differs, not letters
  ])('%s vs %s -> %s', (name, entry, expected) => {
    expect(hostMatches(name, entry)).toBe(expected);
  });
});

describe('needsReverseLookup', () => {
  const both = { networks: nets, hosts: ['mail.example.com'] };
  it.each([
    [none, undefined, false],
    [{ networks: nets, hosts: [] }, undefined, false],
    [{ networks: nets, hosts: [] }, '203.0.113.5', false],
    [hosts, undefined, true],
    [hosts, '203.0.113.5', true],
    [both, '192.0.2.1', false], // already allowed by a network
    [both, '::ffff:192.0.2.1', false],
    [both, '203.0.113.5', true],
  ] as const)('%j ip=%s -> %s', (allow, ip, expected) => {
    expect(needsReverseLookup(allow, ip)).toBe(expected);
  });
});
