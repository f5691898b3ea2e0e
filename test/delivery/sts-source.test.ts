/**
 * MTA-STS discovery, fetch and cache (RFC 8461 §3, §5) against a real DNS
 * server (TXT, A), a real HTTPS policy host with a test CA, and a real cache
 * file; only the clock is the test's, so max_age and re-checks need no
 * waiting.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { trustedCas } from '../../src/delivery/transport.js';
import { openStsCache, type CachedPolicy } from '../../src/delivery/tls/sts-cache.js';
import { fetchStsPolicy, lookupThrough, type StsFetchOptions } from '../../src/delivery/tls/sts-fetch.js';
import type { StsPolicy } from '../../src/delivery/tls/sts-policy.js';
import { StsResolver, type StsReport } from '../../src/delivery/tls/sts-source.js';
import { createResolver } from '../../src/dns/resolver.js';
import { startDnsServer, type RunningDnsServer } from '../helpers/dns-server.js';
import { eventually } from '../helpers/eventually.js';
import { testCa, type TestCa } from '../helpers/pki.js';
import { startPolicyHost, type PolicyHost } from '../helpers/policy-host.js';

const ENFORCE = 'version: STSv1\r\nmode: enforce\r\nmx: mx.a.test\r\nmx: *.a.test\r\nmax_age: 600\r\n';
const TESTING = 'version: STSv1\r\nmode: testing\r\nmx: mx.a.test\r\nmax_age: 600\r\n';
const DOMAINS = ['a.test', 'big.test', 'moved.test', 'slow.test', 'bad.test', 'wrongcert.test'];

let ca: TestCa;
let host: PolicyHost;
let wrongHost: PolicyHost;
let dns: RunningDnsServer;
let dir: string;
let fetchOptions: StsFetchOptions;
let resolver: ReturnType<typeof createResolver>;

beforeAll(async () => {
  ca = await testCa();
  host = await startPolicyHost(await ca.issue('mta-sts.a.test', { altNames: DOMAINS.map((d) => `mta-sts.${d}`) }));
  wrongHost = await startPolicyHost(await ca.issue('somewhere-else.test'));
  dns = await startDnsServer({});
  dir = await mkdtemp(join(tmpdir(), 'gp-sts-'));
  resolver = createResolver([{ host: '127.0.0.1', port: dns.port }]);
  fetchOptions = {
    resolver,
    ca: trustedCas(ca.cert),
    port: host.port,
    timeoutMs: 1_000,
  };
});

afterAll(async () => {
  await host?.close();
  await wrongHost?.close();
  await dns?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  for (const key of Object.keys(dns.zone)) delete dns.zone[key];
  for (const key of Object.keys(host.policies)) delete host.policies[key];
  host.fetches.length = 0;
  for (const d of DOMAINS) dns.zone[`mta-sts.${d}`] = { A: ['127.0.0.1'] };
});

describe('fetchStsPolicy', () => {
  it('fetches over HTTPS from mta-sts.<domain>, resolved through the given DNS server', async () => {
    host.policies['mta-sts.a.test'] = { body: ENFORCE };
    expect(await fetchStsPolicy('a.test', fetchOptions)).toEqual({ ok: true, text: ENFORCE });
    expect(host.fetches).toEqual(['mta-sts.a.test']);
  });

  it.each<[string, string, () => Partial<StsFetchOptions>, RegExp]>([
    [
      'a certificate for another name',
      'wrongcert.test',
      () => ({ port: wrongHost.port }),
      /mta-sts\.wrongcert\.test.*(altnames|does not match)/i,
    ],
    [
      'a CA it does not trust (the system CAs only)',
      'a.test',
      () => {
        host.policies['mta-sts.a.test'] = { body: ENFORCE };
        return { ca: undefined };
      },
      /certificate|self.signed|issuer/i,
    ],
    [
      'a redirect',
      'moved.test',
      () => {
        host.policies['mta-sts.moved.test'] = { status: 301, headers: { location: 'https://elsewhere.test/' } };
        return {};
      },
      /HTTP 301 to https:\/\/elsewhere\.test\/ \(redirects are not followed\)/,
    ],
    ['no policy (404)', 'bad.test', () => ({}), /answered HTTP 404/],
    [
      'a policy over the size limit',
      'big.test',
      () => {
        host.policies['mta-sts.big.test'] = { body: 'x'.repeat(70_000) };
        return {};
      },
      /larger than 65536 bytes/,
    ],
    [
      'a host that never answers',
      'slow.test',
      () => {
        host.policies['mta-sts.slow.test'] = { hang: true };
        return { timeoutMs: 300 };
      },
      /took longer than 300 ms/,
    ],
    [
      'a name without address',
      'bad.test',
      () => {
        delete dns.zone['mta-sts.bad.test'];
        return {};
      },
      /mta-sts\.bad\.test has no address/,
    ],
    [
      'a connection dropped in the middle of the policy',
      'a.test',
      () => {
        host.policies['mta-sts.a.test'] = { body: ENFORCE.repeat(20), cut: true };
        return {};
      },
      /^reading the policy failed: /,
    ],
  ])('fails, saying why, on %s', async (_name, domain, arrange, why) => {
    const { ca: extra, ...rest } = { ...fetchOptions, ...arrange() };
    const result = await fetchStsPolicy(domain, { ...rest, ...(extra ? { ca: extra } : {}) });
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.why).toMatch(why);
  });
});

describe('fetchStsPolicy, exactly', () => {
  it('takes a policy of exactly maxBytes, and names the URL of a refusal', async () => {
    host.policies['mta-sts.a.test'] = { body: ENFORCE };
    const size = Buffer.byteLength(ENFORCE);
    expect(await fetchStsPolicy('a.test', { ...fetchOptions, maxBytes: size })).toEqual({ ok: true, text: ENFORCE });
    expect(await fetchStsPolicy('a.test', { ...fetchOptions, maxBytes: size - 1 })).toEqual({
      ok: false,
      why: `the policy is larger than ${size - 1} bytes`,
    });
    expect(await fetchStsPolicy('bad.test', fetchOptions)).toEqual({
      ok: false,
      why: 'https://mta-sts.bad.test/.well-known/mta-sts.txt answered HTTP 404',
    });
    const thrown = await fetchStsPolicy('\u0100.test', fetchOptions);
    expect(thrown.ok ? '' : thrown.why).toMatch(/^fetching the policy from mta-sts\.\u0100\.test failed: \S/);
  });

  it("resolves names for node's HTTPS client through our resolver: IPv4 first, or ENOTFOUND", async () => {
    dns.zone['both.test'] = { A: ['127.0.0.9'], AAAA: ['::9'] };
    const lookup = lookupThrough(resolver);
    const ask = (name: string, all: boolean) =>
      new Promise<{ error: NodeJS.ErrnoException | null; address: unknown; family?: number }>((resolve) =>
        lookup(name, { all }, (error, address, family) => resolve({ error, address, family })),
      );
    expect(await ask('both.test', false)).toEqual({ error: null, address: '127.0.0.9', family: 4 });
    expect(await ask('both.test', true)).toMatchObject({
      error: null,
      address: [
        { address: '127.0.0.9', family: 4 },
        { address: '::9', family: 6 },
      ],
    });
    const missing = await ask('nowhere.test', false);
    expect(missing.error).toMatchObject({ code: 'ENOTFOUND', message: 'nowhere.test has no address' });
    expect(missing.address).toBe('');
  });
});

/** A resolver over a fresh cache file, with the test's clock and a record of its reports. */
async function source(file: string, clock: { now: number }, recheckMs = 60_000) {
  const reports: StsReport[] = [];
  const errors: string[] = [];
  const cache = await openStsCache(file, { clock: () => clock.now, onError: (m) => errors.push(m) });
  const sts = new StsResolver({
    resolver,
    fetch: (domain) => fetchStsPolicy(domain, fetchOptions),
    cache,
    clock: () => clock.now,
    recheckMs,
    report: (r) => reports.push(r),
  });
  return { sts, cache, reports, errors };
}

describe('StsResolver', () => {
  const txt = (id: string): void => {
    dns.zone['_mta-sts.a.test'] = { TXT: [`v=STSv1; id=${id};`] };
  };

  it('looks up an internationalized domain by its A-label form', async () => {
    dns.zone['_mta-sts.xn--fiq228c.test'] = { TXT: ['v=STSv1; id=idn;'] };
    const clock = { now: 1_000_000 };
    const { sts, reports } = await source(join(dir, 'idn.json'), clock);
    // the policy host cannot be reached here (no A record): what matters is the names asked and that nothing throws
    expect(await sts.policyFor('中文.test')).toBeUndefined();
    expect(dns.queries).toContain('_mta-sts.xn--fiq228c.test TXT');
    expect(reports).toEqual([expect.objectContaining({ kind: 'failed', domain: 'xn--fiq228c.test' })]);
  });

  it('never rejects, even when a fetch throws where it should have answered', async () => {
    txt('one');
    const clock = { now: 1_000_000 };
    const cache = await openStsCache(join(dir, 'throws.json'), { clock: () => clock.now });
    const reports: StsReport[] = [];
    const sts = new StsResolver({
      resolver,
      fetch: () => Promise.reject(new TypeError('Invalid character in header content ["Host"]')),
      cache,
      clock: () => clock.now,
      report: (r) => reports.push(r),
    });
    expect(await sts.policyFor('a.test')).toBeUndefined();
    clock.now += 61_000; // the next look happens in the background: its failure must not be an unhandled rejection
    expect(await sts.policyFor('a.test')).toBeUndefined();
    await eventually(() => reports.length === 2);
    expect(reports.map((r) => r.kind)).toEqual(['failed', 'failed']);
    expect(reports[0]).toMatchObject({ why: expect.stringContaining('Invalid character') });
  });

  it('fetchStsPolicy answers a failure, not a throw, for a name node cannot put in a Host header', async () => {
    const result = await fetchStsPolicy('\u0100.test', fetchOptions);
    expect(result.ok).toBe(false);
  });

  it('waits for the first look-up once, shared by concurrent deliveries, then answers from the cache', async () => {
    txt('one');
    host.policies['mta-sts.a.test'] = { body: ENFORCE };
    const clock = { now: 1_000_000 };
    const { sts, reports } = await source(join(dir, 'first.json'), clock);
    const policies = await Promise.all([sts.policyFor('a.test'), sts.policyFor('a.test'), sts.policyFor('a.test')]);
    expect(policies.map((p) => p?.mode)).toEqual(['enforce', 'enforce', 'enforce']);
    expect(policies[0]?.mx).toEqual(['mx.a.test', '*.a.test']);
    expect(host.fetches).toEqual(['mta-sts.a.test']);
    expect(reports).toEqual([expect.objectContaining({ kind: 'fetched', domain: 'a.test', id: 'one' })]);
    // within the re-check interval: no DNS, no fetch
    const queries = dns.queries.length;
    clock.now += 30_000;
    expect((await sts.policyFor('a.test'))?.mode).toBe('enforce');
    expect(dns.queries.length).toBe(queries);
  });

  it('re-fetches in the background when the id changes; the delivery that noticed does not wait', async () => {
    txt('one');
    host.policies['mta-sts.a.test'] = { body: ENFORCE };
    const clock = { now: 1_000_000 };
    const { sts } = await source(join(dir, 'id-change.json'), clock);
    expect((await sts.policyFor('a.test'))?.mode).toBe('enforce');
    txt('two');
    host.policies['mta-sts.a.test'] = { hang: true }; // the new policy is slow to come
    clock.now += 61_000;
    const started = Date.now();
    expect((await sts.policyFor('a.test'))?.mode).toBe('enforce'); // the cached one, at once
    expect(Date.now() - started).toBeLessThan(500); // not the 1 s fetch timeout
    await eventually(
      () => host.fetches.length === 2,
      3_000,
      () => 'the background fetch of the new id',
    );
    host.policies['mta-sts.a.test'] = { body: TESTING };
    clock.now += 61_000;
    await eventually(
      async () => (await sts.policyFor('a.test'))?.mode === 'testing',
      5_000,
      () => 'the new policy',
    );
  });

  it('does not fetch again for the same id until the policy is half its max_age old', async () => {
    txt('same');
    host.policies['mta-sts.a.test'] = { body: ENFORCE }; // max_age 600 s
    const clock = { now: 1_000_000 };
    const { sts, reports } = await source(join(dir, 'same-id.json'), clock);
    await sts.policyFor('a.test');
    const queries = dns.queries.length;
    clock.now += 200_000;
    await sts.policyFor('a.test');
    await eventually(
      () => dns.queries.length > queries,
      3_000,
      () => 'the background TXT look-up',
    );
    await eventually(async () => (await sts.policyFor('a.test')) !== undefined);
    expect(host.fetches).toHaveLength(1);
    clock.now += 150_000; // 350 s: past half of 600
    // asked again until it fetches: the first call may join the look started at 200 s if that is still running
    await eventually(
      async () => {
        await sts.policyFor('a.test');
        return host.fetches.length === 2;
      },
      3_000,
      () => 'the refresh fetch',
    );
    await eventually(() => reports.filter((r) => r.kind === 'fetched').length === 2);
  });

  it('keeps a valid cached enforce policy when the fetch fails, and goes opportunistic once it expired', async () => {
    txt('one');
    host.policies['mta-sts.a.test'] = { body: ENFORCE };
    const clock = { now: 1_000_000 };
    const { sts, reports } = await source(join(dir, 'expiry.json'), clock);
    await sts.policyFor('a.test');
    txt('two');
    host.policies['mta-sts.a.test'] = { status: 500, body: 'down' }; // an attacker blocks the fetch
    clock.now += 61_000;
    await sts.policyFor('a.test');
    await eventually(
      () => reports.some((r) => r.kind === 'failed'),
      3_000,
      () => 'the failed fetch',
    );
    expect(reports.find((r) => r.kind === 'failed')).toMatchObject({
      why: expect.stringMatching(/HTTP 500/),
      kept: { mode: 'enforce' },
    });
    expect((await sts.policyFor('a.test'))?.mode).toBe('enforce');
    clock.now += 600_000; // past max_age: the cached policy is no more
    expect(await sts.policyFor('a.test')).toBeUndefined();
  });

  it('applies a valid cached policy when the TXT record is gone (RFC 8461 §5.1)', async () => {
    txt('one');
    host.policies['mta-sts.a.test'] = { body: ENFORCE };
    const clock = { now: 1_000_000 };
    const { sts } = await source(join(dir, 'txt-gone.json'), clock);
    await sts.policyFor('a.test');
    delete dns.zone['_mta-sts.a.test'];
    clock.now += 61_000;
    await sts.policyFor('a.test');
    clock.now += 61_000;
    expect((await sts.policyFor('a.test'))?.mode).toBe('enforce');
  });

  it('keeps policies across a restart in the cache file, and starts empty from a broken one', async () => {
    txt('one');
    host.policies['mta-sts.a.test'] = { body: ENFORCE };
    const clock = { now: 1_000_000 };
    const file = join(dir, 'restart.json');
    const first = await source(file, clock);
    await first.sts.policyFor('a.test');
    await first.cache.flush();
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({
      version: 1,
      policies: { 'a.test': { id: 'one', fetchedAt: 1_000_000, expiresAt: 1_600_000 } },
    });
    delete dns.zone['_mta-sts.a.test'];
    host.policies['mta-sts.a.test'] = { status: 404 };
    const second = await source(file, clock); // a restarted daemon: no TXT, no policy host, yet the cache holds
    expect((await second.sts.policyFor('a.test'))?.mode).toBe('enforce');
    await writeFile(file, '{not json');
    const third = await source(file, clock);
    expect(await third.sts.policyFor('a.test')).toBeUndefined();
    expect(third.errors).toEqual([expect.stringMatching(/restart\.json: .*starting empty/)]);
  });

  it.each<[string, () => void, RegExp]>([
    [
      'two TXT records',
      () => (dns.zone['_mta-sts.a.test'] = { TXT: ['v=STSv1; id=a', 'v=STSv1; id=b'] }),
      /2 v=STSv1 TXT records/,
    ],
    [
      'an invalid policy',
      () => (host.policies['mta-sts.a.test'] = { body: 'version: STSv1\nmode: strict\n' }),
      /invalid: mode is not/,
    ],
    [
      'a failed TXT look-up',
      () => (dns.zone['_mta-sts.a.test'] = { servfail: true }),
      /_mta-sts\.a\.test TXT: .*SERVFAIL/i,
    ],
  ])('has no policy, and says why, on %s', async (_name, arrange, why) => {
    txt('one');
    arrange();
    const { sts, reports } = await source(join(dir, 'bad.json'), { now: 1_000_000 });
    expect(await sts.policyFor('a.test')).toBeUndefined();
    expect(reports).toEqual([expect.objectContaining({ kind: 'failed', why: expect.stringMatching(why) })]);
  });

  it('has no policy, silently, for a domain without the TXT record', async () => {
    const { sts, reports } = await source(join(dir, 'none.json'), { now: 1_000_000 });
    expect(await sts.policyFor('a.test')).toBeUndefined();
    expect(reports).toEqual([]);
    expect(host.fetches).toEqual([]);
  });
});

describe('openStsCache', () => {
  const policy = (mode: 'enforce' | 'testing'): StsPolicy => ({ mode, mx: ['mx.a.test'], maxAge: 600 });
  const entry = (mode: 'enforce' | 'testing', fetchedAt: number): CachedPolicy => ({
    id: 'one',
    policy: policy(mode),
    fetchedAt,
    expiresAt: fetchedAt + 600_000,
  });

  it('keeps at most maxEntries domains, a testing policy dropped before an enforce one, the oldest first', async () => {
    const clock = { now: 1_000_000 };
    const file = join(dir, 'bounded.json');
    const cache = await openStsCache(file, { clock: () => clock.now, maxEntries: 3 });
    cache.set('e1.test', entry('enforce', clock.now));
    cache.set('t1.test', entry('testing', clock.now));
    cache.set('e2.test', entry('enforce', clock.now));
    cache.set('e3.test', entry('enforce', clock.now)); // full: the testing one goes
    expect(['e1.test', 't1.test', 'e2.test', 'e3.test'].map((d) => cache.get(d) !== undefined)).toEqual([
      true,
      false,
      true,
      true,
    ]);
    cache.set('e4.test', entry('enforce', clock.now)); // only enforce left: the oldest goes
    expect(cache.get('e1.test')).toBeUndefined();
    await cache.flush();
    const saved = JSON.parse(await readFile(file, 'utf8')) as { policies: Record<string, unknown> };
    expect(Object.keys(saved.policies).sort()).toEqual(['e2.test', 'e3.test', 'e4.test']);
  });

  it('forgets an expired policy when it is looked up', async () => {
    const clock = { now: 1_000_000 };
    const cache = await openStsCache(join(dir, 'expiry.json'), { clock: () => clock.now });
    cache.set('a.test', entry('enforce', clock.now));
    clock.now += 600_001;
    expect(cache.get('a.test')).toBeUndefined();
  });
});

describe('StsResolver, when to wait', () => {
  const txt = (id: string): void => {
    dns.zone['_mta-sts.a.test'] = { TXT: [`v=STSv1; id=${id};`] };
  };

  it('waits for a new look-up once a cached policy has expired, instead of going opportunistic', async () => {
    txt('one');
    host.policies['mta-sts.a.test'] = { body: ENFORCE };
    const clock = { now: 1_000_000 };
    const { sts } = await source(join(dir, 'expired-wait.json'), clock);
    expect((await sts.policyFor('a.test'))?.mode).toBe('enforce');
    txt('two');
    clock.now += 600_000; // exactly max_age: no longer valid
    expect((await sts.policyFor('a.test'))?.mode).toBe('enforce');
    expect(host.fetches).toHaveLength(2);
  });

  it('never makes a delivery wait again for a domain without a policy: later looks run in the background', async () => {
    const clock = { now: 1_000_000 };
    const { sts, reports } = await source(join(dir, 'no-policy-wait.json'), clock);
    expect(await sts.policyFor('a.test')).toBeUndefined(); // the first look is waited for: no TXT record
    dns.zone['_mta-sts.a.test'] = { drop: true }; // from now on the look-up never answers
    clock.now += 61_000;
    // answered at once; a delivery that waited would get the look-up's failure reported first
    expect(await sts.policyFor('a.test')).toBeUndefined();
    expect(reports).toEqual([]);
  });

  it('looks again in the background exactly recheckMs after the last look', async () => {
    txt('one');
    host.policies['mta-sts.a.test'] = { body: ENFORCE };
    const clock = { now: 1_000_000 };
    const { sts } = await source(join(dir, 'recheck.json'), clock, 10_000);
    await sts.policyFor('a.test');
    const asked = (): number => dns.queries.filter((q) => q === '_mta-sts.a.test TXT').length;
    const before = asked();
    clock.now += 9_999;
    await sts.policyFor('a.test');
    expect(asked()).toBe(before);
    clock.now += 1;
    expect((await sts.policyFor('a.test'))?.mode).toBe('enforce'); // answered at once from the cache
    await eventually(() => asked() === before + 1);
  });

  it('asks nothing for a name without an A-label form, and remembers at most maxDomains looks', async () => {
    const clock = { now: 1_000_000 };
    const cache = await openStsCache(join(dir, 'bounded-looks.json'), { clock: () => clock.now });
    const reports: StsReport[] = [];
    const sts = new StsResolver({
      resolver,
      fetch: (domain) => fetchStsPolicy(domain, fetchOptions),
      cache,
      clock: () => clock.now,
      maxDomains: 1,
      report: (r) => reports.push(r),
    });
    const before = dns.queries.length;
    expect(await sts.policyFor('xn--a.test')).toBeUndefined();
    expect(dns.queries.length).toBe(before);
    expect(reports).toEqual([]);

    const asked = (domain: string): number => dns.queries.filter((q) => q === `_mta-sts.${domain} TXT`).length;
    await sts.policyFor('none1.test');
    await sts.policyFor('none1.test'); // remembered: no second look within the minute
    expect(asked('none1.test')).toBe(1);
    await sts.policyFor('none2.test'); // one look remembered: none1.test's is forgotten
    await sts.policyFor('none1.test');
    expect(asked('none1.test')).toBe(2);
  });
});

describe('openStsCache, exactly', () => {
  const policy: StsPolicy = { mode: 'enforce', mx: ['mx.a.test'], maxAge: 600 };
  const at = (fetchedAt: number): CachedPolicy => ({ id: 'one', policy, fetchedAt, expiresAt: fetchedAt + 600_000 });

  it('loads only policies still valid, and says nothing about a file that is not there yet', async () => {
    const file = join(dir, 'load-boundary.json');
    const errors: string[] = [];
    const clock = { now: 1_000_000 };
    const cache = await openStsCache(file, { clock: () => clock.now, onError: (m) => errors.push(m) });
    expect(errors).toEqual([]);
    cache.set('old.test', at(1_000_000));
    cache.set('new.test', at(1_000_001));
    await cache.flush();
    clock.now = 1_600_000; // old.test expires now, new.test a millisecond later
    const again = await openStsCache(file, { clock: () => clock.now });
    expect(again.get('old.test')).toBeUndefined();
    expect(again.get('new.test')).toEqual(at(1_000_001));
  });

  it('writes every change, dropping what expired by then, and reports a write that fails', async () => {
    const file = join(dir, 'writes.json');
    const clock = { now: 1_000_000 };
    const cache = await openStsCache(file, { clock: () => clock.now });
    const saved = async (): Promise<string[]> => {
      await cache.flush();
      const data = JSON.parse(await readFile(file, 'utf8')) as { policies: Record<string, unknown> };
      return Object.keys(data.policies).sort();
    };
    cache.set('a.test', at(1_000_000));
    expect(await saved()).toEqual(['a.test']);
    cache.set('b.test', at(1_000_001));
    expect(await saved()).toEqual(['a.test', 'b.test']);
    clock.now = 1_600_000; // a.test has expired exactly now
    cache.set('c.test', at(1_600_000));
    expect(await saved()).toEqual(['b.test', 'c.test']);
    expect(cache.get('b.test')).toEqual(at(1_000_001));
    clock.now = 1_600_001;
    expect(cache.get('b.test')).toBeUndefined();

    const errors: string[] = [];
    const nowhere = join(file, 'sts.json'); // under a file: no directory can be made there
    const broken = await openStsCache(nowhere, { clock: () => clock.now, onError: (m) => errors.push(m) });
    // reading it failed too (not a missing file): said once, starting empty
    expect(errors).toEqual([expect.stringMatching(/; starting empty$/)]);
    broken.set('a.test', at(clock.now));
    await broken.flush();
    expect(errors.slice(1)).toEqual([
      expect.stringMatching(new RegExp(`^${nowhere.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: \\S`)),
    ]);
  });
});
