import { describe, expect, it } from 'vitest';
import {
  DEFAULT_THROTTLE,
  authDecision,
  authRefused,
  emptyThrottle,
  pruneThrottle,
  recordAuthFailure,
  recordAuthSuccess,
  throttleKey,
} from '../../src/policy/auth-throttle.js';
import type { ThrottleState } from '../../src/policy/auth-throttle.js';

const MIN = 60_000;
const ip = '203.0.113.7';

function failures(count: number, from = 0, step = 1_000, state: ThrottleState = emptyThrottle): ThrottleState {
  let next = state;
  for (let i = 0; i < count; i += 1) next = recordAuthFailure(next, ip, from + i * step, DEFAULT_THROTTLE);
  return next;
}

describe('auth throttle', () => {
  it('has the documented defaults', () => {
    expect(DEFAULT_THROTTLE).toMatchObject({
      windowMs: 10 * MIN,
      delayAfter: 3,
      baseDelayMs: 1_000,
      refuseAfter: 10,
      refuseMs: 15 * MIN,
    });
    expect(Object.isFrozen(DEFAULT_THROTTLE)).toBe(true);
  });

  it.each([
    [0, { kind: 'allow' }],
    [1, { kind: 'allow' }],
    [2, { kind: 'allow' }],
    [3, { kind: 'delay', ms: 1_000 }],
    [4, { kind: 'delay', ms: 2_000 }],
    [5, { kind: 'delay', ms: 4_000 }],
    [6, { kind: 'delay', ms: 8_000 }],
    [7, { kind: 'delay', ms: 16_000 }],
    [8, { kind: 'delay', ms: 30_000 }], // capped at maxDelayMs
    [9, { kind: 'delay', ms: 30_000 }],
    [10, { kind: 'refuse', until: 9_000 + 15 * MIN }],
  ] as const)('after %s failures -> %j', (count, expected) => {
    expect(authDecision(failures(count), ip, 10_000)).toEqual(expected);
  });

  it('forgets failures outside the 10 minute window', () => {
    const state = failures(5, 0, 1_000); // at 0..4 s
    expect(authDecision(state, ip, 10 * MIN - 1)).toEqual({ kind: 'delay', ms: 4_000 });
    // a failure at t counts while now - t < window
    expect(authDecision(state, ip, 10 * MIN + 1_000)).toEqual({ kind: 'delay', ms: 1_000 }); // 2, 3, 4 s left
    expect(authDecision(state, ip, 10 * MIN + 2_000)).toEqual({ kind: 'allow' });
    // slow failures never accumulate
    expect(authDecision(failures(20, 0, 4 * MIN), ip, 80 * MIN)).toEqual({ kind: 'allow' });
  });

  it('refuses for 15 minutes, ignores failures meanwhile, then starts fresh', () => {
    const refused = failures(10, 0, 1_000); // 10th at 9 s
    const until = 9_000 + 15 * MIN;
    expect(authDecision(refused, ip, until - 1)).toEqual({ kind: 'refuse', until });
    expect(recordAuthFailure(refused, ip, 5 * MIN)).toBe(refused); // no extension
    expect(authDecision(refused, ip, until)).toEqual({ kind: 'allow' });
    const again = recordAuthFailure(refused, ip, until);
    expect(authDecision(again, ip, until)).toEqual({ kind: 'allow' });
  });

  it('success clears failures but not a running refusal', () => {
    expect(authDecision(recordAuthSuccess(failures(5), ip), ip, 10_000)).toEqual({ kind: 'allow' });
    expect(recordAuthSuccess(failures(5), ip).clients.size).toBe(0);
    expect(recordAuthSuccess(emptyThrottle, ip)).toBe(emptyThrottle);
    const refused = recordAuthSuccess(failures(10), ip);
    expect(authDecision(refused, ip, 10_000)).toMatchObject({ kind: 'refuse' });
  });

  it('keys IPv4-mapped addresses as IPv4 and IPv6 per /64', () => {
    expect(throttleKey('::ffff:203.0.113.7')).toBe(throttleKey('203.0.113.7'));
    expect(throttleKey('2001:db8:1:2::1')).toBe(throttleKey('2001:db8:1:2:ffff::9'));
    expect(throttleKey('2001:db8:1:2::1')).not.toBe(throttleKey('2001:db8:1:3::1'));
    expect(throttleKey('2001:db8:1:2::1')).toBe('20010db800010002/64'); // two hex digits per byte: no collisions
    const state = recordAuthFailure(failures(2), '::ffff:203.0.113.7', 3_000);
    expect(authDecision(state, ip, 4_000)).toEqual({ kind: 'delay', ms: 1_000 });
    expect(authDecision(state, '203.0.113.8', 4_000)).toEqual({ kind: 'allow' });
  });

  it('does not mutate earlier states', () => {
    const one = failures(1);
    const snapshot = JSON.stringify([...one.clients]);
    failures(9, 1_000, 1_000, one);
    expect(JSON.stringify([...one.clients])).toBe(snapshot);
    expect(emptyThrottle.clients.size).toBe(0);
  });

  it('prunes expired records and bounds the number of tracked clients', () => {
    let state = emptyThrottle;
    for (let i = 0; i < 50; i += 1) state = recordAuthFailure(state, `198.51.100.${i}`, i * MIN);
    expect(state.clients.size).toBe(50);
    expect(pruneThrottle(state, 50 * MIN).clients.size).toBe(9); // failures at 41..49 min remain
    const refused = failures(10);
    expect(pruneThrottle(refused, 10 * MIN).clients.size).toBe(1); // refusal still running
    expect(pruneThrottle(refused, 16 * MIN).clients.size).toBe(0);
    expect(pruneThrottle(refused, 9_000 + 15 * MIN).clients.size).toBe(0); // the refusal ends at its last millisecond

    const small = { ...DEFAULT_THROTTLE, maxTracked: 3 };
    let bounded = emptyThrottle;
    for (const last of [1, 2, 3, 4, 1]) bounded = recordAuthFailure(bounded, `192.0.2.${last}`, last, small);
    expect([...bounded.clients.keys()]).toEqual(['192.0.2.3', '192.0.2.4', '192.0.2.1']);
  });

  it('refuses AUTH with 454 4.7.0 without closing', () => {
    expect(authRefused).toEqual({
      kind: 'reject',
      code: 454,
      enhanced: '4.7.0',
      text: 'Too many failed authentication attempts, try again later',
    });
  });
});
