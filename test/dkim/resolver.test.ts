import { describe, expect, it } from 'vitest';
import type { DnsResolver } from '../../src/dns/resolver.js';
import { reverseName } from '../../src/dns/resolver.js';
import { addressOfReverseName, mailauthResolver, withDeadline } from '../../src/dkim/resolver.js';

const fake: DnsResolver = {
  resolveMx: () => Promise.resolve([{ exchange: 'mx.example.test', priority: 10 }]),
  resolve4: () => Promise.resolve([{ address: '192.0.2.1', ttl: 60 }]),
  resolve6: () => Promise.resolve([{ address: '2001:db8::1', ttl: 60 }]),
  resolveTxt: () => Promise.resolve([['v=spf1 ', '-all']]),
  reverse: (ip) => Promise.resolve([`host-${ip}.example.test`]),
};

describe('mailauth resolver over the DNS seam', () => {
  it("answers in node's dns.resolve shapes", async () => {
    const resolve = mailauthResolver(fake);
    expect(await resolve('example.test', 'TXT')).toEqual([['v=spf1 ', '-all']]);
    expect(await resolve('example.test', 'A')).toEqual(['192.0.2.1']);
    expect(await resolve('example.test', 'AAAA')).toEqual(['2001:db8::1']);
    expect(await resolve('example.test', 'MX')).toEqual([{ exchange: 'mx.example.test', priority: 10 }]);
    expect(await resolve('1.2.0.192.in-addr.arpa', 'PTR')).toEqual(['host-192.0.2.1.example.test']);
    await expect(resolve('example.test', 'CAA')).rejects.toMatchObject({ code: 'ENOTIMP' });
  });

  it.each(['192.0.2.1', '2001:db8::1', '::1'])('reverse names round-trip: %s', (ip) => {
    const back = addressOfReverseName(reverseName(ip));
    expect(back && reverseName(back)).toBe(reverseName(ip));
  });

  it('withDeadline fails look-ups with ETIMEOUT once the budget is spent', async () => {
    let now = 0;
    const never: DnsResolver = { ...fake, resolveTxt: () => new Promise(() => undefined) };
    const resolve = withDeadline(mailauthResolver(never), 50, () => now);
    await expect(resolve('slow.test', 'TXT')).rejects.toMatchObject({ code: 'ETIMEOUT' });
    expect(await resolve('fast.test', 'A')).toEqual(['192.0.2.1']);
    now = 50;
    await expect(resolve('fast.test', 'A')).rejects.toMatchObject({ code: 'ETIMEOUT' });
  });
});
