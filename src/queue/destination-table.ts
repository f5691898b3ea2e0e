/**
 * The dispatcher's destinations by key (dispatch.ts): those with jobs waiting
 * or running, and the states worth keeping (a narrowed window, a failure
 * count, a dead period, a rate slot ahead). In: keys and the clock. Out: the
 * `DestinationQueue` of a key, created when new.
 *
 * Bounded: an idle destination is dropped as it finishes once more than
 * `IDLE_KEPT` are known, and one left with a state worth nothing any more is
 * swept out when the table has doubled since the last sweep (so the sweep's
 * cost is amortised); their windows are learnt again.
 */
import { DestinationQueue } from './destination-queue.js';
import { isDead, isIdle } from './destination-state.js';
import type { DestinationLimits } from './destination-state.js';

/** Keeps the states of this many idle destinations at most (their windows are learnt again). */
const IDLE_KEPT = 10_000;

export class DestinationTable<J> {
  private readonly byKey = new Map<string, DestinationQueue<J>>();
  /** Above this many destinations, a new one first sweeps out the inactive (see `forgetInactive`). */
  private forgetAbove = IDLE_KEPT;

  constructor(private readonly limits: DestinationLimits) {}

  get(key: string): DestinationQueue<J> | undefined {
    return this.byKey.get(key);
  }

  /** The destination of `key`, created when new (after a sweep of the inactive when the table is large). */
  obtain(key: string, now: () => number): DestinationQueue<J> {
    let d = this.byKey.get(key);
    if (!d) {
      if (this.byKey.size >= this.forgetAbove) this.forgetInactive(now());
      d = new DestinationQueue<J>(key, this.limits);
      this.byKey.set(key, d);
    }
    return d;
  }

  /**
   * After an attempt: drops `d` when nothing waits, its state is idle and the table is over its bound. Returns whether
   * it did.
   */
  dropIfIdle(d: DestinationQueue<J>, at: number): boolean {
    if (d.waiting === 0 && isIdle(d.state, this.limits, at) && this.byKey.size > IDLE_KEPT)
      return this.byKey.delete(d.key);
    return false;
  }

  /**
   * Forgets destinations with nothing running or waiting and nothing left to
   * enforce (not dead, no rate slot ahead): the idle ones are dropped as they
   * finish, but one left with a narrowed window or a failure count would
   * otherwise stay forever, one per destination ever seen. The next sweep
   * waits until the map has doubled, so its cost is amortised.
   */
  private forgetInactive(at: number): void {
    for (const [key, d] of this.byKey) {
      if (d.state.running === 0 && d.waiting === 0 && !isDead(d.state, at) && d.state.nextStartAt <= at)
        this.byKey.delete(key);
    }
    this.forgetAbove = Math.max(IDLE_KEPT, 2 * this.byKey.size);
  }
}
