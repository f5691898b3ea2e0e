import type { DueRecipient } from '../domain/delivery.js';
import type { DeliveryJob } from '../domain/job.js';

/**
 * Groups claimed recipients into jobs: one per (message, destination domain),
 * or one per message in relay mode (everything goes to one smarthost). Order
 * follows the claim order of each group's first recipient.
 */
export function groupIntoJobs(due: readonly DueRecipient[], byDomain: boolean): DeliveryJob[] {
  const jobs = new Map<string, { id: string; domain: string; recipients: DueRecipient[] }>();
  for (const r of due) {
    const domain = byDomain ? r.domain : '';
    const key = `${r.id}\u0000${domain}`;
    const job = jobs.get(key);
    if (job) job.recipients.push(r);
    else jobs.set(key, { id: r.id, domain, recipients: [r] });
  }
  return [...jobs.values()];
}

/**
 * The concurrency key: the destination domain, so at most
 * SMTP_DOMAIN_CONCURRENCY jobs run per domain. Relay jobs are keyed by
 * message: the one smarthost is limited by SMTP_QUEUE_WORKERS only.
 */
export function jobKey(job: DeliveryJob): string {
  return job.domain === '' ? `relay:${job.id}` : job.domain;
}
