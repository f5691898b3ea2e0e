/**
 * The inbound listeners (SPEC §3): SMTP on SMTP_PORT, and when configured
 * implicit TLS on SMTP_TLS_PORT (RFC 8314) and submission on
 * SMTP_SUBMISSION_PORT. Each is an smtp-server of its own over the one set
 * of hooks, so they share the session policy (allow lists, connection limits,
 * LIMITS), the AUTH throttle, the spool path and the TLS material.
 *
 * Owns: which listeners there are, how each one's options differ from the
 *       shared ones, and which variables name a listener that cannot bind.
 * In:   the config; the shared SMTPServer options (server-options.ts).
 * Out:  the listener list; the options per listener; the addresses bound.
 */
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/types.js';

export type ListenerKind = 'smtp' | 'tls' | 'submission';

export interface Listener {
  readonly kind: ListenerKind;
  readonly port: number;
  /** How start-up failures name it: what, and the variables to change. */
  readonly what: string;
  readonly variables: readonly string[];
}

/** Where the listeners listen: SMTP_PORT's address, with the others' beside it. */
export interface ListenerAddresses extends AddressInfo {
  /** SMTP_TLS_PORT's, when configured. */
  readonly tls?: AddressInfo;
  /** SMTP_SUBMISSION_PORT's, when configured. */
  readonly submission?: AddressInfo;
}

/** The listeners the configuration asks for, SMTP_PORT's first. */
export function listenersOf(config: Config): Listener[] {
  const listeners: Listener[] = [{ kind: 'smtp', port: config.smtpPort, what: 'SMTP', variables: ['SMTP_PORT'] }];
  if (config.tlsPort !== undefined)
    listeners.push({ kind: 'tls', port: config.tlsPort, what: 'SMTP (implicit TLS)', variables: ['SMTP_TLS_PORT'] });
  if (config.submissionPort !== undefined) {
    const variables = ['SMTP_SUBMISSION_PORT'];
    listeners.push({ kind: 'submission', port: config.submissionPort, what: 'SMTP submission', variables });
  }
  return listeners;
}

/** The options that make a listener what it is, over the shared ones (a fresh object: smtp-server changes it). */
export function optionsFor<T extends object>(kind: ListenerKind, shared: T): T & ListenerOptions {
  switch (kind) {
    case 'smtp':
      return { ...shared };
    case 'tls':
      // TLS from the first byte, with the same certificate; STARTTLS is not offered on a secure session
      return { ...shared, secure: true };
    case 'submission':
      // MAIL, RCPT and DATA before AUTH: 530 (the enhanced code goes through the send patch)
      return { ...shared, authOptional: false, authRequiredMessage: AUTH_REQUIRED };
  }
}

interface ListenerOptions {
  readonly secure?: boolean;
  readonly authOptional?: boolean;
  readonly authRequiredMessage?: string;
}

/** Submission's answer to MAIL before AUTH (RFC 4954 §6). */
export const AUTH_REQUIRED = '5.7.0 Authentication required';

/** A listener that could not bind: which one (for the start-up message), and why. */
export class ListenError extends Error {
  override readonly name = 'ListenError';

  constructor(
    readonly listener: Listener,
    override readonly cause: unknown,
  ) {
    super(`${listener.what} cannot listen on port ${listener.port}`, { cause });
  }
}

/**
 * What a start-up failure says about a listen error: the listener's name,
 * address and variables (SMTP_BIND with each), and the underlying error.
 */
export function failedListener(
  error: unknown,
  config: Config,
): { cause: unknown; listener: { what: string; address: string; variables: readonly string[] } } {
  const listener = error instanceof ListenError ? error.listener : (listenersOf(config)[0] as Listener);
  const cause = error instanceof ListenError ? error.cause : error;
  const address = `${config.smtpBind ?? '*'}:${listener.port}`;
  return { cause, listener: { what: listener.what, address, variables: [...listener.variables, 'SMTP_BIND'] } };
}
