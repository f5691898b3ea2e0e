import { accept, reject } from '../domain/reply.js';
import type { Decision } from '../domain/reply.js';
import { addressProblem, describeProblem } from './address.js';

export interface RecipientContext {
  /** Recipients already accepted in this transaction. */
  readonly accepted: number;
  /** SMTP_MAX_RECIPIENTS. */
  readonly maxRecipients: number;
}

/** RFC 5321 §4.5.1: `<Postmaster>` without a domain must be accepted. */
const BARE_RECIPIENTS = ['postmaster'] as const;

/**
 * RCPT TO policy (§3). Syntax errors (the same checks as the sender, path
 * tricks included): `501 5.1.3`. The recipient past SMTP_MAX_RECIPIENTS:
 * `452 4.5.3` (RFC 5321 §4.5.3.1.10: temporary, so the client sends the rest
 * in another transaction).
 */
export function checkRecipient(rcpt: string, ctx: RecipientContext): Decision {
  const problem = addressProblem(rcpt, BARE_RECIPIENTS);
  if (problem) return reject(501, '5.1.3', `Bad recipient address: ${describeProblem(problem)}`);
  return ctx.accepted >= ctx.maxRecipients ? reject(452, '4.5.3', 'Too many recipients') : accept;
}
