import { defer, retry } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { quickRetryDelayMs } from '../src/policy/backoff.js';
import { retryWithDelay } from '../src/rx/retry-with-delay.js';

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe('retryWithDelay', () => {
  it('waits what delayMs gives for each retry (here jittered doubling, fixed random) between subscriptions', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const failing = cold('#', undefined, new Error('connection dropped'));
      // random 0.4 -> +10 %: 10 -> 11, 20 -> 22, min(40, 30) -> 33
      const config = retryWithDelay({
        count: 3,
        delayMs: (n) => quickRetryDelayMs(n, 10, 30, () => 0.4),
        scheduler: ts,
      });
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
      const config = retryWithDelay({ count: 5, delayMs: (n) => 100 * 2 ** (n - 1) });
      // fail at 1, wait 100, fail at 102, wait 200, succeed at 303
      expectObservable(attempt$.pipe(retry(config))).toBe('303ms (a|)');
    });
  });

  it('rethrows non-retryable errors immediately', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const failing = cold('--#', undefined, 'permanent');
      const config = retryWithDelay({ count: 3, delayMs: () => 10, isRetryable: (err) => err !== 'permanent' });
      expectObservable(failing.pipe(retry(config))).toBe('--#', undefined, 'permanent');
      expectSubscriptions(failing.subscriptions).toBe('^-!');
    });
  });

  it('the quick-retry schedule is a pure function: doubling, capped, whole ms', () => {
    const waits = [1, 2, 3, 4, 5].map((n) => quickRetryDelayMs(n, 10, 25, () => 0));
    expect(waits).toEqual([10, 20, 25, 25, 25]);
    expect(quickRetryDelayMs(1, 1_000, 5_000, () => 0.999_999)).toBe(1_250);
  });
});
