/**
 * DANE per MX host under the `dane` policy (pure; RFC 7672 §2.2): a host
 * with validated, usable TLSA records must do STARTTLS and is authenticated
 * by them instead of by certificate authorities (the session fails when its
 * certificate matches none, and never goes on in clear); validated but
 * unusable records still require TLS; a host without validated TLSA gets
 * the level's fallback, `may`; a host whose TLSA look-up failed is not used,
 * and when no host is left the destination defers (as it does when the MX
 * look-up through the validating resolver failed).
 *
 * Decisions under `dane` read `dane-verified` (authenticated by TLSA) or
 * `dane-failed` (the certificate matched no usable record, or the TLSA
 * look-up failed); a fallback host reports `verified`, `encrypted` or
 * `cleartext` with why DANE did not apply.
 */
import type { TlsDecision } from '../../domain/tls.js';
import type { Destination } from '../mx.js';
import { daneKey, type DaneHost } from './dane-lookup.js';
import { requiredBy } from './decision.js';
import type { TlsRequirement } from './requirement.js';
import type { TlsaAuthentication } from './tlsa.js';

export interface DanePlan {
  /** The requirement the host is dialled and judged under. */
  readonly requirement: TlsRequirement;
  /** Authenticate by these records instead of by certificate authorities. */
  readonly tlsa?: TlsaAuthentication;
  /** The decision as reported under DANE. */
  report(decision: TlsDecision): TlsDecision;
}

/** What DANE found for MX host `name` (callers are under the `dane` policy); undefined when not looked up. */
function hostOf(req: TlsRequirement, name: string): DaneHost | undefined {
  return req.dane?.hosts.get(daneKey(name));
}

/** Why a host has no DANE. */
function noDane(req: TlsRequirement, name: string): string {
  const host = hostOf(req, name);
  if (host?.kind === 'insecure' || host?.kind === 'failed') return host.why;
  return req.dane?.why ?? `${name} is not a DNSSEC-validated MX host of ${req.domain}`;
}

const same = (decision: TlsDecision): TlsDecision => decision;

/** How to dial MX host `name` and report it; the requirement as it is for other policies. */
export function danePlan(req: TlsRequirement, name: string): DanePlan {
  if (req.policy !== 'dane') return { requirement: req, report: same };
  const host = hostOf(req, name);
  const required: TlsRequirement = { ...req, requireTls: true, verify: false };
  if (host?.kind === 'tlsa') {
    const tlsa = { base: host.base, records: host.records, names: [daneKey(name), daneKey(req.domain)] };
    const records = host.records.map((r) => `${r.usage} ${r.selector} ${r.mtype} ${r.data.toString('hex')}`);
    return { requirement: required, tlsa, report: (d) => ({ ...authenticated(d, host.base), tlsa: records }) };
  }
  if (host?.kind === 'unusable') {
    const why = `no usable TLSA record at ${host.base}`;
    return { requirement: required, report: (d) => withDetail(d, why) };
  }
  const why = `no DANE: ${noDane(req, name)}`;
  return { requirement: req, report: (d) => withDetail(d, why) };
}

function withDetail(decision: TlsDecision, why: string): TlsDecision {
  return { ...decision, detail: decision.detail ? `${decision.detail}; ${why}` : why };
}

/** A DANE host's TLS: authenticated when the session ran, `dane-failed` when the certificate matched nothing. */
function authenticated(decision: TlsDecision, base: string): TlsDecision {
  if (decision.result === 'verified' || decision.result === 'encrypted') {
    const protocol = decision.detail?.split(',')[0] ?? 'TLS';
    return { ...decision, result: 'dane-verified', detail: `${protocol}, by the TLSA records at ${base}` };
  }
  if (decision.result === 'certificate-invalid') return { ...decision, result: 'dane-failed' };
  return decision;
}

/**
 * The MX hosts DANE lets be tried: all but those whose TLSA look-up failed
 * (each reported, refused); none left is a 4.7.5 deferral.
 */
export function daneHosts(
  req: TlsRequirement,
  destination: Destination,
  decide: (decision: TlsDecision) => void,
): Destination {
  if (destination.kind !== 'hosts' || req.policy !== 'dane') return destination;
  if (req.dane?.failed !== undefined) {
    const response = `4.4.3 ${requiredBy(req)}: ${req.dane.failed}`;
    decide({ policy: 'dane', result: 'dane-failed', refused: true, host: destination.domain, detail: req.dane.failed });
    return { kind: 'deferred', domain: destination.domain, response };
  }
  const failed = destination.hosts.filter((h) => hostOf(req, h.name)?.kind === 'failed');
  for (const host of failed) {
    decide({ policy: 'dane', result: 'dane-failed', refused: true, host: host.name, detail: noDane(req, host.name) });
  }
  const allowed = destination.hosts.filter((h) => !failed.includes(h));
  if (allowed.length > 0) return { ...destination, hosts: allowed };
  const why = failed.map((h) => noDane(req, h.name)).join('; ');
  return { kind: 'deferred', domain: destination.domain, response: `4.7.5 ${requiredBy(req)}: ${why}` };
}
