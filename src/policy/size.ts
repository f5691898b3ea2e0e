import { accept, reject } from '../domain/reply.js';
import type { Decision } from '../domain/reply.js';

/**
 * The `SIZE=` a client declared on MAIL FROM (RFC 1870) against
 * SMTP_MAX_MESSAGE_BYTES. No declaration is accepted: the limit is then
 * enforced while streaming. Over the limit: `552 5.3.4`. A value that is not a
 * non-negative integer: `501 5.5.4`.
 */
export function checkDeclaredSize(declared: number | undefined, max: number): Decision {
  if (declared === undefined) return accept;
  if (!Number.isSafeInteger(declared) || declared < 0) return reject(501, '5.5.4', 'Invalid SIZE parameter');
  return declared > max ? reject(552, '5.3.4', 'Message size exceeds fixed maximum message size') : accept;
}
