/**
 * The soak bar of issue 12, computed from the soak's samples: everything
 * accepted delivered within 90 s of the load ending; RSS and V8 heap flat
 * (the last quarter's peak at most 1.3 × the second quarter's peak); open
 * file descriptors flat (the last quarter's peak at most the second
 * quarter's peak + 10). Quarters are of the load period only (drain
 * samples are not in them); the end-of-load sample belongs to the last,
 * the t = 0 sample before the load to the first.
 */
import { round } from './sample.js';

export interface SoakPoint {
  /** Seconds since the soak started (the t = 0 sample precedes the load). */
  readonly t: number;
  readonly phase: 'load' | 'drain';
  readonly accepted: number;
  readonly delivered: number;
  readonly rssMiB: number;
  readonly heapUsedMiB: number;
  readonly fds: number;
  readonly queueDepth: number;
}

export interface SoakCheck {
  /** undefined: not enough samples to say. */
  readonly pass: boolean | undefined;
  readonly detail: string;
  readonly q2Peak?: number;
  readonly q4Peak?: number;
}

/** One quarter of the load: its samples' count and range per series. */
export interface SoakQuarter {
  readonly quarter: number;
  readonly samples: number;
  readonly rssMiB: readonly [min: number, max: number];
  readonly heapUsedMiB: readonly [min: number, max: number];
  readonly fds: readonly [min: number, max: number];
}

export interface SoakVerdict {
  readonly quarters: readonly SoakQuarter[];
  readonly drained: SoakCheck;
  readonly rss: SoakCheck;
  readonly heap: SoakCheck;
  readonly fds: SoakCheck;
}

export const DRAIN_BAR_SECONDS = 90;
export const GROWTH_BAR = 1.3;
export const FD_SLACK = 10;

type Series = 'rssMiB' | 'heapUsedMiB' | 'fds';

/** The load samples with `from < t <= to`. */
function within(samples: readonly SoakPoint[], from: number, to: number): SoakPoint[] {
  return samples.filter((s) => s.phase === 'load' && s.t > from && s.t <= to);
}

function range(points: readonly SoakPoint[], key: Series): [number, number] {
  const values = points.map((s) => s[key]).filter(Number.isFinite);
  return values.length > 0 ? [round(Math.min(...values)), round(Math.max(...values))] : [Number.NaN, Number.NaN];
}

/** Peak of `key` over the load samples with `from < t <= to` (NaN when there are none). */
function peak(samples: readonly SoakPoint[], key: Series, from: number, to: number): number {
  return range(within(samples, from, to), key)[1];
}

/**
 * Quarter q (1..4) of the load spans ((q-1)/4, q/4] of it; the last takes everything after 3/4 (the end-of-load
 * sample).
 */
function quarters(samples: readonly SoakPoint[], loadSeconds: number): SoakQuarter[] {
  return [1, 2, 3, 4].map((q) => {
    const points = within(
      samples,
      q === 1 ? Number.NEGATIVE_INFINITY : ((q - 1) * loadSeconds) / 4,
      q === 4 ? Number.POSITIVE_INFINITY : (q * loadSeconds) / 4,
    );
    return {
      quarter: q,
      samples: points.length,
      rssMiB: range(points, 'rssMiB'),
      heapUsedMiB: range(points, 'heapUsedMiB'),
      fds: range(points, 'fds'),
    };
  });
}

function flat(
  samples: readonly SoakPoint[],
  key: Series,
  loadSeconds: number,
  limit: (q2: number) => number,
  unit: string,
  bar: string,
): SoakCheck {
  const q2 = peak(samples, key, loadSeconds / 4, loadSeconds / 2);
  const q4 = peak(samples, key, (3 * loadSeconds) / 4, Number.POSITIVE_INFINITY);
  if (!Number.isFinite(q2) || !Number.isFinite(q4))
    return {
      pass: undefined,
      detail: `not enough samples under load (second quarter's peak ${round(q2)}, last quarter's ${round(q4)})`,
    };
  const max = limit(q2);
  const pass = q4 <= max;
  return {
    pass,
    q2Peak: round(q2),
    q4Peak: round(q4),
    detail: `last quarter's peak ${round(q4)}${unit} vs second quarter's ${round(q2)}${unit} (${bar}: at most ${round(max)}${unit}; ratio ${round(q4 / q2, 2)})`,
  };
}

export function soakVerdict(
  samples: readonly SoakPoint[],
  run: { loadSeconds: number; accepted: number; drainSeconds: number | undefined },
): SoakVerdict {
  const last = samples[samples.length - 1];
  const drained: SoakCheck =
    run.drainSeconds === undefined
      ? {
          pass: false,
          detail: `not drained: ${last?.delivered ?? 0} of ${run.accepted} accepted delivered when sampling stopped`,
        }
      : {
          pass: run.drainSeconds <= DRAIN_BAR_SECONDS,
          detail: `all ${run.accepted} accepted delivered ${round(run.drainSeconds)} s after the load ended (bar ${DRAIN_BAR_SECONDS} s)`,
        };
  return {
    quarters: quarters(samples, run.loadSeconds),
    drained,
    rss: flat(samples, 'rssMiB', run.loadSeconds, (q2) => q2 * GROWTH_BAR, ' MiB', `${GROWTH_BAR}×`),
    heap: flat(samples, 'heapUsedMiB', run.loadSeconds, (q2) => q2 * GROWTH_BAR, ' MiB', `${GROWTH_BAR}×`),
    fds: flat(samples, 'fds', run.loadSeconds, (q2) => q2 + FD_SLACK, '', `+${FD_SLACK}`),
  };
}

export function verdictWord(check: SoakCheck): string {
  return check.pass === undefined ? 'n/a' : check.pass ? 'PASS' : 'FAIL';
}
