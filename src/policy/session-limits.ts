/**
 * The limits of one session (RFC 9422 LIMITS): how they are advertised, and
 * the MAIL past MAILMAX.
 */
import { accept, reject } from '../domain/reply.js';
import type { Decision } from '../domain/reply.js';

export interface SessionLimits {
  /** SMTP_MAX_RECIPIENTS: RCPT commands one transaction may give (RCPTMAX). */
  readonly maxRecipients: number;
  /** SMTP_MAX_MESSAGES_PER_CONNECTION: MAIL commands one connection may give (MAILMAX). */
  readonly maxMessagesPerConnection: number;
}

/** The EHLO line: `LIMITS RCPTMAX=100 MAILMAX=1000`. */
export function limitsExtension(limits: SessionLimits): string {
  return `LIMITS RCPTMAX=${limits.maxRecipients} MAILMAX=${limits.maxMessagesPerConnection}`;
}

/**
 * The `count`th MAIL of a connection (every MAIL counts, accepted or not, as
 * RFC 9422 §4.1 counts them). Past MAILMAX: `451 4.5.3`, temporary, and the
 * session stays open: the client finishes (QUIT) and goes on over a new
 * connection, as a LIMITS-aware client does without being told.
 */
export function checkMessageCount(count: number, limits: SessionLimits): Decision {
  return count > limits.maxMessagesPerConnection
    ? reject(451, '4.5.3', 'Too many messages on this connection, go on in a new one')
    : accept;
}
