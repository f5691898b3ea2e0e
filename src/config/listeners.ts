/**
 * The extra listeners and who may speak PROXY to them (SPEC §2, §3).
 *
 * Owns: SMTP_TLS_PORT (implicit TLS, RFC 8314), SMTP_SUBMISSION_PORT (AUTH
 *       required before MAIL) and SMTP_PROXY_FROM (the peers whose
 *       connections start with a PROXY v1/v2 header), and how they must fit
 *       the rest of the configuration.
 * In:   the reader, SMTP_PORT and the TLS and AUTH settings already read.
 * Out:  the listener part of `Config`; problems name the variable to change.
 */
import type { Config } from './types.js';
import type { EnvReader } from './env-reader.js';
import { parseNetworks } from './addresses.js';
import { fromParser, listenPort } from './schemas.js';

type Listeners = Pick<Config, 'tlsPort' | 'submissionPort' | 'proxyFrom'>;

/** What the listener rules look at: the values read before. */
export type ListenerContext = Pick<Config, 'smtpPort' | 'tlsDisable' | 'authUsers' | 'authInsecure'>;

/**
 * The ports may not collide with SMTP_PORT or each other (port 0, any free
 * port, never collides); implicit TLS needs TLS; submission needs users to
 * authenticate and a way to do it (STARTTLS, or SMTP_AUTH_INSECURE).
 */
export function readListeners(r: EnvReader, context: ListenerContext): Listeners {
  const tlsPort = r.optional('SMTP_TLS_PORT', listenPort);
  const submissionPort = r.optional('SMTP_SUBMISSION_PORT', listenPort);
  const clash = (a: number | undefined, b: number | undefined): boolean => a !== undefined && a !== 0 && a === b;
  if (clash(tlsPort, context.smtpPort)) {
    r.problem('SMTP_TLS_PORT', `a port other than SMTP_PORT (${context.smtpPort})`);
  }
  if (clash(submissionPort, context.smtpPort)) {
    r.problem('SMTP_SUBMISSION_PORT', `a port other than SMTP_PORT (${context.smtpPort})`);
  } else if (clash(submissionPort, tlsPort)) {
    r.problem('SMTP_SUBMISSION_PORT', `a port other than SMTP_TLS_PORT (${tlsPort})`);
  }
  if (tlsPort !== undefined && context.tlsDisable) {
    r.problem('SMTP_TLS_PORT', 'to be unset while SMTP_TLS_DISABLE is true (implicit TLS needs TLS)');
  }
  if (submissionPort !== undefined && context.authUsers.length === 0 && r.valid('SMTP_AUTH_USERS')) {
    r.problem('SMTP_SUBMISSION_PORT', 'to be unset unless SMTP_AUTH_USERS is set (submission requires AUTH)');
  }
  if (submissionPort !== undefined && context.tlsDisable && !context.authInsecure) {
    r.problem(
      'SMTP_SUBMISSION_PORT',
      'to be unset while SMTP_TLS_DISABLE is true, unless SMTP_AUTH_INSECURE is true (AUTH needs TLS)',
    );
  }
  return { tlsPort, submissionPort, proxyFrom: r.read('SMTP_PROXY_FROM', fromParser(parseNetworks), []) };
}
