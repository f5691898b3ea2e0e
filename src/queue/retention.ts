/**
 * The retention sweeper: every `intervalMs` it removes finished messages
 * (every recipient delivered or bounced) whose last update is more than
 * `retentionDays` old. The spool finds them (`Spool.expire`, which looks
 * only at messages that arrived before the cutoff), a batch at a time until
 * none are left; queued and deferred mail is never removed.
 */
import type { Observable } from 'rxjs';
import { EMPTY, catchError, defer, exhaustMap, expand, map, of, reduce, timer } from 'rxjs';
import type { Spool } from '../spool/spool.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Messages removed per `expire` call: one sweep is many short steps, never one long one. */
export const EXPIRE_BATCH = 500;

/** What one sweep did. A failed step is a value too; the sweeper goes on. */
export type SweepResult =
  | { readonly kind: 'swept'; readonly removed: number }
  | { readonly kind: 'error'; readonly removed: number; readonly error: unknown };

/** The spool operation a sweep needs, as an Observable (virtual-time testable). */
export interface RetentionStore {
  expire(before: number, limit: number): Observable<{ readonly removed: number; readonly more: boolean }>;
}

export interface RetentionOptions {
  readonly retentionDays: number;
  readonly clock: () => number;
  /** Time between sweeps; the first sweep runs one interval after subscribing. */
  readonly intervalMs: number;
}

export interface RetentionDeps extends RetentionOptions {
  readonly spool: Pick<Spool, 'expire'>;
}

/** The Spool's promise behind `defer`, so each step really calls it again. */
export function retentionStoreOf(spool: Pick<Spool, 'expire'>): RetentionStore {
  return { expire: (before, limit) => defer(() => spool.expire(before, limit)) };
}

/**
 * Sweeps `store` every `intervalMs`. A sweep still running when the next tick
 * comes makes that tick be skipped, never overlapped.
 */
export function sweepEvery$(store: RetentionStore, opts: RetentionOptions): Observable<SweepResult> {
  if (!Number.isFinite(opts.retentionDays) || opts.retentionDays < 0) {
    throw new RangeError(`retentionDays must be a number >= 0, got ${opts.retentionDays}`);
  }
  if (!Number.isFinite(opts.intervalMs) || opts.intervalMs <= 0) {
    throw new RangeError(`intervalMs must be a number > 0, got ${opts.intervalMs}`);
  }
  return timer(opts.intervalMs, opts.intervalMs).pipe(
    exhaustMap(() => sweepOnce(store, opts.clock() - opts.retentionDays * DAY_MS)),
  );
}

/**
 * Expires batch after batch while the spool says more may qualify; one result for the sweep (a failure keeps what was
 * removed).
 */
function sweepOnce(store: RetentionStore, before: number): Observable<SweepResult> {
  return defer(() => {
    let removed = 0;
    return store.expire(before, EXPIRE_BATCH).pipe(
      expand((step) => (step.more ? store.expire(before, EXPIRE_BATCH) : EMPTY)),
      reduce((sum, step) => (removed = sum + step.removed), 0),
      map((): SweepResult => ({ kind: 'swept', removed })),
      catchError((error: unknown) => of<SweepResult>({ kind: 'error', removed, error })),
    );
  });
}

/** The retention sweeper over a spool. Emits one result per sweep. */
export function retention$(deps: RetentionDeps): Observable<SweepResult> {
  return sweepEvery$(retentionStoreOf(deps.spool), deps);
}
