import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { closeAfterSilence } from '../src/rx/idle-timeout.js';

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe('closeAfterSilence', () => {
  it('emits once after ms of silence; activity resets the timer', () => {
    scheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const activity = hot('--a--b-------c--|');
      expectObservable(activity.pipe(closeAfterSilence(5))).toBe('----------(x|)', { x: undefined });
      expectSubscriptions(activity.subscriptions).toBe('^---------!');
    });
  });

  it('counts silence from subscription', () => {
    scheduler().run(({ hot, expectObservable }) => {
      expectObservable(hot('---------').pipe(closeAfterSilence(3))).toBe('---(x|)', { x: undefined });
    });
  });

  it('stays quiet while activity keeps coming', () => {
    scheduler().run(({ hot, expectObservable }) => {
      const activity = hot('a 2ms b 2ms c 2ms d 2ms e 2ms f');
      // last activity at 15: fires at 15 + 4
      expectObservable(activity.pipe(closeAfterSilence(4))).toBe('19ms (x|)', { x: undefined });
    });
  });

  it('completes without emitting when the activity stream ends (session closed)', () => {
    scheduler().run(({ hot, expectObservable }) => {
      expectObservable(hot('--a-|').pipe(closeAfterSilence(5))).toBe('----|');
    });
  });

  it('passes errors on', () => {
    scheduler().run(({ hot, expectObservable }) => {
      expectObservable(hot('--a-#', undefined, 'boom').pipe(closeAfterSilence(5))).toBe('----#', undefined, 'boom');
    });
  });

  it('works with real SMTP-sized timeouts in virtual time', () => {
    scheduler().run(({ hot, expectObservable }) => {
      const commands = hot('a 299s b'); // b at 1 + 299 000
      expectObservable(commands.pipe(closeAfterSilence(300_000))).toBe('599001ms (x|)', { x: undefined });
    });
  });
});
