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
import { hostParts, outcomeOf, policyTypeOf, type SessionOutcome } from './result-type.js';
import type { StsFailureType } from './sts-failures.js';
import { addSession, utcDay, type PolicyRef } from './tally.js';

type TlsEvent = Extract<AuditEvent, { type: 'delivery.tls' }>;

export interface CollectDeps {
  readonly events$: Observable<AuditEvent>;
  readonly store: DayStore;
  /** The MTA-STS policy applied to a domain now (the policy cache); undefined without one. */
  readonly stsPolicy: (domain: string) => StsPolicy | undefined;
  /** Why the domain's MTA-STS policy could not be had just now (sts-failures.ts); undefined otherwise. */
  readonly stsFailure?: (domain: string) => StsFailureType | undefined;
  readonly clock: () => number;
}

/** The policy's text as RFC 8461 §3.2 writes it, one line per entry (RFC 8460 §4.4 `policy-string`). */
export function stsPolicyLines(policy: StsPolicy): string[] {
  return ['version: STSv1', `mode: ${policy.mode}`, ...policy.mx.map((m) => `mx: ${m}`), `max_age: ${policy.maxAge}`];
}

function policyRef(event: TlsEvent, stsPolicy: CollectDeps['stsPolicy']): PolicyRef {
  // a host authenticated (or refused) by its DANE TLSA records: RFC 8460 §4.4's `tlsa` policy, the records as strings
  if (event.tlsa !== undefined && event.tlsa.length > 0) return { type: 'tlsa', strings: [...event.tlsa], mxHosts: [] };
  const type = policyTypeOf(event.policy);
  const sts = type === 'sts' ? stsPolicy(event.domain) : undefined;
  return sts ? { type, strings: stsPolicyLines(sts), mxHosts: sts.mx } : { type, strings: [], mxHosts: [] };
}

/** The session as counted: under its policy, or as an `sts` failure when the domain's policy could not be had. */
function counted(event: TlsEvent, deps: CollectDeps): { policy: PolicyRef; outcome: SessionOutcome } {
  const failed = event.policy === 'may' ? deps.stsFailure?.(event.domain) : undefined;
  if (failed === undefined) return { policy: policyRef(event, deps.stsPolicy), outcome: outcomeOf(event) };
  const { name, ip } = hostParts(event.host);
  const failure = {
    resultType: failed,
    ...(name === undefined ? {} : { receivingMx: name }),
    ...(ip === undefined ? {} : { receivingIp: ip }),
  };
  return { policy: { type: 'sts', strings: [], mxHosts: [] }, outcome: { ok: false, failure } };
}

export function collectSessions(deps: CollectDeps): Subscription {
  return deps.events$
    .pipe(
      // a REQUIRETLS refusal is the sender's requirement unmet, not a failure of the domain's TLS
      filter(
        (event): event is TlsEvent =>
          event.type === 'delivery.tls' && !event.domain.startsWith('[') && event.result !== 'requiretls-unmet',
      ),
    )
    .subscribe({
      next: (event) => {
        try {
          const day = utcDay(deps.clock());
          const { policy, outcome } = counted(event, deps);
          addSession(deps.store.day(day), event.domain, policy, outcome);
          deps.store.changed(day);
        } catch {
          // a counting bug costs a count, never the audit bus or a delivery
        }
      },
      error: () => undefined, // the audit bus only completes
    });
}
