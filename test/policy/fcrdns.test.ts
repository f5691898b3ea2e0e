import { promises as dns } from 'node:dns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forwardConfirmedHostnames } from '../../src/policy/fcrdns.js';
import type { ReverseResolver } from '../../src/policy/fcrdns.js';
import { startDnsServer } from '../helpers/dns-server.js';
import type { RunningDnsServer } from '../helpers/dns-server.js';

/** PTR owner name of an IPv6 address, e.g. 2001:db8::25 -> 5.2.0.0.….ip6.arpa. */
function ip6Arpa(expandedHex: string): string {
  return `${[...expandedHex.replace(/:/g, '')].reverse().join('.')}.ip6.arpa`;
}

let server: RunningDnsServer;
let resolver: dns.Resolver;

beforeAll(async () => {
  server = await startDnsServer({
    // 192.0.2.10: two names confirm, the others do not (wrong address, NXDOMAIN, SERVFAIL, no A)
    '10.2.0.192.in-addr.arpa': {
      PTR: [
        'mail.example.test',
        'Alias.Example.TEST.',
        'spoof.example.test',
        'gone.example.test',
        'broken.example.test',
        'v6only.example.test',
      ],
    },
    'mail.example.test': { A: ['192.0.2.99', '192.0.2.10'] },
    'alias.example.test': { A: ['192.0.2.10'] },
    'spoof.example.test': { A: ['192.0.2.99'] },
    'broken.example.test': { servfail: true },
    'v6only.example.test': { AAAA: ['2001:db8::10'] },
    // 192.0.2.20: PTR look-up fails
    '20.2.0.192.in-addr.arpa': { servfail: true },
    // 192.0.2.30: PTR never answers (client timeout)
    '30.2.0.192.in-addr.arpa': { drop: true },
    // 192.0.2.40: PTR exists, but its name's look-up times out
    '40.2.0.192.in-addr.arpa': { PTR: ['slow.example.test'] },
    'slow.example.test': { drop: true },
    // 2001:db8::25
    [ip6Arpa('2001:0db8:0000:0000:0000:0000:0000:0025')]: { PTR: ['v6.example.test', 'v4name.example.test'] },
    'v6.example.test': { AAAA: ['2001:db8:0:0:0:0:0:25'] },
    'v4name.example.test': { A: ['192.0.2.25'] },
  });
  // long enough for a loaded machine to answer; the dropped queries below wait this long
  resolver = new dns.Resolver({ timeout: 1_000, tries: 1 });
  resolver.setServers([`${server.address}:${server.port}`]);
});

afterAll(async () => {
  await server.close();
});

describe('forwardConfirmedHostnames (real DNS server)', () => {
  it.each([
    ['192.0.2.10', ['mail.example.test', 'alias.example.test']],
    ['::ffff:192.0.2.10', ['mail.example.test', 'alias.example.test']], // mapped: PTR in in-addr.arpa, A records
    ['2001:db8::25', ['v6.example.test']], // AAAA only for IPv6 clients
    ['2001:DB8:0::25', ['v6.example.test']],
    ['192.0.2.11', []], // NXDOMAIN
    ['192.0.2.20', []], // SERVFAIL
    ['192.0.2.30', []], // timeout
    ['192.0.2.40', []], // forward look-up timeout
    ['not an ip', []],
  ])('%s -> %j', async (ip, expected) => {
    expect(await forwardConfirmedHostnames(ip, resolver)).toEqual(expected);
  });

  it('asks the reverse zone, then A for IPv4 clients', async () => {
    server.queries.length = 0;
    await forwardConfirmedHostnames('192.0.2.10', resolver);
    expect(server.queries).toContain('10.2.0.192.in-addr.arpa PTR');
    expect(server.queries).toContain('mail.example.test A');
    expect(server.queries).not.toContain('mail.example.test AAAA');
  });
});

describe('forwardConfirmedHostnames (resolver faults)', () => {
  it('treats synchronous throws and rejections as no names', async () => {
    const throwing: ReverseResolver = {
      reverse: () => {
        throw new Error('bad argument');
      },
      resolve4: () => Promise.reject(new Error('unreachable')),
      resolve6: () => Promise.reject(new Error('unreachable')),
    };
    const asked: string[] = [];
    const recording: ReverseResolver = {
      ...throwing,
      resolve4: (name) => {
        asked.push(name);
        return Promise.reject(new Error('unreachable'));
      },
    };
    expect(await forwardConfirmedHostnames('192.0.2.1', recording)).toEqual([]);
    expect(asked).toEqual([]); // a failed PTR look-up gives no names to confirm
    const noForward: ReverseResolver = { ...throwing, reverse: () => Promise.resolve(['a.test', 'a.test.']) };
    expect(await forwardConfirmedHostnames('192.0.2.1', noForward)).toEqual([]);
  });

  it('confirms at most 10 PTR names', async () => {
    const many = Array.from({ length: 50 }, (_, i) => `h${i}.test`);
    const asked: string[] = [];
    const fake: ReverseResolver = {
      reverse: () => Promise.resolve(many),
      resolve4: (name) => {
        asked.push(name);
        return Promise.resolve(['192.0.2.1']);
      },
      resolve6: () => Promise.resolve([]),
    };
    expect(await forwardConfirmedHostnames('192.0.2.1', fake)).toHaveLength(10);
    expect(asked).toHaveLength(10);
  });

  it('asks for the address without its zone, and skips PTR names that are only dots', async () => {
    const reversed: string[] = [];
    const asked: string[] = [];
    const fake: ReverseResolver = {
      reverse: (ip) => {
        reversed.push(ip);
        return Promise.resolve(['.', 'Host.Test..', 'host.test']);
      },
      resolve4: () => Promise.resolve([]),
      resolve6: (name) => {
        asked.push(name);
        return Promise.resolve(['fe80::1']);
      },
    };
    expect(await forwardConfirmedHostnames('fe80::1%eth0', fake)).toEqual(['host.test']);
    expect(reversed).toEqual(['fe80::1']);
    expect(asked).toEqual(['host.test']);
  });
});
