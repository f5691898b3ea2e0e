/**
 * The delivery dispatcher: an operator from jobs to results that runs each
 * job when its destination lets it (destination-state.ts) and at most
 * `total` at once (SMTP_QUEUE_WORKERS).
 *
 * - Jobs wait in one FIFO queue per destination key; freed capacity goes to
 *   the destinations in turn, so a busy one never blocks the others.
 * - Every result is fed back (`feedback`): answered attempts widen the
 *   destination's window, failed ones narrow it and, a cohort in a row, mark
 *   it dead. A dead destination's waiting jobs (and new ones) are not run but
 *   `skip`ped with the reason, until it comes back.
 * - On `shed$` (the active window is full while more mail is due), every
 *   destination whose waiting jobs would take more than `maxWaitMs` at its
 *   measured throughput (or its rate limit) keeps what it can do in half
 *   that time and hands the rest to `skip` as busy, each with a time to come
 *   back spread at that throughput: a slow destination cannot hold the
 *   window, however much mail it has.
 * - Rate limits and dead periods wake the dispatcher with a timer on
 *   `scheduler` (virtual time in marble tests).
 * - `stop$` drops the jobs not started (`dropped` is told) and lets running
 *   ones finish; the output completes when the source has completed and
 *   nothing runs or waits.
 */
import { Observable, asyncScheduler, from } from 'rxjs';
import type { ObservableInput, OperatorFunction, SchedulerLike, Subscription } from 'rxjs';
import { canStart, finished, initialState, intervalOf, isDead, isIdle, startableAt, started } from './destination-state.js';
import type { DestinationLimits, DestinationState, Feedback } from './destination-state.js';

/** Why a job was not run. */
export type Skip = { readonly kind: 'dead'; readonly until: number; readonly reason: string } | { readonly kind: 'busy'; readonly until: number };

export interface DispatchOptions<J, R> {
  readonly key: (job: J) => string;
  readonly run: (job: J) => ObservableInput<R>;
  readonly skip: (job: J, why: Skip) => ObservableInput<R>;
  readonly feedback: (result: R) => Feedback;
  readonly limits: DestinationLimits & {
    /** Attempts at once over all destinations. */
    readonly total: number;
    /** Most waiting work one destination may hold, at its pace. */
    readonly maxWaitMs: number;
    /** Rate limit of a destination, if any. */
    readonly rateOf?: (key: string) => { readonly count: number; readonly perMs: number } | undefined;
  };
  readonly stop$?: Observable<unknown>;
  /** The window is full and mail is waiting outside it: shed what slow destinations cannot do soon. */
  readonly shed$?: Observable<unknown>;
  /** A job dropped at stop without being run or skipped. */
  readonly dropped?: (job: J) => void;
  /** A destination was marked dead (or came back). */
  readonly onDead?: (key: string, until: number, reason: string) => void;
  readonly scheduler?: SchedulerLike;
}

interface Destination<J> {
  readonly key: string;
  state: DestinationState;
  readonly queue: J[];
  /** Index of the first waiting job in `queue` (shifting arrays is O(n)). */
  head: number;
  /** Throughput: mean time between finished attempts (ms, moving average), once `finishedCount` says it means something. */
  gap: number;
  lastFinished: number;
  finishedCount: number;
}

/** Finished attempts before a destination's throughput is trusted for shedding. */
const MEASURED = 20;

/** Keeps the states of this many idle destinations at most (their windows are learnt again). */
const IDLE_KEPT = 10_000;

export function dispatch<J, R>(options: DispatchOptions<J, R>): OperatorFunction<J, R> {
  const { limits } = options;
  const scheduler = options.scheduler ?? asyncScheduler;
  return (source) =>
    new Observable<R>((subscriber) => {
      /** Destinations by key: those with jobs waiting, running, or a state worth keeping. */
      const destinations = new Map<string, Destination<J>>();
      /** Keys with jobs waiting, in the order they get their turn. */
      const ready = new Set<string>();
      let active = 0;
      let skipping = 0;
      let sourceDone = false;
      let stopped = false;
      let timer: Subscription | undefined;
      let timerAt = Infinity;

      const now = (): number => scheduler.now();
      const waiting = (d: Destination<J>): number => d.queue.length - d.head;

      const destinationOf = (key: string): Destination<J> => {
        let d = destinations.get(key);
        if (!d) {
          d = { key, state: initialState(limits), queue: [], head: 0, gap: 0, lastFinished: 0, finishedCount: 0 };
          destinations.set(key, d);
        }
        return d;
      };

      /** Runs `work` as an inner subscription, its values passed on (and to `seen`); `done` runs once it completed. */
      const subscribeInner = (work: ObservableInput<R>, done: () => void, seen?: (r: R) => void): void => {
        let completed = false;
        const inner = from(work).subscribe({
          next: (r) => {
            seen?.(r);
            subscriber.next(r);
          },
          error: (err: unknown) => subscriber.error(err),
          complete: () => {
            completed = true;
          },
        });
        // like mergeMap: the slot frees once the inner is torn down (its finalize ran)
        inner.add(() => {
          if (completed) done();
        });
        subscriber.add(inner);
      };

      /** A job that is not run: its destination is dead or too busy. */
      const skipJob = (job: J, why: Skip): void => {
        skipping += 1;
        subscribeInner(options.skip(job, why), () => {
          skipping -= 1;
          checkComplete();
        });
      };

      /** Takes every waiting job out of a destination's queue. */
      const takeWaiting = (d: Destination<J>): J[] => {
        const jobs = d.queue.slice(d.head);
        d.queue.length = 0;
        d.head = 0;
        ready.delete(d.key);
        return jobs;
      };

      const skipWaiting = (d: Destination<J>): void => {
        const why: Skip = { kind: 'dead', until: d.state.deadUntil, reason: d.state.reason };
        for (const job of takeWaiting(d)) skipJob(job, why);
      };

      /** A new job: waits its turn, or is skipped when its destination is dead or has too many waiting. */
      const outerNext = (job: J): void => {
        if (stopped) {
          options.dropped?.(job);
          return;
        }
        const key = options.key(job);
        const d = destinationOf(key);
        const at = now();
        if (isDead(d.state, at)) return skipJob(job, { kind: 'dead', until: d.state.deadUntil, reason: d.state.reason });
        d.queue.push(job);
        ready.add(key);
        drain();
      };

      /** Time per job at a destination's measured throughput or its rate limit (0 while unknown). */
      const perJobOf = (d: Destination<J>): number => {
        const spacing = intervalOf(limits.rateOf?.(d.key));
        return Math.max(spacing, d.finishedCount >= MEASURED ? d.gap : 0);
      };

      /** Sheds the waiting work of destinations that would take more than `maxWaitMs` to do it. */
      const shed = (): void => {
        const at = now();
        for (const key of [...ready]) {
          const d = destinations.get(key);
          const perJob = d ? perJobOf(d) : 0;
          if (!d || perJob === 0 || waiting(d) * perJob <= limits.maxWaitMs) continue;
          const keep = Math.max(1, Math.floor(limits.maxWaitMs / 2 / perJob));
          const extra = d.queue.splice(d.head + keep);
          extra.forEach((job, i) => {
            const until = at + Math.min(3_600_000, Math.max(1_000, Math.round((keep + i) * perJob)));
            skipJob(job, { kind: 'busy', until });
          });
        }
      };

      /** Starts what may start, destinations in turn; sets a timer for the earliest one held back by time. */
      const drain = (): void => {
        let progressed = true;
        while (progressed && active < limits.total && !subscriber.closed) {
          progressed = false;
          for (const key of [...ready]) {
            if (active >= limits.total) break;
            const d = destinations.get(key);
            if (!d) continue;
            const at = now();
            if (isDead(d.state, at)) {
              skipWaiting(d);
              continue;
            }
            if (!canStart(d.state, at)) continue;
            const job = d.queue[d.head] as J;
            d.head += 1;
            ready.delete(key);
            if (d.head === d.queue.length) {
              d.queue.length = 0;
              d.head = 0;
            } else {
              ready.add(key); // its turn is taken: to the back of the line
            }
            startJob(d, job);
            progressed = true;
          }
        }
        armTimer();
        checkComplete();
      };

      const startJob = (d: Destination<J>, job: J): void => {
        const at = now();
        d.state = started(d.state, at, intervalOf(limits.rateOf?.(d.key)));
        active += 1;
        let feedback: Feedback = { kind: 'none' };
        subscribeInner(
          options.run(job),
          () => jobDone(d, feedback),
          (r) => (feedback = options.feedback(r)),
        );
      };

      /** An attempt finished: its feedback moves the destination's state; freed capacity is handed on. */
      const jobDone = (d: Destination<J>, feedback: Feedback): void => {
        active -= 1;
        const at = now();
        if (d.finishedCount > 0) d.gap = d.finishedCount === 1 ? at - d.lastFinished : 0.9 * d.gap + 0.1 * (at - d.lastFinished);
        d.lastFinished = at;
        d.finishedCount += 1;
        const wasDead = isDead(d.state, at);
        d.state = finished(d.state, feedback, at, limits);
        if (!wasDead && isDead(d.state, at)) options.onDead?.(d.key, d.state.deadUntil, d.state.reason);
        if (waiting(d) === 0 && isIdle(d.state, limits, at) && destinations.size > IDLE_KEPT) destinations.delete(d.key);
        drain();
      };

      /** One timer for the earliest moment a waiting destination is held back to (rate limit or dead period). */
      const armTimer = (): void => {
        let earliest = Infinity;
        const at = now();
        for (const key of ready) {
          const d = destinations.get(key);
          const when = d ? startableAt(d.state, at) : undefined;
          if (when !== undefined && when < earliest) earliest = when;
        }
        if (earliest === Infinity || earliest >= timerAt) return;
        timer?.unsubscribe();
        timerAt = earliest;
        timer = scheduler.schedule(() => {
          timer?.unsubscribe(); // an action stays open after it ran: let go of it
          timer = undefined;
          timerAt = Infinity;
          drain();
        }, Math.max(0, earliest - at));
        subscriber.add(timer);
      };

      const checkComplete = (): void => {
        if (!sourceDone || active > 0 || skipping > 0 || ready.size > 0) return;
        timer?.unsubscribe();
        subscriber.complete();
      };

      /** Stop: jobs not started are dropped; running ones finish. */
      const stop = (): void => {
        if (stopped) return;
        stopped = true;
        for (const key of [...ready]) {
          const d = destinations.get(key);
          for (const job of d ? takeWaiting(d) : []) options.dropped?.(job);
        }
        ready.clear();
        sourceDone = true;
        checkComplete();
      };

      if (options.stop$) subscriber.add(options.stop$.subscribe({ next: stop, error: stop }));
      if (options.shed$) subscriber.add(options.shed$.subscribe({ next: shed, error: () => undefined }));
      subscriber.add(
        source.subscribe({
          next: outerNext,
          error: (err: unknown) => subscriber.error(err),
          complete: () => {
            sourceDone = true;
            drain();
          },
        }),
      );
    });
}
