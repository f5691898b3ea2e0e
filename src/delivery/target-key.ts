/**
 * An SMTP target's two names: the label in logs and errors, and the key of
 * the connection pool (a parked session is reused only for the same host,
 * port, TLS mode, certificate check, credentials and, under DANE, records).
 */
import { tlsaKey } from './tls/tlsa.js';
import type { SmtpTarget } from './transport.js';

export function targetLabel(target: SmtpTarget): string {
  const name =
    target.servername && target.servername !== target.host ? `${target.servername}[${target.host}]` : target.host;
  return `${name}:${target.port}`;
}

export function keyOf(target: SmtpTarget): string {
  const scheme = target.secure ? 'smtps' : target.requireTls ? 'smtp+tls' : 'smtp';
  const verify = target.tlsVerify === undefined ? '' : target.tlsVerify ? '+verify' : '+any';
  // a session authenticated by TLSA is reused only under the same records and names
  const dane = target.tlsa ? `+dane:${tlsaKey(target.tlsa)}` : '';
  return `${scheme}${verify}${dane}://${target.auth?.user ?? ''}@${target.host}:${target.port}/${target.servername ?? ''}`;
}
