/**
 * Whole-message transactions (pure): a claimed message's due recipients
 * become one job per destination domain (in relay mode one for the whole
 * message, plus one per domain with a rate limit of its own), split only
 * where a job would exceed the destination recipient limit. Recipients keep
 * their RCPT order; jobs follow their domains' first appearance.
 */
import type { ClaimedMessage } from '../domain/delivery.js';
import { domainOf, type RecipientState } from '../domain/envelope.js';
import type { DeliveryJob } from '../domain/job.js';

export interface SplitOptions {
  /** The job a recipient's domain goes in: the domain itself (MX mode), or '' for the relay job. */
  readonly groupOf: (domain: string) => string;
  /** SMTP_DESTINATION_RECIPIENT_LIMIT. */
  readonly recipientLimit: number;
}

export function splitIntoJobs(claimed: ClaimedMessage, options: SplitOptions): DeliveryJob[] {
  const groups = new Map<string, RecipientState[]>();
  for (const r of claimed.due) {
    const domain = options.groupOf(domainOf(r.recipient));
    const group = groups.get(domain);
    if (group) group.push(r);
    else groups.set(domain, [r]);
  }
  const limit = Math.max(1, options.recipientLimit);
  const jobs: DeliveryJob[] = [];
  for (const [domain, recipients] of groups) {
    for (let i = 0; i < recipients.length; i += limit)
      jobs.push({ record: claimed.record, domain, recipients: recipients.slice(i, i + limit) });
  }
  return jobs;
}
