import { Observable, from } from 'rxjs';
import type { ObservableInput, OperatorFunction } from 'rxjs';

/**
 * `mergeMap` with two caps: at most `limit` inner subscriptions at once, and at
 * most `perKeyLimit` of them per key (the delivery workers and the per-domain
 * cap, §4). A small custom operator rather than groupBy + nested mergeMap + a
 * semaphore: groups would live forever and a semaphore needs the same state.
 *
 * Waiting items sit in one FIFO queue per key. When a slot frees, the oldest
 * waiting item whose key is below `perKeyLimit` starts: a saturated key never
 * blocks other keys, and otherwise arrival order wins. Completes when the
 * source has completed and nothing runs or waits. An error from `key`,
 * `project` or an inner errors the output (delivery turns errors into values).
 */
export function mergeMapPerKey<T, R>(
  key: (t: T) => string,
  project: (t: T) => ObservableInput<R>,
  limit: number,
  perKeyLimit: number,
): OperatorFunction<T, R> {
  if (!(limit >= 1) || !(perKeyLimit >= 1)) throw new RangeError('mergeMapPerKey: limits must be >= 1');
  return (source) =>
    new Observable<R>((subscriber) => {
      const waiting = new Map<string, { readonly value: T; readonly seq: number }[]>();
      const running = new Map<string, number>();
      let active = 0;
      let seq = 0;
      let sourceDone = false;

      const nextKey = (): string | undefined => {
        let [best, bestSeq]: [string | undefined, number] = [undefined, Infinity];
        for (const [k, queue] of waiting) {
          const head = queue[0];
          if (head && head.seq < bestSeq && (running.get(k) ?? 0) < perKeyLimit) [best, bestSeq] = [k, head.seq];
        }
        return best;
      };
      const count = (k: string, delta: number): void => {
        active += delta;
        const n = (running.get(k) ?? 0) + delta;
        if (n > 0) running.set(k, n);
        else running.delete(k);
      };
      const drain = (): void => {
        while (!subscriber.closed && active < limit) {
          const k = nextKey();
          const queue = k === undefined ? undefined : waiting.get(k);
          const item = queue?.shift();
          if (k === undefined || !queue || !item) break;
          if (queue.length === 0) waiting.delete(k);
          count(k, +1);
          try {
            let completed = false;
            const inner = from(project(item.value)).subscribe({
              next: (r) => subscriber.next(r),
              error: (err: unknown) => subscriber.error(err),
              complete: () => {
                completed = true;
              },
            });
            // Like mergeMap: the slot frees once the inner is torn down (its finalize ran).
            inner.add(() => {
              if (!completed) return;
              count(k, -1);
              drain();
            });
            subscriber.add(inner);
          } catch (err) {
            subscriber.error(err);
          }
        }
        if (sourceDone && active === 0 && waiting.size === 0) subscriber.complete();
      };

      subscriber.add(
        source.subscribe({
          next: (value) => {
            try {
              const k = key(value);
              const queue = waiting.get(k) ?? [];
              queue.push({ value, seq: seq++ });
              waiting.set(k, queue);
            } catch (err) {
              return subscriber.error(err);
            }
            drain();
          },
          error: (err: unknown) => subscriber.error(err),
          complete: () => {
            sourceDone = true;
            drain();
          },
        }),
      );
    });
}
