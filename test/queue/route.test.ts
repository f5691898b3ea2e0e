import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MxCache, type MxHost, type Resolved } from '../../src/delivery/mx.js';
import { createResolver, type DnsResolver } from '../../src/dns/resolver.js';
import type { MessageRecord } from '../../src/domain/envelope.js';
import type { DeliveryJob } from '../../src/domain/job.js';
import { RELAY_DESTINATION, RouteWarmer, destinationKey, ratedDomainOf } from '../../src/queue/route.js';
import { startDnsServer, type RunningDnsServer } from '../helpers/dns-server.js';

const record = { id: 'm1' } as unknown as MessageRecord;
const jobFor = (domain: string): DeliveryJob => ({ record, domain, recipients: [] });

const host = (name: string, priority = 10): MxHost => ({ name, priority, addresses: ['127.0.0.1'] });
const hosts = (domain: string, list: readonly MxHost[]): Resolved => ({
  destination: { kind: 'hosts', domain, implicit: false, hosts: list },
  ttlSeconds: 300,
});

describe('destinationKey', () => {
  let now = 0;
  const clock = (): number => now;
  let cache: MxCache;
  const none = new Set<string>();

  beforeEach(() => {
    now = 0;
    cache = new MxCache(clock);
  });

  it.each<[string, string, boolean, string[], string]>([
    ['relay mode: everything goes to the smarthost', 'x.test', true, [], RELAY_DESTINATION],
    ['relay mode: a rated domain is its own destination', 'rated.test', true, ['rated.test'], 'rated:rated.test'],
    [
      'MX mode: a rated domain is its own destination, whatever its MX',
      'rated.test',
      false,
      ['rated.test'],
      'rated:rated.test',
    ],
    ['MX mode: before the MX answer is cached, the domain itself', 'x.test', false, [], 'domain:x.test'],
  ])('%s', (_, domain, relay, rated, key) => {
    expect(destinationKey(jobFor(domain), relay, cache, new Set(rated))).toBe(key);
  });

  it('a rated domain keeps its own key even when its MX answer is cached', () => {
    cache.set('rated.test', hosts('rated.test', [host('mx.shared.test')]));
    expect(destinationKey(jobFor('rated.test'), false, cache, new Set(['rated.test']))).toBe('rated:rated.test');
  });

  it('two domains with the same MX hosts, in any order and case, share one mx: key', () => {
    cache.set('a.test', hosts('a.test', [host('mx1.shared.test', 10), host('MX2.shared.test', 20)]));
    cache.set('b.test', hosts('b.test', [host('mx2.shared.test', 5), host('mx1.Shared.test', 50)]));
    const a = destinationKey(jobFor('a.test'), false, cache, none);
    expect(a).toBe('mx:mx1.shared.test,mx2.shared.test');
    expect(destinationKey(jobFor('b.test'), false, cache, none)).toBe(a);
  });

  it('different MX host sets are different destinations', () => {
    cache.set('a.test', hosts('a.test', [host('mx1.shared.test'), host('mx2.shared.test')]));
    cache.set('c.test', hosts('c.test', [host('mx1.shared.test')]));
    expect(destinationKey(jobFor('a.test'), false, cache, none)).not.toBe(
      destinationKey(jobFor('c.test'), false, cache, none),
    );
  });

  it('a cached failure is no host set: the domain itself', () => {
    cache.set('nullmx.test', {
      destination: { kind: 'failed', domain: 'nullmx.test', response: '5.1.10 null MX' },
      ttlSeconds: 60,
    });
    expect(destinationKey(jobFor('nullmx.test'), false, cache, none)).toBe('domain:nullmx.test');
  });

  it('an expired answer: the domain itself again', () => {
    cache.set('a.test', hosts('a.test', [host('mx1.shared.test')]));
    expect(destinationKey(jobFor('a.test'), false, cache, none)).toBe('mx:mx1.shared.test');
    now = 300_000;
    expect(destinationKey(jobFor('a.test'), false, cache, none)).toBe('domain:a.test');
  });
});

describe('ratedDomainOf', () => {
  it.each([
    ['rated:x.test', 'x.test'],
    ['domain:x.test', undefined],
    ['mx:mx1.x.test', undefined],
    [RELAY_DESTINATION, undefined],
  ])('%s → %s', (key, domain) => {
    expect(ratedDomainOf(key)).toBe(domain);
  });
});

describe('RouteWarmer (real resolver, local DNS server)', () => {
  let dns: RunningDnsServer;
  let resolver: DnsResolver;

  beforeAll(async () => {
    dns = await startDnsServer({
      'one.test': {
        MX: [
          { exchange: 'mx1.shared.test', priority: 10 },
          { exchange: 'mx2.shared.test', priority: 20 },
        ],
      },
      'two.test': {
        MX: [
          { exchange: 'mx2.shared.test', priority: 10 },
          { exchange: 'mx1.shared.test', priority: 10 },
        ],
      },
      'mx1.shared.test': { A: ['127.0.0.1'] },
      'mx2.shared.test': { A: ['127.0.0.2'] },
      'other.test': { MX: [{ exchange: 'mx1.shared.test', priority: 10 }] },
      'broken.test': { servfail: true },
      // the cache keeps an answer as long as its host addresses' TTL
      'zero.test': { MX: [{ exchange: 'mx.zero.test', priority: 10 }] },
      'mx.zero.test': { A: ['127.0.0.1'], ttl: 0 },
      'short.test': { MX: [{ exchange: 'mx.short.test', priority: 10 }] },
      'mx.short.test': { A: ['127.0.0.1'], ttl: 5 },
    });
    resolver = createResolver([{ host: dns.address, port: dns.port }], { timeoutMs: 500, tries: 1 });
  });
  afterAll(() => dns.close());

  const none = new Set<string>();
  const mxQueries = (domain: string): number => dns.queries.filter((q) => q === `${domain} MX`).length;
  /** A warmer and its cache on a clock the test moves (`clock.now`). */
  const clocked = () => {
    const clock = { now: Date.now() };
    const cache = new MxCache(() => clock.now);
    return {
      cache,
      clock,
      warmer: new RouteWarmer(
        cache,
        resolver,
        () => 0,
        () => clock.now,
      ),
    };
  };
  /** The look-up a job waits for (there must be one). */
  const lookup = (warmer: RouteWarmer, domain: string): Promise<void> => {
    const waiting = warmer.warm(jobFor(domain), false, none);
    if (!waiting) throw new Error(`no look-up for ${domain}`);
    return waiting;
  };

  it('one look-up for many concurrent jobs of one domain; then domains with the same MX hosts share a key', async () => {
    const cache = new MxCache(Date.now);
    const warmer = new RouteWarmer(cache, resolver, () => 0);
    expect(destinationKey(jobFor('one.test'), false, cache, none)).toBe('domain:one.test');
    const waits = Array.from({ length: 20 }, () => lookup(warmer, 'one.test'));
    expect(new Set(waits).size).toBe(1); // every job waits on the same look-up
    await Promise.all(waits);
    expect(mxQueries('one.test')).toBe(1);
    expect(dns.queries.filter((q) => q === 'mx1.shared.test A').length).toBe(1);

    // cached now: no more look-ups
    expect(warmer.warm(jobFor('one.test'), false, none)).toBeUndefined();
    expect(mxQueries('one.test')).toBe(1);

    await lookup(warmer, 'two.test');
    const key = destinationKey(jobFor('one.test'), false, cache, none);
    expect(key).toBe('mx:mx1.shared.test,mx2.shared.test');
    expect(destinationKey(jobFor('two.test'), false, cache, none)).toBe(key);
    await lookup(warmer, 'other.test');
    expect(destinationKey(jobFor('other.test'), false, cache, none)).toBe('mx:mx1.shared.test');
  });

  it('nothing to look up in relay mode or for a rated domain', () => {
    const warmer = new RouteWarmer(new MxCache(Date.now), resolver, () => 0);
    const before = dns.queries.length;
    expect(warmer.warm(jobFor('one.test'), true, none)).toBeUndefined();
    expect(warmer.warm(jobFor('one.test'), false, new Set(['one.test']))).toBeUndefined();
    expect(dns.queries.length).toBe(before);
  });

  it('a failed look-up resolves (the attempt reports it) and is not cached; the next jobs skip it for 10 s, then look again', async () => {
    const { cache, warmer, clock } = clocked();
    const before = mxQueries('broken.test');
    const waits = [lookup(warmer, 'broken.test'), lookup(warmer, 'broken.test')];
    await expect(Promise.all(waits)).resolves.toEqual([undefined, undefined]);
    expect(mxQueries('broken.test') - before).toBe(1);
    expect(destinationKey(jobFor('broken.test'), false, cache, none)).toBe('domain:broken.test');
    // each job's own attempt looks it up; warming it again first would double the queries
    expect(warmer.warm(jobFor('broken.test'), false, none)).toBeUndefined();
    clock.now += 9_999;
    expect(warmer.warm(jobFor('broken.test'), false, none)).toBeUndefined();
    clock.now += 1; // exactly 10 s on: looked up again
    await lookup(warmer, 'broken.test');
    expect(mxQueries('broken.test') - before).toBe(2);
  });

  it('an answer the cache cannot keep (TTL 0) is looked up once, then left to the attempts for 10 s', async () => {
    const warmer = new RouteWarmer(new MxCache(Date.now), resolver, () => 0);
    const before = mxQueries('zero.test');
    await lookup(warmer, 'zero.test');
    expect(warmer.warm(jobFor('zero.test'), false, none)).toBeUndefined();
    expect(mxQueries('zero.test') - before).toBe(1);
  });

  it('a cached answer that expires is looked up again at once', async () => {
    const { warmer, clock } = clocked();
    const before = mxQueries('short.test');
    await lookup(warmer, 'short.test');
    expect(warmer.warm(jobFor('short.test'), false, none)).toBeUndefined(); // cached
    clock.now += 6_000; // past the 5 s TTL
    await lookup(warmer, 'short.test');
    expect(mxQueries('short.test') - before).toBe(2);
  });
});
