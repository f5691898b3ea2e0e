import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResolver } from '../../src/dns/resolver.js';
import type { DnsResolver } from '../../src/dns/resolver.js';
import { lookupDestination, MxCache, orderHosts, resolveDestination } from '../../src/delivery/mx.js';
import type { MxHost } from '../../src/delivery/mx.js';
import { startDnsServer } from '../helpers/dns-server.js';
import type { RunningDnsServer } from '../helpers/dns-server.js';

describe('resolveDestination', () => {
  let dns: RunningDnsServer;
  let resolver: DnsResolver;

  beforeAll(async () => {
    dns = await startDnsServer({
      'example.test': {
        MX: [
          { exchange: 'mx3.example.test', priority: 30 },
          { exchange: 'mx1.example.test', priority: 10 },
          { exchange: 'mx2.example.test', priority: 20 },
        ],
      },
      'mx1.example.test': { A: ['127.0.0.1'], ttl: 30 },
      'mx2.example.test': { A: ['127.0.0.2'], AAAA: ['::1'] },
      'mx3.example.test': {},
      'implicit.test': { A: ['127.0.0.5'] },
      'nullmx.test': { MX: [{ exchange: '.', priority: 0 }], A: ['127.0.0.6'] },
      'empty.test': {},
      'broken.test': { servfail: true },
      // no MX (NODATA), and its address look-ups fail for now
      'addrfail.test': { servfail: ['A', 'AAAA'] },
      'dangling.test': { MX: [{ exchange: 'nowhere.test', priority: 10 }] },
      'flaky.test': { MX: [{ exchange: 'sf.flaky.test', priority: 10 }] },
      'sf.flaky.test': { servfail: true },
      'ipmx.test': { MX: [{ exchange: '127.0.0.7', priority: 10 }] },
      'halfnull.test': {
        MX: [
          { exchange: 'mx1.example.test', priority: 10 },
          { exchange: '.', priority: 0 },
        ],
      },
      'short.test': { A: ['127.0.0.8'], ttl: 30 },
      'long.test': { A: ['127.0.0.8'], ttl: 3600 },
    });
    resolver = createResolver([{ host: dns.address, port: dns.port }], { timeoutMs: 300, tries: 1 });
  });
  afterAll(() => dns.close());

  it('sorts MX by preference and resolves each host (IPv4 first), skipping hosts without addresses', async () => {
    const d = await resolveDestination('Example.TEST', resolver, () => 0);
    expect(d).toEqual({
      kind: 'hosts',
      domain: 'example.test',
      implicit: false,
      hosts: [
        { name: 'mx1.example.test', priority: 10, addresses: ['127.0.0.1'] },
        { name: 'mx2.example.test', priority: 20, addresses: ['127.0.0.2', '::1'] },
      ],
    });
  });

  it('uses the domain itself when there is no MX (implicit MX)', async () => {
    expect(await resolveDestination('implicit.test', resolver, Math.random)).toEqual({
      kind: 'hosts',
      domain: 'implicit.test',
      implicit: true,
      hosts: [{ name: 'implicit.test', priority: 0, addresses: ['127.0.0.5'] }],
    });
  });

  it('fails permanently on a null MX, NXDOMAIN, or no records at all', async () => {
    expect(await resolveDestination('nullmx.test', resolver, Math.random)).toMatchObject({
      kind: 'failed',
      response: expect.stringMatching(/^5\.1\.10 /),
    });
    expect(await resolveDestination('nonexistent.test', resolver, Math.random)).toMatchObject({
      kind: 'failed',
      response: expect.stringMatching(/^5\.1\.2 .*NXDOMAIN/),
    });
    expect(await resolveDestination('empty.test', resolver, Math.random)).toMatchObject({
      kind: 'failed',
      response: expect.stringMatching(/^5\.1\.2 /),
    });
  });

  it('defers on SERVFAIL and on MX hosts that do not resolve', async () => {
    expect(await resolveDestination('broken.test', resolver, Math.random)).toMatchObject({
      kind: 'deferred',
      response: expect.stringMatching(/^4\.4\.3 /),
    });
    expect(await resolveDestination('dangling.test', resolver, Math.random)).toMatchObject({ kind: 'deferred' });
    // a domain without MX whose address look-ups fail for now is deferred, never bounced as having no address
    expect(await resolveDestination('addrfail.test', resolver, Math.random)).toMatchObject({
      kind: 'deferred',
      response: expect.stringMatching(/^4\.4\.3 DNS failure looking up addrfail\.test: /),
    });
  });

  it('names the MX host whose addresses could not be looked up, and takes an MX that is an address as it is', async () => {
    expect(await resolveDestination('flaky.test', resolver, Math.random)).toMatchObject({
      kind: 'deferred',
      response: expect.stringMatching(/^4\.4\.3 no usable MX host for flaky\.test: sf\.flaky\.test: \S/),
    });
    expect(await resolveDestination('ipmx.test', resolver, Math.random)).toMatchObject({
      kind: 'hosts',
      hosts: [{ name: '127.0.0.7', addresses: ['127.0.0.7'] }],
    });
  });

  it('takes only a whole bracketed address as a domain literal', async () => {
    expect(await resolveDestination('[IPv6:::1]', resolver, Math.random)).toMatchObject({
      kind: 'hosts',
      hosts: [{ addresses: ['::1'] }],
    });
    for (const name of ['x[127.0.0.9]', '[127.0.0.9]x', '[not-an-address]']) {
      expect((await resolveDestination(name, resolver, Math.random)).kind, name).not.toBe('hosts');
    }
  });

  it('looks up hosts in preference order, TTLs capped at five minutes, and names hosts without addresses', async () => {
    const found = await lookupDestination('example.test', resolver);
    expect(found.destination).toMatchObject({
      kind: 'hosts',
      implicit: false,
      hosts: [{ name: 'mx1.example.test' }, { name: 'mx2.example.test' }],
    });
    expect(found.ttlSeconds).toBe(30); // mx1's A record
    expect((await lookupDestination('short.test', resolver)).ttlSeconds).toBe(30);
    expect((await lookupDestination('long.test', resolver)).ttlSeconds).toBe(300);
    expect((await lookupDestination('[127.0.0.9]', resolver)).destination).toMatchObject({ implicit: true });
    expect((await lookupDestination('dangling.test', resolver)).destination).toMatchObject({
      kind: 'deferred',
      response: '4.4.3 no usable MX host for dangling.test: nowhere.test: no A or AAAA records',
    });
    // a null MX among others still says the domain takes no mail
    expect((await lookupDestination('halfnull.test', resolver)).destination).toMatchObject({
      kind: 'failed',
      response: expect.stringMatching(/^5\.1\.10 /),
    });
  });

  it('handles domain literals without DNS', async () => {
    expect(await resolveDestination('[127.0.0.9]', resolver, Math.random)).toMatchObject({
      kind: 'hosts',
      hosts: [{ addresses: ['127.0.0.9'] }],
    });
  });

  it('caches answers until their TTL runs out, on the injected clock', async () => {
    let now = 1_000_000;
    const cache = new MxCache(() => now);
    dns.zone['cached.test'] = { MX: [{ exchange: 'mx1.example.test', priority: 1 }] };
    const before = dns.queries.filter((q) => q === 'cached.test MX').length;
    await resolveDestination('cached.test', resolver, Math.random, cache);
    dns.zone['cached.test'] = { MX: [{ exchange: 'mx2.example.test', priority: 1 }] };
    expect(await resolveDestination('cached.test', resolver, Math.random, cache)).toMatchObject({
      hosts: [{ name: 'mx1.example.test' }],
    });
    expect(dns.queries.filter((q) => q === 'cached.test MX').length).toBe(before + 1);
    now += 31_000; // mx1's A record has a 30 s TTL
    expect(await resolveDestination('cached.test', resolver, Math.random, cache)).toMatchObject({
      hosts: [{ name: 'mx2.example.test' }],
    });
  });

  it('forgets an answer exactly when its TTL runs out, and keeps at most maxEntries domains', () => {
    let now = 1_000_000;
    const cache = new MxCache(() => now, 2);
    const answer = { destination: { kind: 'failed', domain: 'x', response: '5.1.2 x' }, ttlSeconds: 30 } as const;
    cache.set('a.test', answer);
    now += 29_999;
    expect(cache.get('a.test')).toBe(answer);
    now += 1;
    expect(cache.get('a.test')).toBeUndefined();
    cache.set('a.test', answer);
    cache.set('b.test', answer);
    cache.set('c.test', answer);
    expect(cache.size).toBe(2);
    expect(cache.get('a.test')).toBeUndefined(); // the oldest went
    expect(cache.get('c.test')).toBe(answer);
  });

  it('does not cache temporary failures', async () => {
    const cache = new MxCache(() => 0);
    await resolveDestination('broken.test', resolver, Math.random, cache);
    expect(cache.size).toBe(0);
  });
});

describe('orderHosts', () => {
  const host = (name: string, priority: number): MxHost => ({ name, priority, addresses: [] });
  const hosts = [host('c', 20), host('a1', 10), host('a2', 10), host('a3', 10), host('d', 30)];

  it('keeps preference order and shuffles only equal preferences', () => {
    const seen = new Set<string>();
    for (const r of [0, 0.2, 0.4, 0.6, 0.8, 0.99]) {
      const ordered = orderHosts(hosts, () => r).map((h) => h.name);
      expect(ordered.slice(3)).toEqual(['c', 'd']);
      expect([...ordered.slice(0, 3)].sort()).toEqual(['a1', 'a2', 'a3']);
      seen.add(ordered.slice(0, 3).join(','));
    }
    expect(seen.size).toBeGreaterThan(1);
  });

  it('shuffles by Fisher–Yates: exactly this order for these random numbers, the input left alone', () => {
    const input = [host('a1', 10), host('a2', 10), host('a3', 10), host('c', 20), host('d', 30)];
    const names = (r: number): string[] => orderHosts(input, () => r).map((h) => h.name);
    expect(names(0)).toEqual(['a2', 'a3', 'a1', 'c', 'd']);
    expect(names(0.5)).toEqual(['a1', 'a3', 'a2', 'c', 'd']);
    expect(names(0.9999999)).toEqual(['a1', 'a2', 'a3', 'c', 'd']);
    expect(input.map((h) => h.name)).toEqual(['a1', 'a2', 'a3', 'c', 'd']);
  });
});
