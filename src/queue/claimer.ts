/**
 * The claim loop: on every wake-up (wake-ups.ts) it claims due messages from
 * the spool into the active window, one claim at a time (wakes during a
 * claim make one more), a batch at a time while the window has room and
 * more is due. A full window waits for `released()`; otherwise the next due
 * time sets the timer. Spool trouble is retried after a floor, never in a
 * hot loop. Emits each claim's messages; completes after `stop$`.
 *
 * `backlog$` tells when the window is full while mail is due outside it (at
 * most once per `backlogEveryMs`): the dispatcher then sheds what slow
 * destinations hold.
 */
import { Subject, catchError, defer, from, merge, of, takeUntil } from 'rxjs';
import type { Observable } from 'rxjs';
import type { ClaimedMessage } from '../domain/delivery.js';
import type { Spool } from '../spool/spool.js';
import { exhaustMapTrailing } from './exhaust-map-trailing.js';
import { wakeUps } from './wake-ups.js';

export interface ClaimerOptions {
  readonly spool: Pick<Spool, 'claim' | 'nextDueAt' | 'wake$'>;
  /** How many more messages the window takes now. */
  readonly room: () => number;
  readonly clock: () => number;
  /** Most messages per claim. */
  readonly batch: number;
  readonly safetyTickMs: number;
  /** Least wait before looking again when the spool says "due now" but nothing came, or failed. */
  readonly recheckFloorMs: number;
  readonly stop$: Observable<unknown>;
  /** Least time between two `backlog$` signals. Default 5 s. */
  readonly backlogEveryMs?: number;
}

const FIRST_BATCH = 16;

export class Claimer {
  private readonly due$ = new Subject<number | undefined>();
  private readonly more$ = new Subject<void>();
  /** The last claim found the window full: a release should wake us. */
  private full = false;
  private lastBacklog = -Infinity;
  /** Claims start small (the first deliveries begin sooner) and double while they come back full. */
  private nextBatch = FIRST_BATCH;
  private readonly backlog = new Subject<void>();
  readonly claimed$: Observable<readonly ClaimedMessage[]>;
  readonly backlog$: Observable<void> = this.backlog.asObservable();

  constructor(private readonly o: ClaimerOptions) {
    const wakes$ = wakeUps({
      wake$: merge(o.spool.wake$, this.more$),
      due$: this.due$,
      tickMs: o.safetyTickMs,
      now: o.clock,
    }).pipe(takeUntil(o.stop$));
    this.claimed$ = wakes$.pipe(
      exhaustMapTrailing(() =>
        defer(() => from(this.claimOnce())).pipe(
          catchError(() => {
            this.due$.next(o.clock() + o.recheckFloorMs); // spool trouble: look again soon
            return of([] as readonly ClaimedMessage[]);
          }),
        ),
      ),
    );
  }

  /** The window is full: is mail due outside it? */
  private async checkBacklog(): Promise<void> {
    const now = this.o.clock();
    if (now - this.lastBacklog < (this.o.backlogEveryMs ?? 5_000)) return;
    const next = await this.o.spool.nextDueAt();
    if (next === undefined || next > now) return;
    this.lastBacklog = now;
    this.backlog.next();
  }

  /** A message left the window. */
  released(): void {
    if (!this.full) return;
    this.full = false;
    this.more$.next();
  }

  private async claimOnce(): Promise<readonly ClaimedMessage[]> {
    const room = this.o.room();
    if (room <= 0) {
      this.full = true;
      await this.checkBacklog();
      return [];
    }
    const limit = Math.min(room, this.o.batch, this.nextBatch);
    const claimed = await this.o.spool.claim(this.o.clock(), limit);
    if (claimed.length >= limit) {
      this.nextBatch = Math.min(this.o.batch, this.nextBatch * 2);
      this.more$.next(); // there may be more due: look again at once
      return claimed;
    }
    this.nextBatch = FIRST_BATCH;
    const now = this.o.clock();
    const next = await this.o.spool.nextDueAt().catch(() => now + this.o.recheckFloorMs);
    // "due now" right after claiming nothing (held elsewhere): look again after a floor, never spin
    this.due$.next(
      next === undefined ? undefined : claimed.length === 0 && next <= now ? now + this.o.recheckFloorMs : next,
    );
    return claimed;
  }
}
