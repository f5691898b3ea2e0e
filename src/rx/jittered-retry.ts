import { throwError, timer } from 'rxjs';
import type { Observable, RetryConfig, SchedulerLike } from 'rxjs';
import { jitteredBackoff } from '../policy/backoff.js';

export interface QuickRetryOptions {
  /** Retries after the first try (so at most `count + 1` subscriptions). */
  readonly count: number;
  /** Wait before retry 1; doubles per retry. */
  readonly baseMs: number;
  /** Cap of the doubled wait (before jitter). */
  readonly maxMs: number;
  /** Source of jitter in [0, 1); injected so schedules are reproducible. */
  readonly random: () => number;
  /** Timer scheduler; the TestScheduler's virtual time in marble tests. */
  readonly scheduler?: SchedulerLike;
  /** Errors for which retrying is pointless (e.g. a 5xx) rethrow at once. Default: all retryable. */
  readonly isRetryable?: (err: unknown) => boolean;
}

/** Wait before retry `n` (1-based): `min(base * 2^(n-1), max) * (1 + random() * 25 %)`, whole ms (the deferrals' formula, in ms). */
export function quickRetryDelayMs(n: number, opts: Pick<QuickRetryOptions, 'baseMs' | 'maxMs' | 'random'>): number {
  return Math.round(jitteredBackoff(n, opts.baseMs, opts.maxMs, opts.random));
}

/**
 * Config for `retry()` for quick in-attempt failures (next MX host, a dropped
 * connection): jittered exponential waits on `timer`, so `retry` resubscribes
 * (a `defer`red promise really runs again). Non-retryable errors rethrow
 * immediately. Long deferrals do not belong here: they go to the spool as
 * `nextAttemptAt` so they survive restarts.
 *
 *     source$.pipe(retry(quickRetry({ count: 2, baseMs: 500, maxMs: 5_000, random: Math.random })))
 */
export function quickRetry(opts: QuickRetryOptions): RetryConfig {
  const retryable = opts.isRetryable ?? (() => true);
  return {
    count: opts.count,
    delay: (err: unknown, n: number): Observable<unknown> =>
      retryable(err)
        ? timer(quickRetryDelayMs(n, opts), opts.scheduler)
        : throwError(() => err),
  };
}
