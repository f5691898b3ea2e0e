/**
 * Which queue a job waits in: its destination (pure, given the MX cache).
 *
 * - A domain with its own rate limit (SMTP_DESTINATION_RATES) is always its
 *   own destination, so the limit applies to exactly that domain.
 * - Relay mode: everything else goes to the smarthost, one destination.
 * - MX mode: domains whose MX hosts are the same share one destination (one
 *   concurrency window, one set of connections) once that is cheap to know,
 *   when the domain's answer is in the MX cache. Until then (a domain's
 *   first jobs) the domain is its own destination.
 */
import type { DeliveryJob } from '../domain/job.js';
import type { MxCache } from '../delivery/mx.js';
import { resolveDestination } from '../delivery/mx.js';
import type { DnsResolver } from '../dns/resolver.js';

export const RELAY_DESTINATION = 'relay';
const RATED = 'rated:';

export function destinationKey(job: DeliveryJob, relay: boolean, cache: MxCache, rated: ReadonlySet<string>): string {
  if (rated.has(job.domain)) return `${RATED}${job.domain}`;
  if (relay) return RELAY_DESTINATION;
  const known = cache.get(job.domain)?.destination;
  if (known?.kind !== 'hosts') return `domain:${job.domain}`;
  return `mx:${known.hosts
    .map((h) => h.name.toLowerCase())
    .sort()
    .join(',')}`;
}

/** The domain whose rate limit applies to a destination key, if any. */
export function ratedDomainOf(key: string): string | undefined {
  return key.startsWith(RATED) ? key.slice(RATED.length) : undefined;
}

/**
 * Makes a domain's MX answer known before its jobs are routed (so domains
 * sharing MX hosts share a queue from their first job), one look-up per
 * domain however many jobs wait for it. Resolves whether or not the look-up
 * worked: a failure is the attempt's to report.
 */
export class RouteWarmer {
  private readonly pending = new Map<string, Promise<void>>();
  /** Domains whose answer could not be cached (a TTL of 0, a failure): not looked up again before then. */
  private readonly uncached = new Map<string, number>();

  constructor(
    private readonly cache: MxCache,
    private readonly resolver: DnsResolver,
    private readonly random: () => number,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Undefined when nothing needs looking up (relay, a rated domain, a cached answer, one that cannot be cached). */
  warm(job: DeliveryJob, relay: boolean, rated: ReadonlySet<string>): Promise<void> | undefined {
    if (relay || rated.has(job.domain) || this.cache.get(job.domain)) return undefined;
    const domain = job.domain;
    if ((this.uncached.get(domain) ?? 0) > this.clock()) return undefined; // its own attempt looks it up
    let lookup = this.pending.get(domain);
    if (!lookup) {
      lookup = resolveDestination(domain, this.resolver, this.random, this.cache).then(
        () => this.remember(domain),
        () => this.remember(domain),
      );
      const settled = lookup.finally(() => this.pending.delete(domain));
      this.pending.set(domain, settled);
      return settled;
    }
    return lookup;
  }

  /** An answer the cache did not keep is not worth a second look-up per job: each attempt makes its own. */
  private remember(domain: string): void {
    if (this.cache.get(domain)) return;
    if (this.uncached.size >= UNCACHED_KEPT) this.uncached.clear();
    this.uncached.set(domain, this.clock() + UNCACHED_MS);
  }
}

const UNCACHED_MS = 10_000;
const UNCACHED_KEPT = 10_000;
