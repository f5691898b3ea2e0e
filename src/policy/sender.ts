import { domainOf } from '../domain/envelope.js';
import { accept, reject } from '../domain/reply.js';
import type { Decision } from '../domain/reply.js';
import { addressProblem, describeProblem } from './address.js';

export interface SenderContext {
  /** SMTP_REQUIRE_LOCAL_DOMAIN. */
  readonly requireLocalDomain: boolean;
  /** SMTP_HOSTNAME: the one domain unauthenticated senders may use. */
  readonly hostname: string;
  readonly authenticated: boolean;
}

/** `domain` passed the address syntax check, so it has no trailing dot; `hostname` may end with one. */
function sameDomain(domain: string, hostname: string): boolean {
  return domain.toLowerCase() === hostname.toLowerCase().replace(/\.$/, '');
}

/**
 * MAIL FROM policy (§3). The null sender `''` is always accepted (bounces
 * need it). Bad syntax, control characters, path tricks or an address over
 * 254 octets: `501 5.1.7`. A domain other than the hostname, when
 * SMTP_REQUIRE_LOCAL_DOMAIN is on and the session did not authenticate:
 * `553 5.7.1`.
 */
export function checkSender(sender: string, ctx: SenderContext): Decision {
  if (sender === '') return accept;
  const problem = addressProblem(sender);
  if (problem) return reject(501, '5.1.7', `Bad sender address: ${describeProblem(problem)}`);
  if (!ctx.requireLocalDomain || ctx.authenticated) return accept;
  return sameDomain(domainOf(sender), ctx.hostname)
    ? accept
    : reject(553, '5.7.1', 'Sender address rejected: not a local domain, authenticate first');
}
