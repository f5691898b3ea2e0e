import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { dropOldest } from '../../src/audit/bounded.js';

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

const readiness = { t: true, f: false };

describe('dropOldest (marbles)', () => {
  it('passes values straight through while the consumer is ready', () => {
    scheduler().run(({ hot, expectObservable }) => {
      const drops: number[] = [];
      const source = hot('-a-b-c-|');
      expectObservable(source.pipe(dropOldest(2, (n) => drops.push(n), hot('t', readiness)))).toBe('-a-b-c-|');
      expect(drops).toEqual([]);
    });
  });

  it('a stalled consumer keeps only the newest `capacity` values; the oldest are dropped and counted', () => {
    const drops: number[] = [];
    scheduler().run(({ hot, expectObservable }) => {
      const source = hot('-a-b-c-d-e------g-|');
      const ready = hot(' t-f-------t', readiness);
      // b and c are pushed out by d and e while the consumer is stalled (frames 2-9);
      // at frame 10 the ring drains in order.
      expectObservable(source.pipe(dropOldest(2, (n) => drops.push(n), ready))).toBe('-a--------(de)--g-|');
    });
    expect(drops).toEqual([1, 1]);
  });

  it('completion waits until the buffered values were delivered', () => {
    scheduler().run(({ hot, expectObservable }) => {
      const source = hot('-a-b|');
      const ready = hot(' f-----t', readiness);
      expectObservable(source.pipe(dropOldest(5, () => undefined, ready))).toBe('------(ab|)');
    });
  });

  it('an error is passed on at once, buffered values are discarded', () => {
    scheduler().run(({ hot, expectObservable }) => {
      const source = hot('-a-#');
      const ready = hot(' f-----t', readiness);
      expectObservable(source.pipe(dropOldest(5, () => undefined, ready))).toBe('---#');
    });
  });

  it('slow consumers are independent: one stalled subscriber does not hold back another', () => {
    const drops: number[] = [];
    scheduler().run(({ hot, expectObservable }) => {
      const source = hot('-a-b-c-d-|');
      expectObservable(source.pipe(dropOldest(1, (n) => drops.push(n), hot('f', readiness)))).toBe('---------');
      expectObservable(source.pipe(dropOldest(1, (n) => drops.push(n), hot('t', readiness)))).toBe('-a-b-c-d-|');
    });
    expect(drops).toEqual([1, 1, 1]);
  });
});
