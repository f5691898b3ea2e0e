import type { Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { EXPIRE_BATCH, sweepEvery$, type RetentionStore, type SweepResult } from '../src/queue/retention.js';

// Timing of the retention sweeper on virtual time. The store is a test double
// returning cold Observables (promises are not virtual); the real spools'
// `expire` is exercised by the spool contract suite and test/queue/retention.test.ts.

const DAY = 24 * 60 * 60 * 1000;
const NOW = 100 * DAY;

function newScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => {
    expect(actual).toEqual(expected);
  });
}

const swept = (removed: number): SweepResult => ({ kind: 'swept', removed });
type Step = { removed: number; more: boolean };

describe('sweepEvery$ (marbles)', () => {
  it('sweeps once per interval with the cutoff of that moment, batch after batch while more may qualify', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const calls: [number, number][] = [];
      const steps: Step[] = [
        { removed: EXPIRE_BATCH, more: true },
        { removed: 3, more: false },
      ];
      let n = 0;
      const store: RetentionStore = {
        expire: (before, limit) => {
          calls.push([before, limit]);
          return cold('-(s|)', { s: steps[n++ % 2] as Step });
        },
      };
      const result$ = sweepEvery$(store, { retentionDays: 7, clock: () => NOW, intervalMs: 10 });

      // tick at 10: the first batch answers at 11, the second at 12; the same at 20 and 30
      expectObservable(result$, '^ 35ms !').toBe('12ms a 9ms b 9ms c', {
        a: swept(EXPIRE_BATCH + 3),
        b: swept(EXPIRE_BATCH + 3),
        c: swept(EXPIRE_BATCH + 3),
      });
      return () => {
        expect(calls).toHaveLength(6);
        expect(calls.every(([before, limit]) => before === NOW - 7 * DAY && limit === EXPIRE_BATCH)).toBe(true);
      };
    });
  });

  it('skips a tick while a slow sweep is still running instead of overlapping', () => {
    newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const step = cold('15ms (s|)', { s: { removed: 1, more: false } });
      const store: RetentionStore = { expire: () => step };
      const result$ = sweepEvery$(store, { retentionDays: 7, clock: () => NOW, intervalMs: 10 });

      // ticks at 10, 20, 30, 40: the sweep started at 10 runs until 25, so the
      // tick at 20 is dropped; the next sweep starts at 30.
      expectObservable(result$, '^ 48ms !').toBe('25ms a 19ms b', { a: swept(1), b: swept(1) });
      expectSubscriptions(step.subscriptions).toBe(['10ms ^ 14ms !', '30ms ^ 14ms !']);
    });
  });

  it('turns a failed step into an error value with what was removed before it, and keeps sweeping', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const failure = new Error('disk on fire');
      let calls = 0;
      const store: RetentionStore = {
        expire: (): Observable<Step> => {
          calls += 1;
          if (calls === 1) return cold('-(s|)', { s: { removed: EXPIRE_BATCH, more: true } });
          if (calls === 2) return cold('-#', undefined, failure);
          return cold('-(s|)', { s: { removed: 2, more: false } });
        },
      };
      const result$ = sweepEvery$(store, { retentionDays: 7, clock: () => NOW, intervalMs: 10 });

      expectObservable(result$, '^ 25ms !').toBe('12ms e 8ms a', {
        e: { kind: 'error', removed: EXPIRE_BATCH, error: failure },
        a: swept(2),
      });
    });
  });

  it('emits an empty sweep when nothing is old enough', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const store: RetentionStore = { expire: () => cold('(s|)', { s: { removed: 0, more: false } }) };
      const result$ = sweepEvery$(store, { retentionDays: 7, clock: () => NOW, intervalMs: 5 });

      expectObservable(result$, '^ 12ms !').toBe('5ms a 4ms b', { a: swept(0), b: swept(0) });
    });
  });

  it('rejects a negative retention or a zero interval', () => {
    const store: RetentionStore = { expire: () => newScheduler().createColdObservable('|') };
    expect(() => sweepEvery$(store, { retentionDays: -1, clock: () => NOW, intervalMs: 10 })).toThrow(
      new RangeError('retentionDays must be a number >= 0, got -1'),
    );
    expect(() => sweepEvery$(store, { retentionDays: 7, clock: () => NOW, intervalMs: 0 })).toThrow(
      new RangeError('intervalMs must be a number > 0, got 0'),
    );
    expect(() => sweepEvery$(store, { retentionDays: 0, clock: () => NOW, intervalMs: 10 })).not.toThrow();
  });
});
