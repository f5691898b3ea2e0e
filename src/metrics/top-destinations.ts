/**
 * Which destination domains get a label of their own on a per-destination
 * metric: the top `size` by recent count, every other one folds into `other`,
 * so a queue deferring mail for a million domains still exposes `size` + 1
 * series.
 *
 * In: one `count(domain)` per event, `rerank()` at scrape time. Out: the
 * label to count each event under, and the destinations that gained or lost
 * their label at a rerank (the caller starts or removes their series).
 *
 * A domain is scored by its events with exponential decay (half-life
 * `halfLifeMs`), so yesterday's storm gives way to today's. While fewer than
 * `size` domains hold a label, a new one gets its label at its first event;
 * after that a rerank hands a label over only to a domain scoring more than
 * twice the weakest labelled one (no flapping between near equals). Each
 * labelled series counts only events since it got its label, and `other`
 * only events of unlabelled domains: every series only ever grows.
 */

export const OTHER = 'other';

export interface DestinationRankingOptions {
  /** Domains with a label of their own. */
  readonly size: number;
  readonly now: () => number;
  /** How fast old events stop counting; default 15 minutes. */
  readonly halfLifeMs?: number;
  /** Domains scored at once (memory bound); default 1000. */
  readonly maxTracked?: number;
}

export interface DestinationRanking {
  /** Counts one event for `domain`; returns the label it is counted under. */
  count(domain: string): string;
  /** Hands labels to the strongest domains; returns the domains that gained and lost one. */
  rerank(): { readonly gained: readonly string[]; readonly lost: readonly string[] };
  /** The domains holding a label now. */
  labelled(): readonly string[];
}

/** A challenger takes a label only when it scores more than this many times the weakest holder. */
const HANDOVER_FACTOR = 2;
/** Unlabelled domains scoring less than this (a single event after ~7 half-lives) are forgotten. */
const FORGET_BELOW = 0.01;

interface Score {
  value: number;
  at: number;
}

export function createDestinationRanking(options: DestinationRankingOptions): DestinationRanking {
  const { size, now } = options;
  const halfLifeMs = options.halfLifeMs ?? 15 * 60_000;
  const maxTracked = Math.max(options.maxTracked ?? 1000, size + 1);
  const scores = new Map<string, Score>();
  const holders = new Set<string>();
  const decayed = (s: Score, t: number): number => s.value * 2 ** (-(t - s.at) / halfLifeMs);

  /** Makes room for one more domain: forgets the weakest unlabelled one. */
  const evictWeakest = (t: number): void => {
    let weakest: string | undefined;
    let least = Infinity;
    for (const [domain, s] of scores) {
      const v = decayed(s, t);
      if (!holders.has(domain) && v < least) [weakest, least] = [domain, v];
    }
    if (weakest !== undefined) scores.delete(weakest);
  };

  return {
    count(domain) {
      const t = now();
      const s = scores.get(domain);
      if (s) {
        s.value = decayed(s, t) + 1;
        s.at = t;
      } else {
        if (scores.size >= maxTracked) evictWeakest(t);
        scores.set(domain, { value: 1, at: t });
      }
      if (!holders.has(domain) && holders.size < size) holders.add(domain);
      return holders.has(domain) ? domain : OTHER;
    },

    rerank() {
      const t = now();
      const current = new Map([...scores].map(([domain, s]) => [domain, decayed(s, t)] as const));
      const score = (domain: string): number => current.get(domain) ?? 0;
      for (const [domain, v] of current) if (v < FORGET_BELOW && !holders.has(domain)) scores.delete(domain);
      const weakestFirst = [...holders].sort((a, b) => score(a) - score(b));
      const challengers = [...current.keys()].filter((d) => !holders.has(d)).sort((a, b) => score(b) - score(a));
      const gained: string[] = [];
      const lost: string[] = [];
      for (const challenger of challengers) {
        if (score(challenger) < FORGET_BELOW) break;
        if (holders.size >= size) {
          const weakest = weakestFirst[0];
          if (weakest === undefined || score(challenger) <= HANDOVER_FACTOR * score(weakest)) break;
          weakestFirst.shift();
          holders.delete(weakest);
          lost.push(weakest);
        }
        holders.add(challenger);
        gained.push(challenger);
      }
      return { gained, lost };
    },

    labelled: () => [...holders],
  };
}
