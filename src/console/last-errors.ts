/**
 * The last delivery error per destination domain, for the console's queue
 * view (the spool keeps each recipient's last reply, but finding a domain's
 * latest one there would mean reading the queue).
 *
 * In: every audit event (`raw$`). Out: `get(domain)`, the latest deferral or
 * bounce with its reply and time. At most `capacity` domains are kept: the
 * one updated longest ago goes first.
 */
import type { Observable } from 'rxjs';
import type { AuditEvent } from '../domain/audit.js';
import { domainOf } from '../domain/envelope.js';

export interface LastError {
  readonly time: number;
  readonly recipient: string;
  readonly outcome: 'deferred' | 'bounced';
  readonly response: string;
}

export interface LastErrors {
  get(domain: string): LastError | undefined;
  stop(): void;
}

export function trackLastErrors(options: {
  readonly events$: Observable<AuditEvent>;
  readonly clock: () => number;
  readonly capacity?: number;
}): LastErrors {
  const capacity = options.capacity ?? 10_000;
  const byDomain = new Map<string, LastError>();
  const subscription = options.events$.subscribe({
    error: () => undefined,
    next: (event) => {
      if (event.type !== 'delivery.outcome' || event.outcome === 'delivered') return;
      const domain = domainOf(event.recipient);
      byDomain.delete(domain); // re-inserted last: the map stays in update order
      byDomain.set(domain, {
        time: options.clock(),
        recipient: event.recipient,
        outcome: event.outcome,
        response: event.response,
      });
      if (byDomain.size > capacity) {
        const oldest = byDomain.keys().next().value;
        if (oldest !== undefined) byDomain.delete(oldest);
      }
    },
  });
  return { get: (domain) => byDomain.get(domain), stop: () => subscription.unsubscribe() };
}
