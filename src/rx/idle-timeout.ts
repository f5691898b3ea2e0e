import { EMPTY, map, materialize, startWith, switchMap, take, throwError, timer } from 'rxjs';
import type { ObservableNotification, OperatorFunction, SchedulerLike } from 'rxjs';

/**
 * Emits once (`undefined`) and completes when `ms` pass without activity: the
 * clock starts at subscription and every value of the source restarts it
 * (the SMTP command timeout: feed it the session's commands). When the
 * activity stream completes first (the session ended) it completes without
 * emitting; a source error is passed on.
 */
export function closeAfterSilence(ms: number, scheduler?: SchedulerLike): OperatorFunction<unknown, void> {
  return (activity$) =>
    activity$.pipe(
      materialize(),
      startWith(undefined),
      switchMap((event: ObservableNotification<unknown> | undefined) => {
        if (event?.kind === 'E') return throwError(() => event.error as unknown);
        if (event?.kind === 'C') return EMPTY;
        return timer(ms, scheduler);
      }),
      take(1),
      map((): void => undefined),
    );
}
