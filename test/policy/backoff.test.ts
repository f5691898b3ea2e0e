import { describe, expect, it } from 'vitest';
import { nextAttemptAt, retryDelayMs } from '../../src/policy/backoff.js';

const cfg = { baseSeconds: 60, maxSeconds: 3840 };
const zero = (): number => 0;
const top = (): number => 0.999_999;

describe('retryDelayMs', () => {
  it.each<[number, () => number, number]>([
    [1, zero, 60_000],
    [2, zero, 120_000],
    [3, zero, 240_000],
    [7, zero, 3_840_000],
    [8, zero, 3_840_000], // capped
    [1_000, zero, 3_840_000], // 2^999 overflows to Infinity, still capped
    [0, zero, 60_000], // below 1 counts as 1
    [-3, zero, 60_000],
    [1, () => 0.5, 67_500],
    [1, top, 75_000],
    [8, () => 0.5, 4_320_000], // jitter on top of the cap
    [1, () => 7, 75_000], // out-of-range random clamped
    [1, () => -1, 60_000],
  ])('attempt %s -> %s ms', (attempt, random, expected) => {
    expect(retryDelayMs(attempt, cfg, random)).toBe(expected);
  });

  it('stays within +0-25 % for any random value', () => {
    for (let attempt = 1; attempt <= 10; attempt += 1) {
      const plain = retryDelayMs(attempt, cfg, zero);
      const delay = retryDelayMs(attempt, cfg, Math.random);
      expect(delay).toBeGreaterThanOrEqual(plain);
      expect(delay).toBeLessThanOrEqual(plain * 1.25);
    }
  });
});

describe('nextAttemptAt', () => {
  it('adds the delay to now', () => {
    expect(nextAttemptAt(1_700_000_000_000, 2, cfg, zero)).toBe(1_700_000_120_000);
  });
});
