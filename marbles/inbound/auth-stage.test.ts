import { BehaviorSubject, map, of, take, tap, throwError } from 'rxjs';
import type { Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { throttledAuth, type AuthOutcome, type ThrottledAuthOptions } from '../../src/inbound/auth-stage.js';
import type { ThrottleConfig } from '../../src/policy/auth-throttle.js';
import { untilShutdown } from '../../src/rx/until-shutdown.js';

// The AUTH stage as the daemon runs it (session-adapter.ts): attempts through
// `throttledAuth`, ended by `untilShutdown` when the listener closes.

const ip = '203.0.113.9';

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/** Marble letters for outcomes: accepted, failed, refused, error. */
function letter(outcome: AuthOutcome): string {
  return { accepted: 'a', failed: 'f', refused: 'r', error: 'e' }[outcome.kind];
}

/**
 * Attempts are marble letters: `s` has the right password, `e` breaks the check, anything else is wrong. Counts the
 * checks.
 */
function stage(
  ts: TestScheduler,
  throttle?: ThrottleConfig,
): { options: ThrottledAuthOptions<string>; checks: () => number } {
  let checks = 0;
  const verify = (attempt: string): Observable<string | undefined> => {
    checks += 1;
    if (attempt === 'e') return throwError(() => new Error('hash unreadable'));
    return of(attempt === 's' ? 'alice' : undefined);
  };
  return {
    options: { ipOf: () => ip, verify, now: () => ts.now(), ...(throttle ? { throttle } : {}) },
    checks: () => checks,
  };
}

describe('throttledAuth: the AUTH stage over virtual time (§3)', () => {
  it('a client that keeps failing is answered after 1 s, 2 s, 4 s … (each attempt sent when the last was answered)', () => {
    const ts = scheduler();
    ts.run(({ expectObservable }) => {
      const next = new BehaviorSubject('x'); // the first attempt at once, then one per answer
      const answerTimes$ = next.pipe(
        take(6),
        throttledAuth(stage(ts).options),
        map(() => ts.now()),
        tap(() => next.next('x')),
      );
      expectObservable(answerTimes$).toBe('(abc) 995ms d 1999ms e 3999ms (f|)', {
        a: 0,
        b: 0,
        c: 0,
        d: 1_000,
        e: 3_000,
        f: 7_000,
      });
    });
  });

  it('holds, then refuses without checking the password, then starts afresh when the refusal ends', () => {
    const ts = scheduler();
    const throttle = {
      windowMs: 1_000,
      delayAfter: 2,
      baseDelayMs: 10,
      maxDelayMs: 40,
      refuseAfter: 4,
      refuseMs: 100,
      maxTracked: 10,
    };
    const { options, checks } = stage(ts, throttle);
    ts.run(({ hot, expectObservable }) => {
      const attempts = hot('x 99ms x 99ms x 99ms x 99ms x 99ms x');
      // 3rd and 4th held 10 and 20 ms; the 4th failure starts a refusal until 420; the 6th is free again
      expectObservable(
        attempts.pipe(
          throttledAuth(options),
          map(({ outcome }) => letter(outcome)),
        ),
      ).toBe('f 99ms f 109ms f 109ms f 79ms r 99ms f');
    });
    expect(checks()).toBe(5);
  });

  it('gates each attempt by the state when it arrives; a success clears the failures', () => {
    const ts = scheduler();
    ts.run(({ hot, expectObservable }) => {
      // the success at 30 ms is held 1 s (three failures); the failure at 40 ms, sent before it was answered, too
      const attempts = hot('f 9ms f 9ms f 9ms s 9ms f 1959ms f');
      const outcomes$ = attempts.pipe(
        throttledAuth(stage(ts).options),
        map(({ outcome }) => (outcome.kind === 'accepted' ? outcome.user : letter(outcome))),
      );
      expectObservable(outcomes$).toBe('f 9ms f 9ms f 1009ms a 9ms f 959ms f', { f: 'f', a: 'alice' });
    });
  });

  it('a check that fails is an error outcome, is not counted as a failure, and the stage goes on', () => {
    const ts = scheduler();
    ts.run(({ hot, expectObservable }) => {
      const attempts = hot('f 9ms f 9ms e 9ms f 9ms f');
      // counted: failures at 0, 10, 30; the fourth attempt (40 ms) is the first one held
      expectObservable(
        attempts.pipe(
          throttledAuth(stage(ts).options),
          map(({ outcome }) => letter(outcome)),
        ),
      ).toBe('f 9ms f 9ms e 9ms f 1009ms f');
    });
  });

  it('untilShutdown ends the attempts still held: their passwords are never checked', () => {
    const ts = scheduler();
    const { options, checks } = stage(ts);
    ts.run(({ hot, expectObservable }) => {
      const attempts = hot('x 9ms x 9ms x 9ms x 9ms x');
      const shutdown = hot('500ms s');
      const outcomes$ = attempts.pipe(
        throttledAuth(options),
        map(({ outcome }) => letter(outcome)),
        untilShutdown(shutdown),
      );
      expectObservable(outcomes$).toBe('f 9ms f 9ms f 479ms |');
    });
    expect(checks()).toBe(3);
  });
});
