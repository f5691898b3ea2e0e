/**
 * What REQUIRETLS (RFC 8689 §4.2.1) makes of one attempt of a message
 * (pure): nothing when the message does not ask for it (or has the null
 * sender); else, in MX mode, a deferral without dialling when the
 * destination's hosts cannot be authenticated (no MTA-STS policy in enforce
 * mode; delivery/tls/requiretls.ts), and in relay mode the relay reached
 * over TLS with its certificate checked.
 */
import type { DeliveryOutcome } from '../domain/delivery.js';
import type { Envelope } from '../domain/envelope.js';
import {
  canAuthenticate,
  needsRequireTls,
  requireTlsRelay,
  unauthenticatedDestination,
} from '../delivery/tls/requiretls.js';
import type { TlsRequirement } from '../delivery/tls/requirement.js';
import type { SmtpTarget } from '../delivery/transport.js';

export type RequireTlsPlan =
  | { readonly kind: 'none' }
  | { readonly kind: 'required'; readonly relay?: SmtpTarget }
  | { readonly kind: 'refused'; readonly outcome: DeliveryOutcome };

export function requireTlsPlan(
  envelope: Pick<Envelope, 'sender' | 'requireTls'>,
  requirement: TlsRequirement | undefined,
  relay: SmtpTarget | undefined,
): RequireTlsPlan {
  if (!needsRequireTls(envelope)) return { kind: 'none' };
  if (relay) return { kind: 'required', relay: requireTlsRelay(relay) };
  if (!requirement) {
    const response = '4.7.10 REQUIRETLS: no outbound TLS policy applies, so no MX host can be authenticated';
    return { kind: 'refused', outcome: { kind: 'deferred', response } };
  }
  if (!canAuthenticate(requirement)) {
    return { kind: 'refused', outcome: { kind: 'deferred', response: unauthenticatedDestination(requirement) } };
  }
  return { kind: 'required' };
}
