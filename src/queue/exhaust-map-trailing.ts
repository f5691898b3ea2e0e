import { Observable, from } from 'rxjs';
import type { ObservableInput, OperatorFunction } from 'rxjs';

/**
 * Like `exhaustMap`, but a value that arrives while the inner is busy is not
 * lost: the latest one runs once the inner completes (several wakes during a
 * claim coalesce into one more claim). At most one inner at a time.
 * Completes when the source has completed and nothing runs or waits.
 */
export function exhaustMapTrailing<T, R>(project: (value: T) => ObservableInput<R>): OperatorFunction<T, R> {
  return (source) =>
    new Observable<R>((subscriber) => {
      let busy = false;
      let pending: { readonly value: T } | undefined;
      let sourceDone = false;

      const run = (value: T): void => {
        busy = true;
        let inner$: ObservableInput<R>;
        try {
          inner$ = project(value);
        } catch (err) {
          subscriber.error(err);
          return;
        }
        subscriber.add(
          from(inner$).subscribe({
            next: (r) => subscriber.next(r),
            error: (err: unknown) => subscriber.error(err),
            complete: () => {
              busy = false;
              const next = pending;
              pending = undefined;
              if (next) run(next.value);
              else if (sourceDone) subscriber.complete();
            },
          }),
        );
      };

      subscriber.add(
        source.subscribe({
          next: (value) => {
            if (busy) pending = { value };
            else run(value);
          },
          error: (err: unknown) => subscriber.error(err),
          complete: () => {
            sourceDone = true;
            if (!busy) subscriber.complete(); // a value only waits while an inner runs
          },
        }),
      );
    });
}
