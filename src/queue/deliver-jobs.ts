import type { ObservableInput, OperatorFunction } from 'rxjs';
import type { DeliveryJob } from '../domain/job.js';
import { mergeMapPerKey } from '../rx/merge-map-per-key.js';
import { jobKey } from './jobs.js';

export interface DeliveryLimits {
  /** SMTP_QUEUE_WORKERS: attempts at once. */
  readonly workers: number;
  /** SMTP_DOMAIN_CONCURRENCY: attempts at once per destination domain. */
  readonly perDomain: number;
}

/**
 * Concurrency stated once: at most `workers` jobs attempted at once and at
 * most `perDomain` per destination domain; waiting jobs start in arrival
 * order as slots free, and a saturated domain never blocks the others.
 */
export function deliverJobs<J extends { readonly job: DeliveryJob }, R>(
  attempt: (item: J) => ObservableInput<R>,
  limits: DeliveryLimits,
): OperatorFunction<J, R> {
  return mergeMapPerKey((item: J) => jobKey(item.job), attempt, limits.workers, limits.perDomain);
}
