/**
 * The dispatcher's time heap on its own: keys come due in time order however
 * they were held, a key held again for sooner moves up and for later stays,
 * and stale entries never come out.
 */
import { describe, expect, it } from 'vitest';
import { TimeHeap } from '../../src/queue/time-heap.js';

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('TimeHeap', () => {
  it('gives keys held in any order back earliest first', () => {
    const heap = new TimeHeap();
    const times = [50, 10, 40, 30, 20, 60, 5, 45];
    times.forEach((at, i) => heap.hold(`k${i}`, at));
    expect(heap.next()).toBe(5);
    expect(heap.due(4)).toEqual([]);
    expect(heap.due(30)).toEqual(['k6', 'k1', 'k4', 'k3']);
    expect(heap.next()).toBe(40);
    expect(heap.due(100)).toEqual(['k2', 'k7', 'k0', 'k5']);
    expect(heap.next()).toBeUndefined();
  });

  it('keeps the sooner of two times for a key, and drops the stale entry', () => {
    const heap = new TimeHeap();
    heap.hold('a', 100);
    heap.hold('b', 50);
    heap.hold('a', 10); // sooner: moves up
    heap.hold('b', 70); // later: ignored
    expect(heap.next()).toBe(10);
    expect(heap.due(60)).toEqual(['a', 'b']);
    expect(heap.next()).toBeUndefined(); // a's entry at 100 is stale
    expect(heap.due(1_000)).toEqual([]);
  });

  it('holds a key again after it came due', () => {
    const heap = new TimeHeap();
    heap.hold('a', 10);
    expect(heap.due(10)).toEqual(['a']); // due at its time exactly
    heap.hold('a', 30);
    expect(heap.next()).toBe(30);
    expect(heap.due(29)).toEqual([]);
    expect(heap.due(30)).toEqual(['a']);
  });

  it('agrees with sorting for many random holds and re-holds', () => {
    const random = seeded(17);
    for (let round = 0; round < 20; round += 1) {
      const heap = new TimeHeap();
      const live = new Map<string, number>();
      for (let i = 0; i < 200; i += 1) {
        const key = `k${Math.floor(random() * 60)}`;
        const at = Math.floor(random() * 1_000);
        heap.hold(key, at);
        live.set(key, Math.min(live.get(key) ?? Infinity, at));
      }
      const expected = [...live].sort(([ka, a], [kb, b]) => a - b || (ka < kb ? -1 : 1));
      expect(heap.next()).toBe(expected[0]?.[1]);
      const out: string[] = [];
      for (let now = 0; now <= 1_000; now += 50) out.push(...heap.due(now));
      // keys with equal times may come out in either order: compare the times, then the sets
      expect(out.map((key) => live.get(key))).toEqual(expected.map(([, at]) => at));
      expect(new Set(out)).toEqual(new Set(live.keys()));
      expect(heap.next()).toBeUndefined();
    }
  });
});
