import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { exhaustMapTrailing } from '../../src/queue/exhaust-map-trailing.js';

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe('exhaustMapTrailing (one claim at a time, wakes coalesced)', () => {
  it('runs one inner at a time and runs the latest pending value once after it', () => {
    scheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const wakes = hot('a-bc-----d--|');
      const out$ = wakes.pipe(exhaustMapTrailing((w) => cold('---(x|)', { x: w })));
      // a runs 0–3; b and c arrive while busy: only c runs (3–6); d at 9 runs 9–12
      expectObservable(out$).toBe('---a--c-----(d|)', { a: 'a', c: 'c', d: 'd' });
      expectSubscriptions(wakes.subscriptions).toBe('^-----------!');
    });
  });

  it('completes only after the trailing run finished', () => {
    scheduler().run(({ hot, cold, expectObservable }) => {
      const wakes = hot('ab|');
      expectObservable(wakes.pipe(exhaustMapTrailing((w) => cold('---(x|)', { x: w })))).toBe('---a--(b|)', {
        a: 'a',
        b: 'b',
      });
    });
  });

  it('completes at once when the source completes with nothing running', () => {
    scheduler().run(({ hot, cold, expectObservable }) => {
      const wakes = hot('a-----|');
      expectObservable(wakes.pipe(exhaustMapTrailing((w) => cold('-(x|)', { x: w })))).toBe('-a----|', { a: 'a' });
    });
  });

  it("passes on an inner's error, and the source's", () => {
    scheduler().run(({ hot, cold, expectObservable }) => {
      const failing = hot('a--b--|').pipe(
        exhaustMapTrailing((w) => (w === 'b' ? cold('-#') : cold('-(x|)', { x: w }))),
      );
      expectObservable(failing).toBe('-a--#', { a: 'a' });
      const broken = hot('a--#').pipe(exhaustMapTrailing((w) => cold('-(x|)', { x: w })));
      expectObservable(broken).toBe('-a-#', { a: 'a' });
    });
  });

  it('fails when the projection throws', () => {
    scheduler().run(({ hot, expectObservable }) => {
      const out$ = hot('a').pipe(
        exhaustMapTrailing((): never => {
          throw new Error('spool gone');
        }),
      );
      expectObservable(out$).toBe('#', undefined, new Error('spool gone'));
    });
  });
});
