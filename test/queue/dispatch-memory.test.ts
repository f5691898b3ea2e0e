/**
 * The dispatcher's memory follows the work in flight, not its history:
 * started jobs are let go of while their destination still has a backlog,
 * and destinations with nothing to do are forgotten once there are many.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Subject, map, of, timer } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { dispatch } from '../../src/queue/dispatch.js';
import type { Feedback } from '../../src/queue/destination-state.js';

const LIMITS = { initial: 1, max: 1, deadMs: 1_000, total: 10, maxWaitMs: 60_000 };

/** A full garbage collection (node's `gc`, exposed for this process). */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

describe('dispatch memory', () => {
  it('lets go of started jobs while the destination keeps a backlog', async () => {
    const gc = collector();
    const source = new Subject<{ readonly n: number }>();
    const attempts: Subject<string>[] = [];
    const refs: WeakRef<object>[] = [];
    const sub = source
      .pipe(
        dispatch<{ readonly n: number }, string>({
          key: () => 'x',
          run: () => {
            const attempt = new Subject<string>();
            attempts.push(attempt);
            return attempt;
          },
          skip: () => of('skipped'),
          feedback: (): Feedback => ({ kind: 'answered' }),
          limits: LIMITS,
        }),
      )
      .subscribe();
    const push = (): void => {
      const job = { n: refs.length };
      refs.push(new WeakRef(job));
      source.next(job);
    };
    // one destination, one attempt at a time, 10 jobs waiting throughout: 1,000 attempts end, each replaced by a new
    // job
    for (let i = 0; i <= 10; i += 1) push();
    for (let i = 0; i < 1_000; i += 1) {
      attempts[i]?.complete();
      push();
    }
    attempts.length = 0;
    await tick();
    gc();
    await tick();
    // of the 1,000 finished jobs at most about the backlog's worth is still held (the queue compacts by halves), not
    // all
    const held = refs.slice(0, 1_000).filter((r) => r.deref() !== undefined).length;
    expect(held).toBeLessThanOrEqual(11);
    // the running and waiting ones are all there
    expect(refs.slice(1_000).every((r) => r.deref() !== undefined)).toBe(true);
    sub.unsubscribe();
  });

  it('forgets destinations with nothing running or waiting once more than 10,000 are known', () => {
    const ts = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    const starts: [string, number][] = [];
    ts.run(({ cold }) => {
      const jobs$ = new Subject<string>();
      let next = 0;
      const out$ = jobs$.pipe(
        dispatch<string, string>({
          key: (id) => id.split('/')[0] ?? '',
          run: (id) => {
            starts.push([id, ts.now()]);
            return timer(id.startsWith('x/') ? 10 : 1).pipe(map(() => id));
          },
          skip: (id) => of(id),
          // x answers, except its first attempt; every other destination fails once
          feedback: (id): Feedback =>
            id.startsWith('x/') && id !== 'x/0' ? { kind: 'answered' } : { kind: 'failed', reason: 'refused' },
          limits: { ...LIMITS, initial: 5, max: 5 },
          scheduler: ts,
        }),
      );
      // x fails once (window 5 → 4.8: four at once from then on); then 10,001 other destinations fail once
      // each (a narrowed window worth remembering while there is room); at 2 s x gets five jobs
      cold('a 9ms b 1989ms c').subscribe((step) => {
        if (step === 'a') jobs$.next('x/0');
        if (step === 'b') for (next = 0; next < 10; next += 1) jobs$.next(`d${next}/0`);
        if (step === 'c') for (let i = 1; i <= 5; i += 1) jobs$.next(`x/${i}`);
      });
      // each other destination's job is fed as one ends, ten at a time (the dispatcher's cost grows with the
      // destinations waiting at once)
      out$.subscribe((id) => {
        if (id.startsWith('d') && next <= 10_000) jobs$.next(`d${next++}/0`);
      });
    });
    // x was forgotten with the rest: a fresh window of 5, all five at 2 s
    expect(starts.filter(([id]) => id.startsWith('x/') && id !== 'x/0')).toEqual(
      [1, 2, 3, 4, 5].map((i) => [`x/${i}`, 2_000]),
    );
  });
});
