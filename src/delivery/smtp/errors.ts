/**
 * Errors of the outbound SMTP client, shaped as delivery/classify.ts reads
 * them: `code` names what went wrong on our side (no reply to judge by),
 * `responseCode`/`response` carry the server's reply when there was one,
 * and `command` says at which step.
 */
import { replyText, type Reply } from './reply.js';

export type ClientErrorCode =
  /** Could not connect, or the connection dropped. */
  | 'ECONNECTION'
  /** Connecting, the greeting or a reply took too long. */
  | 'ETIMEDOUT'
  /** The TLS handshake or the certificate check failed. */
  | 'ETLS'
  /** Authentication was refused or is not offered. */
  | 'EAUTH'
  /** The server said something that is not SMTP. */
  | 'EPROTOCOL'
  /** A server reply refused a step (see responseCode). */
  | 'EREPLY'
  /** Reading the message to send failed. */
  | 'ESTREAM'
  /** An address the client will not send (SMTPUTF8 needed and not offered). */
  | 'EENVELOPE'
  /** More recipients than the server takes in one transaction, and no way to send the message again. */
  | 'ELIMITS'
  /** A REQUIRETLS message (RFC 8689) and a server that does not offer REQUIRETLS. */
  | 'EREQUIRETLS';

export class SmtpClientError extends Error {
  override readonly name = 'SmtpClientError';
  readonly responseCode: number | undefined;
  readonly response: string | undefined;

  constructor(
    readonly code: ClientErrorCode,
    message: string,
    readonly command: string,
    reply?: Reply,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.responseCode = reply?.code;
    this.response = reply ? replyText(reply) : undefined;
  }
}

/** A server reply refusing `command`. */
export function refused(command: string, reply: Reply): SmtpClientError {
  return new SmtpClientError('EREPLY', `${command} refused: ${replyText(reply)}`, command, reply);
}

/**
 * Whether a socket error's message speaks of TLS (a handshake or certificate failure rather than a dropped connection).
 */
export function looksLikeTls(message: string): boolean {
  return /certificate|SSL|TLS/i.test(message);
}
