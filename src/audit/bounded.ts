import { Observable, of, type MonoTypeOperatorFunction } from 'rxjs';
import { createRing } from './ring.js';

/**
 * Decouples a fast producer from a consumer that may stall.
 *
 * Values pass straight through while the consumer is ready. When `ready$` says
 * it is not (a socket whose `write()` returned false), values wait in a ring of
 * `capacity`; once the ring is full each new value pushes out the oldest one and
 * `onDrop(1)` is called. When `ready$` turns true again the ring drains in
 * order, stopping as soon as the consumer reports not-ready again (the check is
 * made before every value, so a synchronous `write()` → `ready$.next(false)`
 * inside `next` is honoured).
 *
 * The producer never waits: `next` is O(1) and memory is bounded by `capacity`.
 * A source completion is delivered after the ring has drained; a source error
 * is delivered at once (buffered values are discarded).
 */
export function dropOldest<T>(
  capacity: number,
  onDrop: (count: number) => void,
  ready$: Observable<boolean> = of(true),
): MonoTypeOperatorFunction<T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      const ring = createRing<T>(Math.max(0, Math.floor(capacity)));
      let ready = true;
      let sourceDone = false;
      let draining = false;

      const drain = (): void => {
        if (draining) return;
        draining = true;
        try {
          while (ready && ring.size > 0 && !subscriber.closed) subscriber.next(ring.shift() as T);
          if (sourceDone && ring.size === 0) subscriber.complete();
        } finally {
          draining = false;
        }
      };

      subscriber.add(
        ready$.subscribe({
          next: (value) => {
            ready = value;
            if (ready) drain();
          },
          error: (err: unknown) => subscriber.error(err),
        }),
      );

      subscriber.add(
        source.subscribe({
          next: (value) => {
            if (ready && ring.size === 0 && !draining) {
              subscriber.next(value);
              return;
            }
            if (ring.push(value)) onDrop(1);
            drain();
          },
          error: (err: unknown) => subscriber.error(err),
          complete: () => {
            sourceDone = true;
            drain();
          },
        }),
      );

      return () => ring.clear();
    });
}
