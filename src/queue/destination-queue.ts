/**
 * One destination inside the dispatcher: its policy state
 * (destination-state.ts), its FIFO of waiting jobs, and its measured pace.
 *
 * The queue is an array with a head index (shifting is O(n)); started jobs
 * are let go of once they are half the array, so a destination that always
 * has a backlog never keeps every job it ran. The pace is the moving average
 * of the time between finished attempts while it had work (an idle spell
 * between sparse jobs is not slowness).
 */
import { initialState } from './destination-state.js';
import type { DestinationLimits, DestinationState } from './destination-state.js';

/** Finished attempts before a destination's pace is trusted. */
const MEASURED = 20;

export class DestinationQueue<J> {
  state: DestinationState;
  private jobs: J[] = [];
  private head = 0;
  private gap = 0;
  private lastFinished = 0;
  private finishedCount = 0;

  constructor(
    readonly key: string,
    limits: DestinationLimits,
  ) {
    this.state = initialState(limits);
  }

  get waiting(): number {
    return this.jobs.length - this.head;
  }

  push(job: J): void {
    this.jobs.push(job);
  }

  /** The oldest waiting job (the caller checked `waiting`). */
  take(): J {
    const job = this.jobs[this.head] as J;
    this.head += 1;
    if (this.head === this.jobs.length) {
      this.jobs = [];
      this.head = 0;
    } else if (this.head * 2 >= this.jobs.length) {
      this.jobs.splice(0, this.head);
      this.head = 0;
    }
    return job;
  }

  /** Every waiting job, taken out. */
  takeAll(): J[] {
    const jobs = this.jobs.slice(this.head);
    this.jobs = [];
    this.head = 0;
    return jobs;
  }

  /** The waiting jobs after the first `keep`, taken out. */
  takeBeyond(keep: number): J[] {
    return this.jobs.splice(this.head + keep);
  }

  /** An attempt started at `startedAt` finished at `at`. */
  finished(at: number, startedAt: number): void {
    const gap = at - Math.max(this.lastFinished, startedAt);
    if (this.finishedCount > 0) this.gap = this.finishedCount === 1 ? gap : 0.9 * this.gap + 0.1 * gap;
    this.lastFinished = at;
    this.finishedCount += 1;
  }

  /** Time per job at the measured pace or `spacing` (a rate limit), whichever is longer; 0 while neither is known. */
  perJob(spacing: number): number {
    return Math.max(spacing, this.finishedCount >= MEASURED ? this.gap : 0);
  }
}
