import { defer, retry } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { quickRetry, quickRetryDelayMs } from '../src/rx/jittered-retry.js';

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe('quickRetry', () => {
  it('waits base, doubling, capped, plus jitter (fixed random) between subscriptions', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const failing = cold('#', undefined, new Error('connection dropped'));
      // random 0.4 -> +10 %: 10 -> 11, 20 -> 22, min(40, 30) -> 33
      const config = quickRetry({ count: 3, baseMs: 10, maxMs: 30, random: () => 0.4, scheduler: ts });
      expectObservable(failing.pipe(retry(config))).toBe('66ms #', undefined, new Error('connection dropped'));
      expectSubscriptions(failing.subscriptions).toBe(['(^!)', '11ms (^!)', '33ms (^!)', '66ms (^!)']);
    });
  });

  it('resubscribes (a deferred attempt really runs again) and stops at the first success', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      let attempts = 0;
      const attempt$ = defer(() => {
        attempts += 1;
        return attempts < 3 ? cold('-#') : cold('-(a|)');
      });
      const config = quickRetry({ count: 5, baseMs: 100, maxMs: 1_000, random: () => 0 });
      // fail at 1, wait 100, fail at 102, wait 200, succeed at 303
      expectObservable(attempt$.pipe(retry(config))).toBe('303ms (a|)');
    });
  });

  it('rethrows non-retryable errors immediately', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const failing = cold('--#', undefined, 'permanent');
      const config = quickRetry({
        count: 3,
        baseMs: 10,
        maxMs: 100,
        random: () => 0,
        isRetryable: (err) => err !== 'permanent',
      });
      expectObservable(failing.pipe(retry(config))).toBe('--#', undefined, 'permanent');
      expectSubscriptions(failing.subscriptions).toBe('^-!');
    });
  });

  it('gives the exact schedule as a pure function', () => {
    const waits = [1, 2, 3, 4, 5].map((n) => quickRetryDelayMs(n, { baseMs: 10, maxMs: 25, random: () => 0 }));
    expect(waits).toEqual([10, 20, 25, 25, 25]);
    expect(quickRetryDelayMs(1, { baseMs: 1_000, maxMs: 5_000, random: () => 0.999_999 })).toBe(1_250);
  });
});
