/**
 * Config for `retry()` that waits between tries on `timer` (so `retry`
 * resubscribes: a `defer`red promise really runs again), with the wait
 * before each retry given by the caller (`delayMs(n)`, n from 1) and errors
 * for which retrying is pointless rethrown at once.
 *
 * In: a source that fails. Out: the same source, resubscribed after each
 * wait, until it succeeds, a retry is refused, or `count` retries are spent.
 *
 *     source$.pipe(retry(retryWithDelay({ count: 2, delayMs: (n) => 500 * 2 ** (n - 1) })))
 */
import { throwError, timer } from 'rxjs';
import type { Observable, RetryConfig, SchedulerLike } from 'rxjs';

export interface RetryWithDelayOptions {
  /** Retries after the first try (so at most `count + 1` subscriptions). */
  readonly count: number;
  /** Wait before retry `n` (1-based), ms. */
  readonly delayMs: (n: number) => number;
  /** Timer scheduler; the TestScheduler's virtual time in marble tests. */
  readonly scheduler?: SchedulerLike;
  /** Errors for which retrying is pointless (e.g. a 5xx) rethrow at once. Default: all retryable. */
  readonly isRetryable?: (err: unknown) => boolean;
}

export function retryWithDelay(opts: RetryWithDelayOptions): RetryConfig {
  const retryable = opts.isRetryable ?? (() => true);
  return {
    count: opts.count,
    delay: (err: unknown, n: number): Observable<unknown> =>
      retryable(err) ? timer(opts.delayMs(n), opts.scheduler) : throwError(() => err),
  };
}
