import { Resolver } from 'node:dns/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer } from '../helpers/dns-server.js';
import type { RunningDnsServer } from '../helpers/dns-server.js';

const longTxt = 'v=DKIM1; k=rsa; p=' + 'A'.repeat(400);

describe('startDnsServer (test helper)', () => {
  let dns: RunningDnsServer;
  let resolver: Resolver;

  beforeAll(async () => {
    dns = await startDnsServer({
      'Example.Test': {
        MX: [
          { exchange: 'mx2.example.test', priority: 20 },
          { exchange: 'mx1.example.test', priority: 10 },
        ],
        TXT: ['v=spf1 -all', longTxt],
        ttl: 60,
      },
      'mx1.example.test': { A: ['127.0.0.1', '127.0.0.2'], AAAA: ['::1'] },
      'nullmx.test': { MX: [{ exchange: '.', priority: 0 }] },
      '5.2.0.192.in-addr.arpa': { PTR: ['host5.example.test'] },
      'broken.test': { servfail: true },
    });
    resolver = new Resolver({ timeout: 500, tries: 1 });
    resolver.setServers([`${dns.address}:${dns.port}`]);
  });
  afterAll(async () => {
    await dns.close();
  });

  it('serves MX records, names case-insensitive', async () => {
    const mx = await resolver.resolveMx('EXAMPLE.test');
    expect(mx.sort((a, b) => a.priority - b.priority)).toEqual([
      { exchange: 'mx1.example.test', priority: 10 },
      { exchange: 'mx2.example.test', priority: 20 },
    ]);
  });

  it('serves A and AAAA with TTLs', async () => {
    const a = await resolver.resolve4('mx1.example.test', { ttl: true });
    expect(a).toEqual([
      { address: '127.0.0.1', ttl: 300 },
      { address: '127.0.0.2', ttl: 300 },
    ]);
    expect(await resolver.resolve6('mx1.example.test')).toEqual(['::1']);
  });

  it('joins long TXT records split in 255-byte chunks', async () => {
    const txt = await resolver.resolveTxt('example.test');
    const joined = txt.map((chunks) => chunks.join(''));
    expect(joined).toContain('v=spf1 -all');
    expect(joined).toContain(longTxt);
    expect(txt.find((chunks) => chunks.join('') === longTxt)?.length).toBe(2);
  });

  it('serves PTR for reverse look-ups', async () => {
    expect(await resolver.reverse('192.0.2.5')).toEqual(['host5.example.test']);
  });

  it('answers a null MX', async () => {
    expect(await resolver.resolveMx('nullmx.test')).toEqual([{ exchange: '', priority: 0 }]);
  });

  it('answers NXDOMAIN for unknown names and NODATA for missing types', async () => {
    await expect(resolver.resolveMx('nowhere.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(resolver.resolve4('example.test')).rejects.toMatchObject({ code: 'ENODATA' });
  });

  it('answers SERVFAIL when asked to', async () => {
    await expect(resolver.resolveMx('broken.test')).rejects.toMatchObject({ code: 'ESERVFAIL' });
  });

  it('sees zone changes made while running', async () => {
    dns.zone['late.test'] = { A: ['127.0.0.9'] };
    expect(await resolver.resolve4('late.test')).toEqual(['127.0.0.9']);
    delete dns.zone['late.test'];
    await expect(resolver.resolve4('late.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    expect(dns.queries).toContain('late.test A');
  });
});
