import { map } from 'rxjs';
import type { Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import type { AuthThrottleDecision } from '../src/policy/auth-throttle.js';
import { throttleAuth } from '../src/policy/auth-throttle-stream.js';
import type { AuthResult } from '../src/policy/auth-throttle-stream.js';

const MIN = 60_000;
const ip = '203.0.113.9';

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/** Marble letters for decisions: allow, delays by seconds, refusal. */
const D: Record<string, AuthThrottleDecision> = {
  a: { kind: 'allow' },
  b: { kind: 'delay', ms: 1_000 },
  c: { kind: 'delay', ms: 2_000 },
  d: { kind: 'delay', ms: 4_000 },
  e: { kind: 'delay', ms: 8_000 },
  g: { kind: 'delay', ms: 16_000 },
  h: { kind: 'delay', ms: 30_000 },
  r: { kind: 'refuse', until: 9_000 + 15 * MIN },
};

/** `f`: failed AUTH, `s`: successful AUTH, stamped with the virtual clock. */
function results(ts: TestScheduler, marbles$: Observable<string>): Observable<AuthResult> {
  return marbles$.pipe(map((letter) => ({ ip, ok: letter === 's', at: ts.now() })));
}

describe('auth throttling over virtual time', () => {
  it('delays grow, then the client is refused for 15 minutes, then starts fresh', () => {
    const ts = scheduler();
    ts.run(({ hot, expectObservable }) => {
      // ten failures one second apart (t0 … t9s), one during the refusal (t5m), one at its end
      const tenFast = Array<string>(10).fill('f').join(' 999ms ');
      const input = hot(`${tenFast} ${5 * MIN - 9_001}ms f ${9_000 + 15 * MIN - 5 * MIN - 1}ms f`);
      const next$ = results(ts, input).pipe(
        throttleAuth(),
        map((verdict) => verdict.next),
      );
      const tenDecisions = 'a 999ms a 999ms b 999ms c 999ms d 999ms e 999ms g 999ms h 999ms h 999ms r';
      const expected = `${tenDecisions} ${5 * MIN - 9_001}ms r ${9_000 + 15 * MIN - 5 * MIN - 1}ms a`;
      expectObservable(next$).toBe(expected, D);
    });
  });

  it('forgets failures older than the 10 minute window', () => {
    const ts = scheduler();
    ts.run(({ hot, expectObservable }) => {
      // failures at 0, 1 s, 2 s, then at 10 min + 1 s (the first two have expired)
      const input = hot(`f 999ms f 999ms f ${10 * MIN - 1_001}ms f`);
      const next$ = results(ts, input).pipe(
        throttleAuth(),
        map((verdict) => verdict.next),
      );
      expectObservable(next$).toBe(`a 999ms a 999ms b ${10 * MIN - 1_001}ms a`, D);
    });
  });

  it('a success clears the failures', () => {
    const ts = scheduler();
    ts.run(({ hot, expectObservable }) => {
      const input = hot('f 9ms f 9ms f 9ms f 9ms s 9ms f');
      const next$ = results(ts, input).pipe(
        throttleAuth(),
        map((verdict) => verdict.next),
      );
      expectObservable(next$).toBe('a 9ms a 9ms b 9ms c 9ms a 9ms a', D);
    });
  });
});
