/**
 * The queue's shape, as Postfix's `qshape` shows it: waiting recipients per
 * destination domain, counted in age buckets. Pure: the spool supplies the
 * cells (`Spool.shape`), the caller the clock; nothing here reads the queue.
 */
import type { ShapeCell } from '../spool/spool.js';

/** qshape's default columns: upper bounds of the age buckets, in minutes. */
export const DEFAULT_SHAPE_BUCKETS: readonly number[] = [5, 10, 20, 40, 80, 160, 320, 640, 1280];

const MINUTE_MS = 60_000;

/** Waiting recipients in all, and per age bucket. */
export interface ShapeCounts {
  readonly total: number;
  /** `buckets.length + 1` counts; the last one is "older than the last bound". */
  readonly counts: readonly number[];
}

export interface ShapeRow extends ShapeCounts {
  readonly domain: string;
}

export interface QueueShape {
  /** Upper bounds of the age buckets in minutes, increasing. */
  readonly buckets: readonly number[];
  /** Every domain together. */
  readonly total: ShapeCounts;
  /** One row per destination domain, most recipients first, then by domain. */
  readonly rows: readonly ShapeRow[];
}

/** The bucket of an age in minutes: the first bound it is under, else the last column. */
function bucketOf(ageMinutes: number, buckets: readonly number[]): number {
  const i = buckets.findIndex((bound) => ageMinutes < bound);
  return i < 0 ? buckets.length : i;
}

/**
 * Counts `cells` into age buckets at time `now` (ms since the epoch). A
 * cell's age is `now` minus the start of its minute of arrival (a minute in
 * the future counts as age 0). Bucket i holds ages from `buckets[i-1]`
 * (or 0) up to, not including, `buckets[i]` minutes; the last column the
 * ages from the last bound on. Cells without recipients count for nothing.
 */
export function queueShape(
  cells: readonly ShapeCell[],
  now: number,
  buckets: readonly number[] = DEFAULT_SHAPE_BUCKETS,
): QueueShape {
  if (buckets.some((bound, i) => !(bound > (buckets[i - 1] ?? 0)))) {
    throw new RangeError(`queueShape: buckets must be positive and increasing, got [${buckets.join(', ')}]`);
  }
  const width = buckets.length + 1;
  const total = new Array<number>(width).fill(0);
  const byDomain = new Map<string, number[]>();
  for (const cell of cells) {
    if (!(cell.recipients > 0)) continue;
    const age = Math.max(0, now - cell.minute) / MINUTE_MS;
    const bucket = bucketOf(age, buckets);
    let counts = byDomain.get(cell.domain);
    if (!counts) {
      counts = new Array<number>(width).fill(0);
      byDomain.set(cell.domain, counts);
    }
    counts[bucket] = (counts[bucket] ?? 0) + cell.recipients;
    total[bucket] = (total[bucket] ?? 0) + cell.recipients;
  }
  const sum = (counts: readonly number[]): number => counts.reduce((a, b) => a + b, 0);
  const rows = [...byDomain]
    .map(([domain, counts]): ShapeRow => ({ domain, total: sum(counts), counts }))
    .sort((a, b) => b.total - a.total || (a.domain < b.domain ? -1 : a.domain > b.domain ? 1 : 0));
  return { buckets: [...buckets], total: { total: sum(total), counts: total }, rows };
}
