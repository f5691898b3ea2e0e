/**
 * REQUIRETLS (RFC 8689 §4.2.1) for the delivery of one message (pure): what
 * TLS counts as authenticating the next hop, what a message that asks for
 * REQUIRETLS may be dialled to, and the check its session makes before MAIL
 * FROM (smtp/requiretls.ts adds that the server must offer REQUIRETLS).
 *
 * MX mode: the next hop is authenticated only when the destination's MX
 * hosts are (the MX look-up itself is not DNSSEC-checked here): by the
 * domain's MTA-STS policy in `enforce` mode, whose guard (guard.ts) dials
 * only the MX hosts the policy lists, requires STARTTLS and a certificate
 * verified for the host name. No such policy: nothing is dialled, the
 * recipients defer with 4.7.10, and the queue lifetime bounces them.
 * Relay mode: the smarthost SMTP_RELAY_URL names is the next hop; it must be
 * reached over TLS whose certificate verifies for that name.
 *
 * Under DANE (`SMTP_TLS_POLICY=…=dane`, RFC 7672) a host is authenticated
 * when it has validated, usable TLSA records: its session exists only if
 * its certificate matched them (smtp/dial.ts). Its hosts without such
 * records are not: the session check fails there (4.7.5, next host).
 */
import type { TlsDecision, TlsPolicyName, TlsResult } from '../../domain/tls.js';
import type { DialTarget } from '../attempt.js';
import type { TlsInfo } from '../smtp/wire.js';
import type { SmtpTarget } from '../transport.js';
import { decisionOfSession } from './decision.js';
import type { TlsRequirement } from './requirement.js';

/** The policies whose connections authenticate the next hop. */
const AUTHENTICATING: ReadonlySet<TlsPolicyName> = new Set<TlsPolicyName>(['mta-sts-enforce', 'dane']);
/** What a session's TLS came to when it authenticated the host under such a policy. */
const AUTHENTICATED: ReadonlySet<TlsResult> = new Set<TlsResult>(['verified', 'dane-verified']);

/** Whether a destination's TLS requirement can authenticate its hosts at all (else nothing is dialled). */
export function canAuthenticate(requirement: TlsRequirement): boolean {
  return AUTHENTICATING.has(requirement.policy);
}

/** Whether a try's TLS decision counts as authenticated for REQUIRETLS: the seam DANE extends. */
export function authenticatedForRequireTls(decision: TlsDecision): boolean {
  return !decision.refused && AUTHENTICATING.has(decision.policy) && AUTHENTICATED.has(decision.result);
}

/** The deferral of a REQUIRETLS message to a destination whose hosts cannot be authenticated. */
export function unauthenticatedDestination(requirement: TlsRequirement): string {
  const by = requirement.source === 'default' ? 'no MTA-STS policy' : `${requirement.source} (${requirement.policy})`;
  return (
    `4.7.10 REQUIRETLS: the MX hosts of ${requirement.domain} cannot be authenticated ` +
    `(${by}; an MTA-STS policy in enforce mode or DANE is needed)`
  );
}

/** The check a REQUIRETLS session makes on its TLS before MAIL FROM. */
export type RequireTlsCheck = (tls: TlsInfo | undefined) => boolean;

/** MX mode: the try's TLS decision under `requirement` must count; relay (no requirement): a verified certificate. */
export function requireTlsCheck(requirement: TlsRequirement | undefined, target: DialTarget): RequireTlsCheck {
  if (!requirement) return (tls) => tls?.authorized === true;
  if (requirement.policy === 'dane') return (tls) => tls !== undefined && target.tlsa !== undefined;
  const host = { label: target.label, name: target.servername ?? target.host };
  return (tls) => authenticatedForRequireTls(decisionOfSession(requirement, host, tls));
}

/** The relay as a REQUIRETLS message must reach it: TLS (implicit, or STARTTLS required), certificate checked. */
export function requireTlsRelay(relay: SmtpTarget): SmtpTarget {
  return { ...relay, ...(relay.secure ? {} : { requireTls: true }), tlsVerify: true };
}

/** RFC 8689 §4.2.1: the requirements hold for a message tagged REQUIRETLS whose return path is not empty. */
export function needsRequireTls(envelope: { readonly sender: string; readonly requireTls?: true }): boolean {
  return envelope.requireTls === true && envelope.sender !== '';
}
