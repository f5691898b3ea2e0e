/**
 * MAIL FROM's REQUIRETLS parameter outbound (RFC 8689 §4.2.1), decided on
 * the open session (pure): a message that asks for it goes only over an
 * encrypted connection to a server whose EHLO (the one after STARTTLS)
 * offers REQUIRETLS, and the parameter is passed on. Otherwise nothing of
 * the transaction is sent: a session in clear, or whose TLS does not
 * authenticate the host, is an `ETLS` failure (4.7.5,
 * next host), a server without REQUIRETLS an `EREQUIRETLS` one (5.7.30,
 * next host; a bounce when no host offers it).
 *
 * Whether the TLS authenticates the host (a verified certificate of a host
 * the MTA-STS policy lists, or DANE) is settled before the session is
 * opened: delivery/tls/requiretls.ts.
 */
import { SmtpClientError } from './errors.js';
import type { TlsInfo } from './wire.js';

/** `['REQUIRETLS']` for a message that asks for it and a session that may carry it; [] otherwise. */
export function requireTlsParams(
  authenticated: ((tls: TlsInfo | undefined) => boolean) | undefined,
  extensions: ReadonlyMap<string, string>,
  tls: TlsInfo | undefined,
): string[] {
  if (!authenticated) return [];
  if (!tls || !authenticated(tls)) {
    const why = tls ? 'the TLS of this connection does not authenticate the host' : 'the connection is not encrypted';
    throw new SmtpClientError('ETLS', `REQUIRETLS: ${why}; nothing was sent`, 'MAIL FROM');
  }
  if (!extensions.has('REQUIRETLS')) {
    throw new SmtpClientError(
      'EREQUIRETLS',
      'REQUIRETLS support required: the server does not offer REQUIRETLS (RFC 8689)',
      'MAIL FROM',
    );
  }
  return ['REQUIRETLS'];
}
