import type { Observable, SchedulerLike } from 'rxjs';
import { asyncScheduler, catchError, defer, exhaustMap, from, map, mergeMap, of, reduce, timer } from 'rxjs';
import type { MessageId, MessageRecord } from '../domain/envelope.js';
import { isFinished } from '../domain/envelope.js';
import type { Spool } from '../spool/spool.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Removals in flight at once during one sweep: gentle on the disk, not serial. */
const REMOVE_CONCURRENCY = 4;

/** What one sweep did. A failed listing is a value too; the sweeper goes on. */
export type SweepResult =
  | { readonly kind: 'swept'; readonly removed: number; readonly failed: number }
  | { readonly kind: 'error'; readonly removed: 0; readonly error: unknown };

/** The two spool operations a sweep needs, as Observables (virtual-time testable). */
export interface RetentionStore {
  list(): Observable<readonly MessageRecord[]>;
  remove(id: MessageId): Observable<boolean>;
}

export interface RetentionOptions {
  /** Finished messages whose last update is older than this are removed. */
  readonly retentionDays: number;
  readonly clock: () => number;
  /** Time between sweeps; the first sweep runs one interval after subscribing. */
  readonly intervalMs: number;
  readonly scheduler?: SchedulerLike;
}

export interface RetentionDeps extends RetentionOptions {
  readonly spool: Spool;
}

/**
 * Ids of messages every recipient of which is finished (delivered or bounced)
 * and whose last recipient update is more than `days` days before `now`.
 * Queued or deferred recipients keep a message, however old.
 */
export function selectExpired(records: readonly MessageRecord[], now: number, days: number): MessageId[] {
  const cutoff = now - days * DAY_MS;
  return records
    .filter((r) => r.recipients.length > 0 && r.recipients.every((s) => isFinished(s.status)))
    .filter((r) => lastUpdateOf(r) < cutoff)
    .map((r) => r.id);
}

function lastUpdateOf(record: MessageRecord): number {
  return record.recipients.reduce((last, s) => Math.max(last, s.updatedAt), record.envelope.receivedAt);
}

/** The Spool's promises behind `defer`, so each sweep really calls them again. */
export function retentionStoreOf(spool: Spool): RetentionStore {
  return {
    list: () => defer(() => spool.list()),
    remove: (id) => defer(() => spool.remove(id)),
  };
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
  const scheduler = opts.scheduler ?? asyncScheduler;
  return timer(opts.intervalMs, opts.intervalMs, scheduler).pipe(exhaustMap(() => sweepOnce(store, opts)));
}

function sweepOnce(store: RetentionStore, opts: RetentionOptions): Observable<SweepResult> {
  return store.list().pipe(
    mergeMap((records) => from(selectExpired(records, opts.clock(), opts.retentionDays))),
    mergeMap(
      (id) =>
        store.remove(id).pipe(
          map((gone) => (gone ? 'removed' : 'absent')),
          catchError(() => of('failed' as const)),
        ),
      REMOVE_CONCURRENCY,
    ),
    reduce(
      (acc, result) => ({
        removed: acc.removed + (result === 'removed' ? 1 : 0),
        failed: acc.failed + (result === 'failed' ? 1 : 0),
      }),
      { removed: 0, failed: 0 },
    ),
    map(({ removed, failed }): SweepResult => ({ kind: 'swept', removed, failed })),
    catchError((error: unknown) => of<SweepResult>({ kind: 'error', removed: 0, error })),
  );
}

/**
 * The retention sweeper: every `intervalMs`, removes finished messages older
 * than `retentionDays` from the spool. Emits one result per sweep.
 */
export function retention$(deps: RetentionDeps): Observable<SweepResult> {
  return sweepEvery$(retentionStoreOf(deps.spool), deps);
}
