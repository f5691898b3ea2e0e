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
import { Observable, asyncScheduler, defer } from 'rxjs';
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
  /** A destination was marked dead (its hosts all failed a cohort of attempts in a row). */
  readonly onDead?: (key: string, until: number, reason: string) => void;
  readonly scheduler?: SchedulerLike;
}

interface Destination<J> {
  readonly key: string;
  state: DestinationState;
  readonly queue: J[];
  /** Index of the first waiting job in `queue` (shifting arrays is O(n)). */
  head: number;
  /** Throughput: mean time between finished attempts while it had work (ms, moving average), once `finishedCount` says it means something. */
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
      /** Keys with jobs waiting. */
      const waitingKeys = new Set<string>();
      /**
       * Keys with jobs waiting that may start now, in the order they get their
       * turn. A destination whose window is full leaves it until one of its
       * attempts finishes; one held back by time (rate limit, dead period) goes
       * to `held`. So a start or a finish costs the same with ten or ten
       * thousand destinations waiting.
       */
      const turn = new Set<string>();
      /** Destinations held back until a time, as a min-heap (`heldAt` has the live entry of each key). */
      const held: { at: number; key: string }[] = [];
      const heldAt = new Map<string, number>();
      let active = 0;
      let skipping = 0;
      let sourceDone = false;
      let stopped = false;
      let draining = false;
      let drainAgain = false;
      let timer: Subscription | undefined;
      let timerAt = Infinity;

      const now = (): number => scheduler.now();
      const waiting = (d: Destination<J>): number => d.queue.length - d.head;

      /** Above this many destinations, a new one first sweeps out the inactive (see `forgetInactive`). */
      let forgetAbove = IDLE_KEPT;

      /**
       * Forgets destinations with nothing running or waiting and nothing left to enforce (not dead, no rate
       * slot ahead): the idle ones are dropped as they finish, but one left with a narrowed window or a
       * failure count would otherwise stay forever, one per destination ever seen. The next sweep waits
       * until the map has doubled, so its cost is amortised over the destinations made.
       */
      const forgetInactive = (at: number): void => {
        for (const [key, d] of destinations) {
          if (d.state.running === 0 && waiting(d) === 0 && !isDead(d.state, at) && d.state.nextStartAt <= at) destinations.delete(key);
        }
        forgetAbove = Math.max(IDLE_KEPT, 2 * destinations.size);
      };

      const destinationOf = (key: string): Destination<J> => {
        let d = destinations.get(key);
        if (!d) {
          if (destinations.size >= forgetAbove) forgetInactive(now());
          d = { key, state: initialState(limits), queue: [], head: 0, gap: 0, lastFinished: 0, finishedCount: 0 };
          destinations.set(key, d);
        }
        return d;
      };

      /** Runs `work()` as an inner subscription, its values passed on (and to `seen`); `done` runs once it completed. */
      const subscribeInner = (work: () => ObservableInput<R>, done: () => void, seen?: (r: R) => void): void => {
        let completed = false;
        // deferred: a `run` or `skip` that throws errors the output (as in mergeMap) instead of escaping as an unhandled error
        const inner = defer(work).subscribe({
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
        subscribeInner(() => options.skip(job, why), () => {
          skipping -= 1;
          checkComplete();
        });
      };

      /** Takes every waiting job out of a destination's queue. */
      const takeWaiting = (d: Destination<J>): J[] => {
        const jobs = d.queue.slice(d.head);
        d.queue.length = 0;
        d.head = 0;
        waitingKeys.delete(d.key);
        turn.delete(d.key);
        return jobs;
      };

      /**
       * Puts a destination with waiting jobs where it belongs: its turn when
       * it may start now, `held` when a time holds it back, nowhere while its
       * window is full (its next finished attempt looks again). A dead one's
       * jobs are skipped.
       */
      const place = (d: Destination<J>, at: number): void => {
        if (waiting(d) === 0) {
          waitingKeys.delete(d.key);
          turn.delete(d.key);
          return;
        }
        if (isDead(d.state, at)) return skipWaiting(d);
        if (canStart(d.state, at)) {
          turn.add(d.key);
          return;
        }
        turn.delete(d.key);
        const when = startableAt(d.state, at);
        if (when !== undefined && (heldAt.get(d.key) ?? Infinity) > when) hold(d.key, when);
      };

      const hold = (key: string, at: number): void => {
        heldAt.set(key, at);
        held.push({ at, key });
        for (let i = held.length - 1; i > 0; ) {
          const parent = (i - 1) >> 1;
          if ((held[parent]?.at ?? 0) <= at) break;
          [held[i], held[parent]] = [held[parent] as { at: number; key: string }, held[i] as { at: number; key: string }];
          i = parent;
        }
      };

      const popHeld = (): { at: number; key: string } | undefined => {
        const top = held[0];
        const last = held.pop();
        if (top === undefined || last === undefined || held.length === 0) return top;
        held[0] = last;
        for (let i = 0; ; ) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          if ((held[l]?.at ?? Infinity) < (held[m]?.at ?? Infinity)) m = l;
          if ((held[r]?.at ?? Infinity) < (held[m]?.at ?? Infinity)) m = r;
          if (m === i) break;
          [held[i], held[m]] = [held[m] as { at: number; key: string }, held[i] as { at: number; key: string }];
          i = m;
        }
        return top;
      };

      /** Destinations whose hold has passed get their turn back (stale entries are dropped). */
      const releaseHeld = (at: number): void => {
        while (held.length > 0 && (held[0]?.at ?? Infinity) <= at) {
          const entry = popHeld();
          if (!entry || heldAt.get(entry.key) !== entry.at) continue;
          heldAt.delete(entry.key);
          const d = destinations.get(entry.key);
          if (d) place(d, at);
        }
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
        waitingKeys.add(key);
        if (waiting(d) === 1) place(d, at);
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
        for (const key of [...waitingKeys]) {
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

      /**
       * Starts what may start, destinations in turn, and sets a timer for the
       * earliest one held back by time. Not re-entered: an attempt that
       * completes at once asks for another round instead.
       */
      const drain = (): void => {
        if (draining) {
          drainAgain = true;
          return;
        }
        draining = true;
        try {
          do {
            drainAgain = false;
            releaseHeld(now());
            while (active < limits.total && !subscriber.closed) {
              const key = turn.values().next().value;
              if (key === undefined) break;
              const d = destinations.get(key);
              turn.delete(key);
              if (!d || waiting(d) === 0) continue;
              const at = now();
              if (!canStart(d.state, at)) {
                place(d, at);
                continue;
              }
              const job = d.queue[d.head] as J;
              d.head += 1;
              if (d.head === d.queue.length) {
                d.queue.length = 0;
                d.head = 0;
              } else if (d.head * 2 >= d.queue.length) {
                // let go of started jobs once they are half the array (amortised O(1)): a destination that always has
                // a backlog would otherwise keep every job it ever ran
                d.queue.splice(0, d.head);
                d.head = 0;
              }
              startJob(d, job);
              place(d, now()); // to the back of the line, or held
            }
          } while (drainAgain && !subscriber.closed);
        } finally {
          draining = false;
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
          () => options.run(job),
          () => jobDone(d, feedback, at),
          (r) => (feedback = options.feedback(r)),
        );
      };

      /** An attempt finished: its feedback moves the destination's state; freed capacity is handed on. */
      const jobDone = (d: Destination<J>, feedback: Feedback, startedAt: number): void => {
        active -= 1;
        const at = now();
        // the time since the last finish, counted from this attempt's start if it started later: an idle spell
        // between sparse jobs is not slowness (it would get a fast destination shed)
        const gap = at - Math.max(d.lastFinished, startedAt);
        if (d.finishedCount > 0) d.gap = d.finishedCount === 1 ? gap : 0.9 * d.gap + 0.1 * gap;
        d.lastFinished = at;
        d.finishedCount += 1;
        const wasDead = isDead(d.state, at);
        d.state = finished(d.state, feedback, at, limits);
        if (!wasDead && isDead(d.state, at)) options.onDead?.(d.key, d.state.deadUntil, d.state.reason);
        if (waiting(d) === 0 && isIdle(d.state, limits, at) && destinations.size > IDLE_KEPT) destinations.delete(d.key);
        else place(d, at);
        drain();
      };

      /** One timer for the earliest moment a held destination may start (rate limit or dead period). */
      const armTimer = (): void => {
        while (held.length > 0 && heldAt.get(held[0]?.key ?? '') !== held[0]?.at) popHeld(); // stale entries
        const earliest = held[0]?.at ?? Infinity;
        const at = now();
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
        if (!sourceDone || active > 0 || skipping > 0 || waitingKeys.size > 0) return;
        timer?.unsubscribe();
        subscriber.complete();
      };

      /** Stop: jobs not started are dropped; running ones finish. */
      const stop = (): void => {
        if (stopped) return;
        stopped = true;
        for (const key of [...waitingKeys]) {
          const d = destinations.get(key);
          for (const job of d ? takeWaiting(d) : []) options.dropped?.(job);
        }
        waitingKeys.clear();
        turn.clear();
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
