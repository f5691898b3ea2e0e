/**
 * The delivery dispatcher: an operator from jobs to results (its options and
 * `Skip`: dispatch-options.ts) that runs each job when its destination lets
 * it (destination-state.ts) and at most `total` at once (SMTP_QUEUE_WORKERS).
 *
 * - Jobs wait in one FIFO queue per destination key; freed capacity goes to
 *   the destinations in turn, so a busy one never blocks the others.
 * - Every result is fed back (`feedback`): answered attempts widen the
 *   destination's window, failed ones narrow it and, a cohort in a row, mark
 *   it dead. A dead destination's waiting jobs (and new ones) are not run but
 *   `skip`ped with the reason, until it comes back.
 * - On `shed$` (the active window is full while more mail is due), a
 *   destination whose waiting jobs would take over `maxWaitMs` at its
 *   throughput (or rate limit) keeps half that time's worth and hands the
 *   rest to `skip` as busy, spread at that throughput to come back later.
 * - Rate limits and dead periods wake the dispatcher with a timer on
 *   `scheduler` (virtual time in marble tests).
 * - `stop$` drops the jobs not started (told to `dropped`), lets running ones
 *   finish; the output completes once the source has and nothing runs or waits.
 */
import { Observable, asyncScheduler, defer } from 'rxjs';
import type { ObservableInput, OperatorFunction, SchedulerLike, Subscriber, Subscription } from 'rxjs';
import type { DestinationQueue } from './destination-queue.js';
import { canStart, finished, intervalOf, isDead, startableAt, started } from './destination-state.js';
import type { Feedback } from './destination-state.js';
import type { DispatchOptions, Skip } from './dispatch-options.js';
import { DestinationTable } from './destination-table.js';
import { TimeHeap } from './time-heap.js';

export type { DispatchOptions, Skip } from './dispatch-options.js';

export function dispatch<J, R>(options: DispatchOptions<J, R>): OperatorFunction<J, R> {
  return (source) =>
    new Observable<R>((subscriber) => {
      const dispatcher = new Dispatcher(options, subscriber);
      if (options.stop$)
        subscriber.add(options.stop$.subscribe({ next: () => dispatcher.stop(), error: () => dispatcher.stop() }));
      if (options.shed$)
        subscriber.add(options.shed$.subscribe({ next: () => dispatcher.shed(), error: () => undefined }));
      subscriber.add(
        source.subscribe({
          next: (job) => dispatcher.add(job),
          error: (err: unknown) => subscriber.error(err),
          complete: () => dispatcher.sourceComplete(),
        }),
      );
    });
}

/** One subscription's dispatching state and its steps. */
class Dispatcher<J, R> {
  /** Destinations by key (destination-table.ts): those with jobs waiting, running, or a state worth keeping. */
  private readonly destinations: DestinationTable<J>;
  private readonly waitingKeys = new Set<string>(); // keys with jobs waiting
  /**
   * Keys with jobs waiting that may start now, in turn order. A full window
   * leaves it until an attempt finishes; one held back by time goes to `held`.
   * A start or a finish costs the same with ten or 10,000 destinations waiting.
   */
  private readonly turn = new Set<string>();
  private readonly held = new TimeHeap();
  private readonly scheduler: SchedulerLike;
  private active = 0;
  private skipping = 0;
  private sourceDone = false;
  private stopped = false;
  private draining = false;
  private drainAgain = false;
  private timer: Subscription | undefined;
  private timerAt = Infinity;

  constructor(
    private readonly options: DispatchOptions<J, R>,
    private readonly subscriber: Subscriber<R>,
  ) {
    this.scheduler = options.scheduler ?? asyncScheduler;
    this.destinations = new DestinationTable<J>(options.limits);
  }

  /** A new job: waits its turn, or is skipped when its destination is dead. */
  add(job: J): void {
    if (this.stopped) {
      this.options.dropped?.(job);
      return;
    }
    const d = this.destinations.obtain(this.options.key(job), () => this.now());
    const at = this.now();
    if (isDead(d.state, at))
      return this.skipJob(job, { kind: 'dead', until: d.state.deadUntil, reason: d.state.reason });
    d.push(job);
    this.waitingKeys.add(d.key);
    if (d.waiting === 1) this.place(d, at);
    this.drain();
  }

  sourceComplete(): void {
    this.sourceDone = true;
    this.drain();
  }

  /** Stop: jobs not started are dropped; running ones finish. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const key of [...this.waitingKeys]) {
      const d = this.destinations.get(key);
      for (const job of d ? this.takeWaiting(d) : []) this.options.dropped?.(job);
    }
    this.waitingKeys.clear();
    this.turn.clear();
    this.sourceDone = true;
    this.checkComplete();
  }

  /** Sheds the waiting work of destinations that would take more than `maxWaitMs` to do it. */
  shed(): void {
    const at = this.now();
    const { maxWaitMs } = this.options.limits;
    for (const key of [...this.waitingKeys]) {
      const d = this.destinations.get(key);
      const perJob = d ? d.perJob(this.spacingOf(key)) : 0;
      if (!d || perJob === 0 || d.waiting * perJob <= maxWaitMs) continue;
      const keep = Math.max(1, Math.floor(maxWaitMs / 2 / perJob));
      d.takeBeyond(keep).forEach((job, i) => {
        const until = at + Math.min(3_600_000, Math.max(1_000, Math.round((keep + i) * perJob)));
        this.skipJob(job, { kind: 'busy', until });
      });
    }
  }

  /**
   * Starts what may start, destinations in turn, and sets a timer for the
   * earliest one held back by time. Not re-entered: an attempt that
   * completes at once asks for another round instead.
   */
  private drain(): void {
    if (this.draining) {
      this.drainAgain = true;
      return;
    }
    this.draining = true;
    try {
      do {
        this.drainAgain = false;
        const at = this.now();
        for (const key of this.held.due(at)) {
          const d = this.destinations.get(key);
          if (d) this.place(d, at);
        }
        this.startInTurn();
      } while (this.drainAgain && !this.subscriber.closed);
    } finally {
      this.draining = false;
    }
    this.armTimer();
    this.checkComplete();
  }

  /** One start per destination in turn, while capacity lasts. */
  private startInTurn(): void {
    while (this.active < this.options.limits.total && !this.subscriber.closed) {
      const key = this.turn.values().next().value;
      if (key === undefined) return;
      const d = this.destinations.get(key);
      this.turn.delete(key);
      if (!d || d.waiting === 0) continue;
      const at = this.now();
      if (!canStart(d.state, at)) {
        this.place(d, at);
        continue;
      }
      this.startJob(d, d.take());
      this.place(d, this.now()); // to the back of the line, or held
    }
  }

  private startJob(d: DestinationQueue<J>, job: J): void {
    const at = this.now();
    d.state = started(d.state, at, this.spacingOf(d.key));
    this.active += 1;
    let feedback: Feedback = { kind: 'none' };
    this.subscribeInner(
      () => this.options.run(job),
      () => this.jobDone(d, feedback, at),
      (r) => (feedback = this.options.feedback(r)),
    );
  }

  /** An attempt finished: its feedback moves the destination's state; freed capacity is handed on. */
  private jobDone(d: DestinationQueue<J>, feedback: Feedback, startedAt: number): void {
    this.active -= 1;
    const at = this.now();
    d.finished(at, startedAt);
    const wasDead = isDead(d.state, at);
    d.state = finished(d.state, feedback, at, this.options.limits);
    if (!wasDead && isDead(d.state, at)) this.options.onDead?.(d.key, d.state.deadUntil, d.state.reason);
    if (!this.destinations.dropIfIdle(d, at)) this.place(d, at);
    this.drain();
  }

  /**
   * Puts a destination with waiting jobs where it belongs: its turn when it
   * may start now, `held` when a time holds it back, nowhere while its window
   * is full (its next finished attempt looks again). A dead one's jobs are
   * skipped.
   */
  private place(d: DestinationQueue<J>, at: number): void {
    if (d.waiting === 0) {
      this.waitingKeys.delete(d.key);
      this.turn.delete(d.key);
      return;
    }
    if (isDead(d.state, at)) return this.skipWaiting(d);
    if (canStart(d.state, at)) {
      this.turn.add(d.key);
      return;
    }
    this.turn.delete(d.key);
    const when = startableAt(d.state, at);
    if (when !== undefined) this.held.hold(d.key, when);
  }

  /** A job that is not run: its destination is dead or too busy. */
  private skipJob(job: J, why: Skip): void {
    this.skipping += 1;
    this.subscribeInner(
      () => this.options.skip(job, why),
      () => {
        this.skipping -= 1;
        this.checkComplete();
      },
    );
  }

  private skipWaiting(d: DestinationQueue<J>): void {
    const why: Skip = { kind: 'dead', until: d.state.deadUntil, reason: d.state.reason };
    for (const job of this.takeWaiting(d)) this.skipJob(job, why);
  }

  /** Takes every waiting job out of a destination. */
  private takeWaiting(d: DestinationQueue<J>): J[] {
    this.waitingKeys.delete(d.key);
    this.turn.delete(d.key);
    return d.takeAll();
  }

  /** Runs `work()` as an inner subscription, its values passed on (and to `seen`); `done` runs once it completed. */
  private subscribeInner(work: () => ObservableInput<R>, done: () => void, seen?: (r: R) => void): void {
    let completed = false;
    // deferred: a `run` or `skip` that throws errors the output (as in mergeMap), not the process
    const inner = defer(work).subscribe({
      next: (r) => {
        seen?.(r);
        this.subscriber.next(r);
      },
      error: (err: unknown) => this.subscriber.error(err),
      complete: () => {
        completed = true;
      },
    });
    // like mergeMap: the slot frees once the inner is torn down (its finalize ran)
    inner.add(() => {
      if (completed) done();
    });
    this.subscriber.add(inner);
  }

  /** One timer for the earliest moment a held destination may start (rate limit or dead period). */
  private armTimer(): void {
    const earliest = this.held.next() ?? Infinity;
    const at = this.now();
    if (earliest === Infinity || earliest >= this.timerAt) return;
    this.timer?.unsubscribe();
    this.timerAt = earliest;
    this.timer = this.scheduler.schedule(
      () => {
        this.timer?.unsubscribe(); // an action stays open after it ran: let go of it
        this.timer = undefined;
        this.timerAt = Infinity;
        this.drain();
      },
      Math.max(0, earliest - at),
    );
    this.subscriber.add(this.timer);
  }

  private checkComplete(): void {
    if (!this.sourceDone || this.active > 0 || this.skipping > 0 || this.waitingKeys.size > 0) return;
    this.timer?.unsubscribe();
    this.subscriber.complete();
  }

  private now(): number {
    return this.scheduler.now();
  }

  private spacingOf(key: string): number {
    return intervalOf(this.options.limits.rateOf?.(key));
  }
}
