import { mergeMap } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { untilShutdown } from '../src/rx/until-shutdown.js';

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe('untilShutdown', () => {
  it('completes at the first shutdown signal and unsubscribes the source', () => {
    scheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const work = cold('-a-b-c-d|');
      const shutdown = hot('----s--s');
      expectObservable(work.pipe(untilShutdown(shutdown))).toBe('-a-b|');
      expectSubscriptions(work.subscriptions).toBe('^---!');
    });
  });

  it('ends the inner subscriptions of the operators before it (held AUTH attempts, as in the inbound listener)', () => {
    scheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const calls = hot('a-b-c');
      const held = cold('----x'); // each call answered after 4 frames, then kept open
      const shutdown = hot('-----s');
      expectObservable(
        calls.pipe(
          mergeMap(() => held),
          untilShutdown(shutdown),
        ),
      ).toBe('----x|');
      expectSubscriptions(held.subscriptions).toBe(['^----!', '--^--!', '----^!']);
    });
  });

  it('ignores a shutdown stream that completes without emitting', () => {
    scheduler().run(({ hot, cold, expectObservable }) => {
      expectObservable(cold('-a-b|').pipe(untilShutdown(hot('--|')))).toBe('-a-b|');
    });
  });
});
