/**
 * MTA-STS policies for the delivery planner (RFC 8461 §5): the
 * `_mta-sts.<domain>` TXT record through the daemon's resolver, the policy
 * fetched over HTTPS when its `id` is new (or the cached one has lived half
 * its max_age), kept in the durable cache (sts-cache.ts).
 *
 * Waiting: only a domain never looked at, or whose cached policy has
 * expired since it was last looked at, makes a delivery wait for the
 * look-up; concurrent deliveries share that one look-up. Otherwise the
 * cached answer (a policy, or none) is used at once, and the TXT record is
 * looked at again in the background at most every `recheckMs`; an `id`
 * change fetches the new policy for the deliveries after it.
 *
 * Failures (no TXT record, a bad one, a failed fetch, a bad policy) mean
 * the cached policy while it is valid, else none: the mail goes
 * opportunistically, as RFC 8461 §5.1 says.
 */
import { domainToASCII } from 'node:url';
import { dnsErrorKind, type DnsResolver } from '../../dns/resolver.js';
import type { StsCache } from './sts-cache.js';
import type { FetchResult } from './sts-fetch.js';
import { parseStsPolicy, parseStsRecord, type StsPolicy } from './sts-policy.js';
import type { StsSource } from './planner.js';

/** What a look-up came to, for the log. */
export type StsReport =
  | { readonly kind: 'fetched'; readonly domain: string; readonly id: string; readonly policy: StsPolicy }
  | { readonly kind: 'failed'; readonly domain: string; readonly why: string; readonly kept?: StsPolicy };

export interface StsSourceOptions {
  readonly resolver: Pick<DnsResolver, 'resolveTxt'>;
  readonly fetch: (domain: string) => Promise<FetchResult>;
  readonly cache: StsCache;
  readonly clock: () => number;
  /** Least time between two looks at one domain's TXT record. Default 60 s. */
  readonly recheckMs?: number;
  readonly report?: (report: StsReport) => void;
  /** Domains whose last look is remembered (the oldest are forgotten first). Default 100,000. */
  readonly maxDomains?: number;
}

export class StsResolver implements StsSource {
  /** When each domain's TXT record was last looked at, and whether that look left a policy cached. */
  private readonly checked = new Map<string, { readonly at: number; readonly cached: boolean }>();
  private readonly flights = new Map<string, Promise<StsPolicy | undefined>>();

  constructor(private readonly o: StsSourceOptions) {}

  policyFor(name: string): Promise<StsPolicy | undefined> {
    // the A-label form: what DNS and the policy host know; '' for a name that has none
    const domain = domainToASCII(name);
    if (domain === '') return Promise.resolve(undefined);
    const now = this.o.clock();
    // the cache answers only policies whose max_age still runs
    const live = this.o.cache.get(domain);
    const last = this.checked.get(domain);
    // a policy that expired since the last look is looked up again before delivering, not silently dropped
    const expired = live === undefined && last?.cached === true;
    if (last === undefined || expired) return this.refresh(domain);
    if (now - last.at >= (this.o.recheckMs ?? 60_000)) void this.refresh(domain).catch(() => undefined);
    return Promise.resolve(live?.policy);
  }

  /** One look-up per domain at a time; callers share it. */
  private refresh(domain: string): Promise<StsPolicy | undefined> {
    const running = this.flights.get(domain);
    if (running) return running;
    const started = this.o.clock();
    // noted when the look-up ends: until then, deliveries that find no answer join this one
    const flight = this.look(domain).finally(() => {
      this.flights.delete(domain);
      this.noteChecked(domain, started);
    });
    this.flights.set(domain, flight);
    return flight;
  }

  private async look(domain: string): Promise<StsPolicy | undefined> {
    const now = this.o.clock();
    const live = this.o.cache.get(domain);
    const fail = (why: string): StsPolicy | undefined => {
      this.o.report?.({ kind: 'failed', domain, why, ...(live ? { kept: live.policy } : {}) });
      return live?.policy;
    };
    let records: readonly (readonly string[])[] = [];
    try {
      records = await this.o.resolver.resolveTxt(`_mta-sts.${domain}`);
    } catch (error) {
      // NXDOMAIN or no TXT: no policy published; anything else: the look-up failed
      if (dnsErrorKind(error) === 'temporary') return fail(`_mta-sts.${domain} TXT: ${String(error)}`);
    }
    const record = parseStsRecord(records);
    if (!record) return live?.policy; // no policy published now: a cached one still holds (§5.1)
    if (!record.ok) return fail(`_mta-sts.${domain} TXT: ${record.why}`);
    const { id } = record.value;
    if (live && live.id === id && now - live.fetchedAt < (live.policy.maxAge * 1000) / 2) return live.policy;
    const fetched = await this.o.fetch(domain).catch((error: unknown) => ({
      ok: false as const,
      why: `fetching the policy of ${domain} failed: ${error instanceof Error ? error.message : String(error)}`,
    }));
    if (!fetched.ok) return fail(fetched.why);
    const parsed = parseStsPolicy(fetched.text);
    if (!parsed.ok) return fail(`the policy of ${domain} is invalid: ${parsed.why}`);
    const fetchedAt = this.o.clock();
    const policy = parsed.value;
    this.o.cache.set(domain, { id, policy, fetchedAt, expiresAt: fetchedAt + policy.maxAge * 1000 });
    this.o.report?.({ kind: 'fetched', domain, id, policy });
    return policy;
  }

  private noteChecked(domain: string, at: number): void {
    this.checked.delete(domain);
    this.checked.set(domain, { at, cached: this.o.cache.get(domain) !== undefined });
    if (this.checked.size > (this.o.maxDomains ?? 100_000)) {
      const oldest = this.checked.keys().next();
      if (!oldest.done) this.checked.delete(oldest.value);
    }
  }
}
