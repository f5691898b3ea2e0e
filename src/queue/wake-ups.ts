import { EMPTY, interval, map, merge, of, switchMap, timer } from 'rxjs';
import type { Observable } from 'rxjs';

export type WakeReason = 'start' | 'wake' | 'due' | 'tick';

export interface WakeUpSources {
  /** New mail, released claims, retry-now, freed capacity: claim at once. */
  readonly wake$: Observable<unknown>;
  /** The spool's next due time after each claim (`undefined`: nothing waits). The latest one wins. */
  readonly due$: Observable<number | undefined>;
  /** Safety tick: also picks up claims whose lease ran out (a dead daemon's). */
  readonly tickMs: number;
  readonly now: () => number;
}

/**
 * When the queue manager looks for due recipients: once at start (the spool
 * was rebuilt from disk), on every wake, when the next deferred recipient
 * falls due, and on a periodic safety tick. The spool is the only memory of
 * deferrals: a restart re-derives the timer from `nextDueAt`.
 */
export function wakeUps(sources: WakeUpSources): Observable<WakeReason> {
  // 'start' comes last so the other sources are subscribed when a synchronous
  // first claim already reports a due time.
  return merge(
    sources.wake$.pipe(map((): WakeReason => 'wake')),
    sources.due$.pipe(
      switchMap((at) =>
        at === undefined ? EMPTY : timer(Math.max(0, at - sources.now())).pipe(map((): WakeReason => 'due')),
      ),
    ),
    interval(sources.tickMs).pipe(map((): WakeReason => 'tick')),
    of<WakeReason>('start'),
  );
}
