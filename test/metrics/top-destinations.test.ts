import { describe, expect, it } from 'vitest';
import { createDestinationRanking, OTHER } from '../../src/metrics/top-destinations.js';

const MINUTE = 60_000;

function clock(start = Date.UTC(2026, 11, 6, 12, 0, 0)): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

describe('createDestinationRanking', () => {
  it('labels the first domains at their first event, up to the size, and folds the rest into other', () => {
    const c = clock();
    const ranking = createDestinationRanking({ size: 2, now: c.now });
    expect(ranking.count('a.test')).toBe('a.test');
    expect(ranking.count('b.test')).toBe('b.test');
    expect(ranking.count('c.test')).toBe(OTHER);
    expect(ranking.count('a.test')).toBe('a.test');
    expect([...ranking.labelled()].sort()).toEqual(['a.test', 'b.test']);
  });

  it('hands a label to a domain scoring more than twice the weakest holder, and not on a near tie', () => {
    const c = clock();
    const ranking = createDestinationRanking({ size: 2, now: c.now });
    for (let i = 0; i < 3; i++) ranking.count('a.test');
    ranking.count('b.test');
    ranking.count('c.test');
    ranking.count('c.test');
    expect(ranking.rerank()).toEqual({ gained: [], lost: [] }); // c (2) is not more than twice b (1)
    ranking.count('c.test');
    expect(ranking.rerank()).toEqual({ gained: ['c.test'], lost: ['b.test'] });
    expect(ranking.count('c.test')).toBe('c.test');
    expect(ranking.count('b.test')).toBe(OTHER);
    expect(ranking.rerank()).toEqual({ gained: [], lost: [] });
  });

  it('lets an old storm give way: scores halve every half-life', () => {
    const c = clock();
    const ranking = createDestinationRanking({ size: 1, now: c.now, halfLifeMs: 15 * MINUTE });
    for (let i = 0; i < 100; i++) ranking.count('storm.test');
    c.advance(120 * MINUTE); // 8 half-lives: 100 / 256 < 0.5
    expect(ranking.count('today.test')).toBe(OTHER);
    expect(ranking.rerank()).toEqual({ gained: ['today.test'], lost: ['storm.test'] });
  });

  it('keeps at most maxTracked domains, forgetting the weakest unlabelled one, never a holder', () => {
    const c = clock();
    const ranking = createDestinationRanking({ size: 1, now: c.now, maxTracked: 3 });
    ranking.count('holder.test');
    for (let i = 0; i < 5; i++) ranking.count('strong.test');
    for (let i = 0; i < 1000; i++) ranking.count(`d${i}.test`);
    expect(ranking.rerank()).toEqual({ gained: ['strong.test'], lost: ['holder.test'] });
    expect(ranking.labelled()).toEqual(['strong.test']);
  });
});
