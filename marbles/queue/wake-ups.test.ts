import { NEVER, Subject, take } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { wakeUps } from '../../src/queue/wake-ups.js';

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe('wakeUps', () => {
  it('wakes once at start, then immediately for every new mail', () => {
    const ts = scheduler();
    ts.run(({ hot, expectObservable }) => {
      const wake$ = hot('-- 5ms a 9ms b', { a: undefined, b: undefined });
      const out$ = wakeUps({ wake$, due$: NEVER, tickMs: 1_000_000, now: () => ts.now() });
      expectObservable(out$, '^ 30ms !').toBe('s 6ms w 9ms w', { s: 'start', w: 'wake' });
    });
  });

  it('wakes when the next deferred recipient falls due; the latest due time wins', () => {
    const ts = scheduler();
    ts.run(({ hot, expectObservable }) => {
      // at 10 ms the spool says "next due at 100"; at 20 ms (after another claim) "next due at 50"
      const due$ = hot('10ms a 9ms b', { a: 100, b: 50 });
      const out$ = wakeUps({ wake$: NEVER, due$, tickMs: 1_000_000, now: () => ts.now() });
      expectObservable(out$, '^ 200ms !').toBe('s 49ms d', { s: 'start', d: 'due' });
    });
  });

  it('a due time in the past wakes at once; undefined cancels the timer', () => {
    const ts = scheduler();
    ts.run(({ hot, expectObservable }) => {
      const due$ = hot('10ms a 9ms b 9ms c', { a: 0, b: 100, c: undefined });
      const out$ = wakeUps({ wake$: NEVER, due$, tickMs: 1_000_000, now: () => ts.now() });
      expectObservable(out$, '^ 200ms !').toBe('s 9ms d', { s: 'start', d: 'due' });
    });
  });

  it('ticks periodically as a safety net (expired leases of a dead daemon)', () => {
    const ts = scheduler();
    ts.run(({ expectObservable }) => {
      const out$ = wakeUps({ wake$: NEVER, due$: NEVER, tickMs: 30_000, now: () => ts.now() }).pipe(take(3));
      expectObservable(out$).toBe('s 29999ms t 29999ms (t|)', { s: 'start', t: 'tick' });
    });
  });

  it('new mail and due timers interleave', () => {
    const ts = scheduler();
    ts.run(({ hot, expectObservable }) => {
      const wake$ = hot('--- 3ms w', { w: undefined });
      const due$ = new Subject<number | undefined>();
      const out$ = wakeUps({ wake$, due$, tickMs: 1_000_000, now: () => ts.now() });
      ts.schedule(() => due$.next(8), 2);
      expectObservable(out$, '^ 50ms !').toBe('s 5ms w 1ms d', { s: 'start', w: 'wake', d: 'due' });
    });
  });
});
