/**
 * What the delivery dispatcher (dispatch.ts) is given and what it says
 * back: `DispatchOptions`, the caller's side of the operator (how a job is
 * keyed, run, skipped and fed back, the limits, the stop and shed signals),
 * and `Skip`, the reason a job was not run. Types only.
 */
import type { Observable, ObservableInput, SchedulerLike } from 'rxjs';
import type { DestinationLimits, Feedback } from './destination-state.js';

/** Why a job was not run. */
export type Skip =
  | { readonly kind: 'dead'; readonly until: number; readonly reason: string }
  | { readonly kind: 'busy'; readonly until: number };

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
