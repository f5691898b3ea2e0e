import { describe, expect, it } from 'vitest';
import { DEFAULT_SHAPE_BUCKETS, queueShape } from '../../src/queue/shape.js';
import type { ShapeCell } from '../../src/spool/spool.js';

const MINUTE = 60_000;
const NOW = Date.UTC(2026, 0, 2, 12, 0, 30); // half a minute into a minute
const START = NOW - 30_000; // the start of the current minute

/** A cell that arrived `minutes` minutes before the current minute started. */
function cell(domain: string, minutes: number, recipients = 1): ShapeCell {
  return { domain, minute: START - minutes * MINUTE, recipients };
}

/** Counts with `n` at the bucket indexes given, zero elsewhere (10 columns). */
function counts(entries: Record<number, number>): number[] {
  return Array.from({ length: DEFAULT_SHAPE_BUCKETS.length + 1 }, (_, i) => entries[i] ?? 0);
}

describe('queueShape', () => {
  it('an empty queue: one zero total row, no domains', () => {
    expect(queueShape([], NOW)).toEqual({
      buckets: [5, 10, 20, 40, 80, 160, 320, 640, 1280],
      total: { total: 0, counts: counts({}) },
      rows: [],
    });
  });

  // age = NOW - minute: the current minute is 0.5 min old, `cell(d, m)` m + 0.5
  it.each([
    ['arrived this minute', START, 0],
    ['a minute in the future counts as age 0', NOW + 5 * MINUTE, 0],
    ['4.5 minutes', START - 4 * MINUTE, 0],
    ['exactly 5 minutes goes to the next bucket', NOW - 5 * MINUTE, 1],
    ['just under 10 minutes', NOW - 10 * MINUTE + 1, 1],
    ['exactly 10 minutes', NOW - 10 * MINUTE, 2],
    ['30.5 minutes', START - 30 * MINUTE, 3],
    ['79.5 minutes', START - 79 * MINUTE, 4],
    ['2 hours', NOW - 120 * MINUTE, 5],
    ['5 hours', NOW - 300 * MINUTE, 6],
    ['10 hours', NOW - 600 * MINUTE, 7],
    ['just under 1280 minutes', NOW - 1280 * MINUTE + 1, 8],
    ['exactly 1280 minutes: older than the last bound', NOW - 1280 * MINUTE, 9],
    ['5 days', NOW - 5 * 24 * 60 * MINUTE, 9],
  ])('%s (minute %i) → bucket %i', (_name, minute, bucket) => {
    const shape = queueShape([{ domain: 'one.test', minute, recipients: 3 }], NOW);
    expect(shape.rows).toEqual([{ domain: 'one.test', total: 3, counts: counts({ [bucket]: 3 }) }]);
    expect(shape.total).toEqual({ total: 3, counts: counts({ [bucket]: 3 }) });
  });

  it('sums cells per domain and bucket; rows by total, most first, then by domain', () => {
    const shape = queueShape(
      [
        cell('b.test', 0, 2),
        cell('a.test', 1, 1),
        cell('a.test', 2, 1), // same bucket as the cell before
        cell('c.test', 15, 4),
        cell('a.test', 2000, 1),
        cell('b.test', 7, 1),
        cell('d.test', 0, 0), // nothing waiting: no row
      ],
      NOW,
    );
    expect(shape.rows).toEqual([
      { domain: 'c.test', total: 4, counts: counts({ 2: 4 }) },
      { domain: 'a.test', total: 3, counts: counts({ 0: 2, 9: 1 }) },
      { domain: 'b.test', total: 3, counts: counts({ 0: 2, 1: 1 }) },
    ]);
    expect(shape.total).toEqual({ total: 10, counts: counts({ 0: 4, 1: 1, 2: 4, 9: 1 }) });
  });

  it('takes other buckets; counts always has one more column than buckets', () => {
    const shape = queueShape([cell('x.test', 0), cell('x.test', 1), cell('x.test', 60)], NOW, [1, 60]);
    expect(shape.buckets).toEqual([1, 60]);
    expect(shape.rows).toEqual([{ domain: 'x.test', total: 3, counts: [1, 1, 1] }]);
    expect(queueShape([cell('x.test', 3)], NOW, []).rows).toEqual([{ domain: 'x.test', total: 1, counts: [1] }]);
  });

  it.each([[[5, 5]], [[10, 5]], [[0, 5]], [[-1]], [[Number.NaN]]])('refuses buckets %j', (buckets) => {
    expect(() => queueShape([], NOW, buckets)).toThrow(RangeError);
    expect(() => queueShape([], NOW, buckets)).toThrow(
      `queueShape: buckets must be positive and increasing, got [${buckets.join(', ')}]`,
    );
  });

  it('orders rows of equal totals by domain, whatever order they arrive in', () => {
    const shape = queueShape(
      ['e.test', 'd.test', 'c.test', 'b.test', 'a.test', 'f.test'].map((d) => cell(d, 0)),
      NOW,
    );
    expect(shape.rows.map((r) => r.domain)).toEqual(['a.test', 'b.test', 'c.test', 'd.test', 'e.test', 'f.test']);
  });
});
