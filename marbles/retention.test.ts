import type { Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import type { MessageRecord, RecipientStatus } from '../src/domain/envelope.js';
import type { RetentionStore, SweepResult } from '../src/queue/retention.js';
import { sweepEvery$ } from '../src/queue/retention.js';

// Timing of the retention sweeper on virtual time. The store is a test double
// returning cold Observables (promises are not virtual); the real file spool
// is exercised in test/queue/retention.test.ts.

const DAY = 24 * 60 * 60 * 1000;
const NOW = 100 * DAY;

function record(id: string, statuses: readonly RecipientStatus[], updatedAt: number): MessageRecord {
  return {
    id,
    envelope: { sender: 's@a.test', recipients: statuses.map((_, i) => `r${i}@b.test`), clientAddress: '127.0.0.1', heloName: 'c.test', receivedAt: 0 },
    size: 10,
    recipients: statuses.map((status, i) => ({ recipient: `r${i}@b.test`, status, attempts: 1, nextAttemptAt: 0, updatedAt })),
  };
}

const oldDone = record('old-done', ['delivered', 'bounced'], NOW - 8 * DAY);
const oldDone2 = record('old-done-2', ['bounced'], NOW - 30 * DAY);
const oldDeferred = record('old-deferred', ['delivered', 'deferred'], NOW - 30 * DAY);
const oldQueued = record('old-queued', ['queued'], NOW - 30 * DAY);
const freshDone = record('fresh-done', ['delivered'], NOW - 1 * DAY);

function newScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => {
    expect(actual).toEqual(expected);
  });
}

const swept = (removed: number, failed = 0): SweepResult => ({ kind: 'swept', removed, failed });

describe('sweepEvery$ (marbles)', () => {
  it('sweeps once per interval and removes only finished messages past retention', () => {
    newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const list = cold('--a|', { a: [oldDone, oldDeferred, oldQueued, freshDone, oldDone2] });
      const removed: string[] = [];
      const store: RetentionStore = {
        list: () => list,
        remove: (id) => {
          removed.push(id);
          return cold('-t|', { t: true });
        },
      };
      const result$ = sweepEvery$(store, { retentionDays: 7, clock: () => NOW, intervalMs: 10 });

      // tick at 10, list emits at 12 and completes at 13, removals finish at 14.
      expectObservable(result$, '^ 35ms !').toBe('14ms a 9ms b 9ms c', { a: swept(2), b: swept(2), c: swept(2) });
      expectSubscriptions(list.subscriptions).toBe(['10ms ^--!', '20ms ^--!', '30ms ^--!']);
      return () => {
        expect(removed).toEqual(['old-done', 'old-done-2', 'old-done', 'old-done-2', 'old-done', 'old-done-2']);
      };
    });
  });

  it('skips a tick while a slow sweep is still running instead of overlapping', () => {
    newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const list = cold('15ms a|', { a: [oldDone] });
      const store: RetentionStore = { list: () => list, remove: () => cold('(t|)', { t: true }) };
      const result$ = sweepEvery$(store, { retentionDays: 7, clock: () => NOW, intervalMs: 10 });

      // ticks at 10, 20, 30, 40: the sweep started at 10 runs until 26, so the
      // tick at 20 is dropped; the next sweep starts at 30.
      expectObservable(result$, '^ 48ms !').toBe('26ms a 19ms b', { a: swept(1), b: swept(1) });
      expectSubscriptions(list.subscriptions).toBe(['10ms ^ 15ms !', '30ms ^ 15ms !']);
    });
  });

  it('turns a failed listing into an error value and keeps sweeping', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const failure = new Error('disk on fire');
      let calls = 0;
      const store: RetentionStore = {
        list: (): Observable<readonly MessageRecord[]> => {
          calls += 1;
          return calls === 1 ? cold('-#', undefined, failure) : cold('-(a|)', { a: [oldDone] });
        },
        remove: () => cold('(t|)', { t: true }),
      };
      const result$ = sweepEvery$(store, { retentionDays: 7, clock: () => NOW, intervalMs: 10 });

      expectObservable(result$, '^ 25ms !').toBe('11ms e 9ms a', {
        e: { kind: 'error', removed: 0, error: failure },
        a: swept(1),
      });
    });
  });

  it('counts a failed removal, does not count a message already gone, and goes on', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const store: RetentionStore = {
        list: () => cold('(a|)', { a: [oldDone, oldDone2, record('gone', ['delivered'], 0)] }),
        remove: (id) =>
          id === 'old-done' ? cold('-#', undefined, new Error('EACCES')) : cold('-(t|)', { t: id !== 'gone' }),
      };
      const result$ = sweepEvery$(store, { retentionDays: 7, clock: () => NOW, intervalMs: 10 });

      expectObservable(result$, '^ 15ms !').toBe('11ms a', { a: swept(1, 1) });
    });
  });

  it('emits an empty sweep when nothing is old enough', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const store: RetentionStore = {
        list: () => cold('(a|)', { a: [freshDone, oldDeferred] }),
        remove: () => cold('#', undefined, new Error('must not be called')),
      };
      const result$ = sweepEvery$(store, { retentionDays: 7, clock: () => NOW, intervalMs: 5 });

      expectObservable(result$, '^ 12ms !').toBe('5ms a 4ms b', { a: swept(0), b: swept(0) });
    });
  });

  it('rejects a negative retention or a zero interval', () => {
    const store: RetentionStore = { list: () => newScheduler().createColdObservable('|'), remove: () => newScheduler().createColdObservable('|') };
    expect(() => sweepEvery$(store, { retentionDays: -1, clock: () => NOW, intervalMs: 10 })).toThrow(RangeError);
    expect(() => sweepEvery$(store, { retentionDays: 7, clock: () => NOW, intervalMs: 0 })).toThrow(RangeError);
  });
});
