/**
 * MAIL FROM's REQUIRETLS parameter (RFC 8689 §2), checked (pure). It is a
 * bare keyword, given only in a session protected by TLS (after STARTTLS,
 * or on the implicit-TLS listener): in clear it is `530 5.7.10`, with a
 * value `501 5.5.4`.
 */
import type { Decision } from '../domain/reply.js';
import type { Checked, CommandArgs } from './dsn-params.js';

/** Whether the message asked for REQUIRETLS (false when the parameter is absent). */
export function checkRequireTls(args: CommandArgs | undefined, secure: boolean): Checked<boolean> {
  const value = args?.['REQUIRETLS'];
  if (value === undefined) return { kind: 'accept', value: false };
  if (!secure) return reject(530, '5.7.10', 'REQUIRETLS needed: the session must use TLS (STARTTLS) first');
  if (value !== true) return reject(501, '5.5.4', 'Bad REQUIRETLS parameter: it takes no value');
  return { kind: 'accept', value: true };
}

function reject(code: number, enhanced: string, text: string): Extract<Decision, { kind: 'reject' }> {
  return { kind: 'reject', code, enhanced, text };
}
