/**
 * How one envelope's recipients are spread over transactions on a next hop
 * (RFC 9422 LIMITS, RFC 5321 §4.5.3.1.10). Pure.
 *
 * In:  the recipients still to send, the server's RCPTMAX; a transaction's
 *      recipients and replies.
 * Out: the recipients of the next transaction; the ones to send again at
 *      once in a new transaction (refused for their number, not for who they are).
 */
import type { Reply } from './smtp/reply.js';
import type { TransactionResult } from './smtp/session.js';

/** The first `rcptMax` of `pending` (all of them when the server states no RCPTMAX). */
export function nextBatch(pending: readonly string[], rcptMax: number | undefined): string[] {
  // slice copies; an undefined end is the whole list
  return pending.slice(0, rcptMax);
}

/**
 * `452 4.5.3` (too many recipients, RFC 5321 §4.5.3.1.10; servers without
 * enhanced codes say so in the text). A 452 about storage (4.3.1) is not one.
 */
export function isTooManyRecipients(reply: Reply): boolean {
  if (reply.code !== 452) return false;
  const text = reply.lines.join(' ');
  return /^4\.5\.3\b/.test(text) || (!/^\d\.\d{1,3}\.\d{1,3}\b/.test(text) && /too many recipients/i.test(text));
}

/**
 * The recipients of `sent` refused with `452 4.5.3` while the transaction
 * went through for others: the server takes fewer per transaction than we
 * sent, so they go in the next transaction at once rather than after a
 * backoff. When no recipient was taken, none is sent again (there would be no
 * progress): they are deferred as any 4xx is.
 */
export function recipientsToResend(sent: readonly string[], result: TransactionResult): string[] {
  const taken = result.data !== undefined && result.data.code >= 200 && result.data.code < 300;
  if (!taken) return [];
  return sent.filter((_, i) => {
    const reply = result.rcpt[i];
    return reply !== undefined && isTooManyRecipients(reply);
  });
}
