import { defer, finalize, from, of, range, toArray } from 'rxjs';
import type { Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { mergeMapPerKey } from '../src/rx/merge-map-per-key.js';

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/** Counts inner subscriptions in flight, overall and per key, and remembers the peaks. */
function tracker() {
  const running = new Map<string, number>();
  const peak = { total: 0, perKey: 0 };
  let total = 0;
  const wrap = <R>(key: string, inner: () => Observable<R>): Observable<R> =>
    defer(() => {
      total += 1;
      running.set(key, (running.get(key) ?? 0) + 1);
      peak.total = Math.max(peak.total, total);
      peak.perKey = Math.max(peak.perKey, ...running.values());
      return inner().pipe(
        finalize(() => {
          total -= 1;
          running.set(key, (running.get(key) ?? 1) - 1);
        }),
      );
    });
  return { wrap, peak, inFlight: () => total };
}

/** Items are strings like `A1`: the letter is the key (a destination domain). */
const keyOf = (item: string): string => item.slice(0, 1);

describe('mergeMapPerKey', () => {
  it('caps global and per-key concurrency, oldest eligible first', () => {
    const t = tracker();
    scheduler().run(({ cold, expectObservable }) => {
      const items = cold('(abcdef|)', { a: 'A1', b: 'A2', c: 'A3', d: 'B1', e: 'C1', f: 'C2' });
      const work = (item: string) => t.wrap(keyOf(item), () => cold('10ms (x|)', { x: item }));
      // t0: A1 A2 B1 start (A3 waits for key A, C1 C2 for a global slot)
      // t10: A1 done -> A3 (oldest, A below its cap), A2 done -> C1, B1 done -> C2
      expectObservable(items.pipe(mergeMapPerKey(keyOf, work, 3, 2))).toBe('10ms (abc) 5ms (def|)', {
        a: 'A1',
        b: 'A2',
        c: 'B1',
        d: 'A3',
        e: 'C1',
        f: 'C2',
      });
    });
    expect(t.peak).toEqual({ total: 3, perKey: 2 });
    expect(t.inFlight()).toBe(0);
  });

  it('does not let a saturated key block other keys', () => {
    const t = tracker();
    scheduler().run(({ hot, cold, expectObservable }) => {
      // A1-A4 at t0, B1 at t16, C1 at t21, source completes at t32
      const items = hot('(abcd) 10ms e 4ms f 10ms |', { a: 'A1', b: 'A2', c: 'A3', d: 'A4', e: 'B1', f: 'C1' });
      const work = (item: string) => t.wrap(keyOf(item), () => cold('10ms (x|)', { x: item }));
      // key A runs one at a time (A1 0-10, A2 10-20, A3 20-30, A4 30-40) while B1 (16-26)
      // and C1 (21-31) start on arrival, although A3 and A4 came first and still wait.
      expectObservable(items.pipe(mergeMapPerKey(keyOf, work, 3, 1))).toBe('10ms a 9ms b 5ms c 3ms d e 8ms (f|)', {
        a: 'A1',
        b: 'A2',
        c: 'B1',
        d: 'A3',
        e: 'C1',
        f: 'A4',
      });
    });
    expect(t.peak).toEqual({ total: 3, perKey: 1 });
  });

  it('is FIFO across keys when the global limit is the bottleneck', () => {
    const t = tracker();
    scheduler().run(({ cold, expectObservable }) => {
      const items = cold('(abcde|)', { a: 'A1', b: 'B1', c: 'A2', d: 'C1', e: 'B2' });
      const work = (item: string) => t.wrap(keyOf(item), () => cold('5ms (x|)', { x: item }));
      expectObservable(items.pipe(mergeMapPerKey(keyOf, work, 1, 10))).toBe('5ms a 4ms b 4ms c 4ms d 4ms (e|)', {
        a: 'A1',
        b: 'B1',
        c: 'A2',
        d: 'C1',
        e: 'B2',
      });
    });
    expect(t.peak).toEqual({ total: 1, perKey: 1 });
  });

  it('holds the caps under a random mix of keys and durations', () => {
    const t = tracker();
    let seed = 42;
    const random = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const items = Array.from({ length: 200 }, (_, i) => `${'ABCDE'.charAt(Math.floor(random() * 5))}${i}`);
    const durations = items.map(() => 1 + Math.floor(random() * 20));
    let finished = 0;
    scheduler().run(({ cold }) => {
      const work = (item: string) =>
        t.wrap(keyOf(item), () => cold(`${durations[Number(item.slice(1))] ?? 1}ms (x|)`, { x: item }));
      from(items)
        .pipe(mergeMapPerKey(keyOf, work, 4, 2), toArray())
        .subscribe((all) => (finished = all.length));
    });
    expect(finished).toBe(200);
    expect(t.peak).toEqual({ total: 4, perKey: 2 });
    expect(t.inFlight()).toBe(0);
  });

  it('handles synchronous inners and completes', () => {
    const seen: number[] = [];
    range(1, 1_000)
      .pipe(mergeMapPerKey((n) => String(n % 3), (n) => of(n), 2, 1))
      .subscribe({ next: (n) => seen.push(n) });
    expect(seen).toHaveLength(1_000);
    expect(seen[999]).toBe(1_000);
  });

  it('errors the output on an inner error and unsubscribes the others', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const slow = cold('10ms (x|)');
      const bad = cold('3ms #', undefined, 'boom');
      const items = cold('(ab|)', { a: 'A', b: 'B' });
      const work = (item: string) => (item === 'A' ? slow : bad);
      expectObservable(items.pipe(mergeMapPerKey(keyOf, work, 5, 5))).toBe('3ms #', undefined, 'boom');
      expectSubscriptions(slow.subscriptions).toBe('^--!');
    });
  });

  it('tears inners down when the result is unsubscribed', () => {
    scheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const inner = cold('10ms (x|)');
      const items = hot('a-b-c', { a: 'A1', b: 'B1', c: 'C1' });
      expectObservable(items.pipe(mergeMapPerKey(keyOf, () => inner, 2, 1)), '^---!').toBe('');
      expectSubscriptions(inner.subscriptions).toBe(['^---!', '--^-!']);
    });
  });

  it('rejects limits below 1', () => {
    expect(() => mergeMapPerKey(keyOf, of, 0, 1)).toThrow(RangeError);
    expect(() => mergeMapPerKey(keyOf, of, 1, 0)).toThrow(RangeError);
  });
});
