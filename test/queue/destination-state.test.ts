import { describe, expect, it } from 'vitest';
import type { DeliveryJob } from '../../src/domain/job.js';
import { feedbackOf, type JobResult } from '../../src/queue/attempt-job.js';
import {
  canStart,
  finished,
  initialState,
  intervalOf,
  isDead,
  isIdle,
  startableAt,
  started,
  type DestinationLimits,
  type DestinationState,
  type Feedback,
} from '../../src/queue/destination-state.js';

const limits: DestinationLimits = { initial: 5, max: 10, deadMs: 60_000 };
const answered: Feedback = { kind: 'answered' };
const none: Feedback = { kind: 'none' };
const failed = (reason = '421 try later'): Feedback => ({ kind: 'failed', reason });

/** A state with `patch` over the initial one. */
const state = (patch: Partial<DestinationState> = {}): DestinationState => ({ ...initialState(limits), ...patch });

/** Applies feedbacks one after the other, each to an attempt that was running. */
function after(
  s: DestinationState,
  feedbacks: readonly Feedback[],
  now = 0,
  l: DestinationLimits = limits,
): DestinationState {
  return feedbacks.reduce((acc, f) => finished({ ...acc, running: acc.running + 1 }, f, now, l), s);
}

describe('initialState', () => {
  it.each([
    ['starts at the initial window', { initial: 5, max: 10, deadMs: 1 }, 5],
    ['never above the maximum', { initial: 5, max: 3, deadMs: 1 }, 3],
    ['initial 1', { initial: 1, max: 10, deadMs: 1 }, 1],
  ])('%s', (_, l, window) => {
    expect(initialState(l)).toEqual({ window, running: 0, failures: 0, deadUntil: 0, reason: '', nextStartAt: 0 });
  });
});

describe('canStart and startableAt', () => {
  it.each<[string, Partial<DestinationState>, number, boolean, number | undefined]>([
    ['fresh', {}, 0, true, undefined],
    ['below the window', { running: 4 }, 0, true, undefined],
    ['at the window', { running: 5 }, 0, false, undefined],
    ['a fractional window counts whole attempts only', { window: 5.9, running: 5 }, 0, false, undefined],
    ['dead until 100', { deadUntil: 100 }, 50, false, 100],
    ['dead period over', { deadUntil: 100 }, 100, true, undefined],
    ['rate-limited until 500', { nextStartAt: 500 }, 0, false, 500],
    ['rate limit over', { nextStartAt: 500 }, 500, true, undefined],
    ['window full and rate-limited: only a finish helps', { running: 5, nextStartAt: 500 }, 0, false, undefined],
    ['dead wins over the rate limit', { deadUntil: 800, nextStartAt: 500 }, 0, false, 800],
  ])('%s', (_, patch, now, can, at) => {
    const s = state(patch);
    expect(canStart(s, now)).toBe(can);
    expect(startableAt(s, now)).toBe(at);
  });
});

describe('isDead', () => {
  it.each([
    [0, 0, false],
    [100, 99, true],
    [100, 100, false],
    [100, 101, false],
  ])('deadUntil %i at %i: %s', (deadUntil, now, dead) => {
    expect(isDead(state({ deadUntil }), now)).toBe(dead);
  });
});

describe('started', () => {
  it('counts a running attempt and leaves the rate alone without a limit', () => {
    expect(started(state(), 10)).toEqual(state({ running: 1 }));
  });

  it('spaces starts by the interval from now, or from the last slot when that is later', () => {
    const first = started(state(), 0, 500);
    expect(first.nextStartAt).toBe(500);
    expect(started(first, 500, 500).nextStartAt).toBe(1000);
    // late (a wake-up after the slot): the next slot counts from now
    expect(started(first, 700, 500).nextStartAt).toBe(1200);
  });

  it('a start after the dead period is a probe: alive again, window 1', () => {
    const dead = state({ deadUntil: 100, window: 3, failures: 0, reason: 'refused' });
    expect(started(dead, 100)).toMatchObject({ deadUntil: 0, window: 1, running: 1 });
  });

  it('a start before the dead period ends changes nothing but the count', () => {
    expect(started(state({ deadUntil: 100, window: 3 }), 99)).toMatchObject({ deadUntil: 100, window: 3, running: 1 });
  });
});

describe('finished', () => {
  it('answered: the window grows by 1/window, failures reset', () => {
    const s = finished(state({ running: 1, failures: 2 }), answered, 0, limits);
    expect(s).toMatchObject({ running: 0, failures: 0, window: 5 + 1 / 5 });
  });

  it('answered: a window of 1 grows to 2, then 2.5, then 2.9, then past 3', () => {
    const windows: number[] = [];
    let s = state({ window: 1 });
    for (let i = 0; i < 4; i += 1) {
      s = after(s, [answered]);
      windows.push(s.window);
    }
    expect(windows[0]).toBe(2);
    expect(windows[1]).toBe(2.5);
    expect(windows[2]).toBeCloseTo(2.9, 10);
    expect(windows[3]).toBeCloseTo(2.9 + 1 / 2.9, 10);
    expect(Math.floor(windows[3] ?? 0)).toBe(3);
  });

  it('answered: by about one after a whole window of answers, never above max', () => {
    expect(Math.floor(after(state(), Array<Feedback>(5).fill(answered)).window)).toBe(5);
    expect(Math.floor(after(state(), Array<Feedback>(6).fill(answered)).window)).toBe(6);
    expect(after(state({ window: 9.95 }), [answered]).window).toBe(10);
    expect(after(state(), Array<Feedback>(500).fill(answered)).window).toBe(10);
  });

  it('none: only the running count changes', () => {
    const s = state({ running: 2, failures: 1, window: 4.5, reason: 'x' });
    expect(finished(s, none, 0, limits)).toEqual({ ...s, running: 1 });
  });

  it('failed: the window shrinks by 1/window and the failure is counted with its reason', () => {
    const s = finished(state({ running: 1 }), failed('refused'), 0, limits);
    expect(s).toMatchObject({ running: 0, failures: 1, window: 5 - 1 / 5, reason: 'refused', deadUntil: 0 });
  });

  it('failed: the window never goes below 1', () => {
    expect(after(state({ window: 1.2 }), [failed()]).window).toBe(1);
  });

  it('a failed cohort (a window of failures in a row) is dead for deadMs, window 1, failures reset', () => {
    const four = after(state(), Array<Feedback>(4).fill(failed()), 1_000);
    expect(isDead(four, 1_000)).toBe(false);
    expect(four.failures).toBe(4);
    const five = after(four, [failed('conn refused')], 1_000);
    expect(five).toMatchObject({ deadUntil: 61_000, window: 1, failures: 0, reason: 'conn refused' });
  });

  it('an answer in between breaks the cohort', () => {
    const s = after(state(), [failed(), failed(), failed(), failed(), answered, failed()]);
    expect(isDead(s, 0)).toBe(false);
    expect(s.failures).toBe(1);
  });

  it('with a window of 1 (a probe) one failure is a cohort', () => {
    expect(after(state({ window: 1 }), [failed('still down')], 5)).toMatchObject({
      deadUntil: 60_005,
      reason: 'still down',
    });
  });

  it('failures while already dead do not push the dead period further', () => {
    const dead = state({ deadUntil: 60_000, window: 1, running: 3 });
    const s = finished(dead, failed('again'), 10_000, limits);
    expect(s.deadUntil).toBe(60_000);
    expect(s.running).toBe(2);
  });

  it('the running count never goes negative', () => {
    expect(finished(state(), answered, 0, limits).running).toBe(0);
  });
});

describe('isIdle', () => {
  it.each<[string, Partial<DestinationState>, number, boolean]>([
    ['fresh', {}, 0, true],
    ['a grown window', { window: 7.3 }, 0, true],
    ['something running', { running: 1 }, 0, false],
    ['dead', { deadUntil: 100 }, 50, false],
    ['dead period over', { deadUntil: 100 }, 100, true],
    ['failures to remember', { failures: 1 }, 0, false],
    ['a narrowed window', { window: 4.8 }, 0, false],
    ['a rate slot still ahead', { nextStartAt: 100 }, 50, false],
    ['a rate slot passed', { nextStartAt: 100 }, 100, true],
  ])('%s: %s', (_, patch, now, idle) => {
    expect(isIdle(state(patch), limits, now)).toBe(idle);
  });
});

describe('intervalOf', () => {
  it.each([
    [undefined, 0],
    [{ count: 2, perMs: 1_000 }, 500],
    [{ count: 100, perMs: 60_000 }, 600],
    [{ count: 1, perMs: 3_600_000 }, 3_600_000],
  ])('%j → %i ms between starts', (rate, ms) => {
    expect(intervalOf(rate)).toBe(ms);
  });
});

describe('feedbackOf (attempt-job)', () => {
  const job = { domain: 'x.test', recipients: [] } as unknown as DeliveryJob;
  const attempted = (result: Record<string, unknown>): JobResult => ({
    kind: 'attempted',
    job,
    startedAt: 0,
    result: { outcomes: new Map(), ...result },
  });
  it.each<[string, JobResult, Feedback]>([
    ['a server answered', attempted({ answered: true }), { kind: 'answered' }],
    [
      'no host gave a verdict',
      attempted({ unreachable: 'connect ECONNREFUSED' }),
      { kind: 'failed', reason: 'connect ECONNREFUSED' },
    ],
    ['neither (a DNS failure, say)', attempted({}), { kind: 'none' }],
    ['skipped as dead', { kind: 'skipped', job, why: { kind: 'dead', until: 1, reason: 'x' } }, { kind: 'none' }],
    ['skipped as busy', { kind: 'skipped', job, why: { kind: 'busy', until: 1 } }, { kind: 'none' }],
  ])('%s', (_, r, f) => {
    expect(feedbackOf(r)).toEqual(f);
  });
});
