/**
 * Feeds the TLS-RPT counts from the audit stream: each `delivery.tls`
 * decision is one session of its recipient domain, counted on the UTC day
 * the clock says, under the policy that governed it (the MTA-STS policy's
 * text and MX patterns from the policy cache, or `no-policy-found`).
 */
import { filter, type Observable, type Subscription } from 'rxjs';
import type { AuditEvent } from '../domain/audit.js';
import type { StsPolicy } from '../delivery/tls/sts-policy.js';
import type { DayStore } from './day-store.js';
import { outcomeOf, policyTypeOf } from './result-type.js';
import { addSession, utcDay, type PolicyRef } from './tally.js';

type TlsEvent = Extract<AuditEvent, { type: 'delivery.tls' }>;

export interface CollectDeps {
  readonly events$: Observable<AuditEvent>;
  readonly store: DayStore;
  /** The MTA-STS policy applied to a domain now (the policy cache); undefined without one. */
  readonly stsPolicy: (domain: string) => StsPolicy | undefined;
  readonly clock: () => number;
}

/** The policy's text as RFC 8461 §3.2 writes it, one line per entry (RFC 8460 §4.4 `policy-string`). */
export function stsPolicyLines(policy: StsPolicy): string[] {
  return ['version: STSv1', `mode: ${policy.mode}`, ...policy.mx.map((m) => `mx: ${m}`), `max_age: ${policy.maxAge}`];
}

function policyRef(event: TlsEvent, stsPolicy: CollectDeps['stsPolicy']): PolicyRef {
  const type = policyTypeOf(event.policy);
  const sts = type === 'sts' ? stsPolicy(event.domain) : undefined;
  return sts ? { type, strings: stsPolicyLines(sts), mxHosts: sts.mx } : { type, strings: [], mxHosts: [] };
}

export function collectSessions(deps: CollectDeps): Subscription {
  return deps.events$
    .pipe(filter((event): event is TlsEvent => event.type === 'delivery.tls' && !event.domain.startsWith('[')))
    .subscribe({
      next: (event) => {
        const day = utcDay(deps.clock());
        addSession(deps.store.day(day), event.domain, policyRef(event, deps.stsPolicy), outcomeOf(event));
        deps.store.changed(day);
      },
      error: () => undefined, // the audit bus only completes
    });
}
