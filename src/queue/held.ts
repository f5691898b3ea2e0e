/**
 * Jobs for destinations on hold (console/holds.ts). In: a claimed message's
 * jobs and the hold predicate; out: the jobs to run and those held back.
 * A held job's recipients are written back unattempted with their next
 * attempt `HOLD_RECHECK_MS` away, so the message is not claimed again and
 * again while held, and a release's retry (`Spool.retryNow`) finds them due
 * later and makes them due at once.
 */
import { domainOf } from '../domain/envelope.js';
import type { DeliveryJob } from '../domain/job.js';
import type { RecipientUpdate, Spool } from '../spool/spool.js';

/** How long held mail waits before it is looked at again (a release makes it due at once). */
export const HOLD_RECHECK_MS = 5 * 60_000;

export function splitHeld(
  jobs: readonly DeliveryJob[],
  isHeld: (domain: string) => boolean,
): { readonly run: DeliveryJob[]; readonly held: DeliveryJob[] } {
  const run: DeliveryJob[] = [];
  const held: DeliveryJob[] = [];
  for (const job of jobs) {
    (job.recipients.some((r) => isHeld(domainOf(r.recipient))) ? held : run).push(job);
  }
  return { run, held };
}

/** Puts a held job's recipients off until `until`, their state otherwise as it was. */
export function postponeHeld(spool: Pick<Spool, 'update'>, job: DeliveryJob, until: number): Promise<unknown> {
  const updates = job.recipients.map((r): RecipientUpdate => ({
    recipient: r.recipient,
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: until,
    ...(r.lastResponse === undefined ? {} : { lastResponse: r.lastResponse }),
  }));
  return spool.update(job.record.id, updates);
}
