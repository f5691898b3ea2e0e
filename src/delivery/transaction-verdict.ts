/**
 * What one SMTP transaction's replies say about each recipient.
 *
 * In: the recipients in envelope order and the session's `TransactionResult`
 * (a reply per RCPT, the DATA reply). Out: a `DeliveryOutcome` per
 * recipient, classified by classify.ts; or, when the server answered 421
 * anywhere, that reply: the host is closing on us and gave no verdict. And
 * what a failed transaction means: for the host, or for its recipients.
 */
import type { DeliveryOutcome } from '../domain/delivery.js';
import { classifyError, classifyReply } from './classify.js';
import { SmtpClientError } from './smtp/errors.js';
import { replyText, type Reply } from './smtp/reply.js';
import type { TransactionResult } from './smtp/session.js';
import type { TlsInfo } from './smtp/wire.js';

export interface RecipientResult {
  readonly recipient: string;
  readonly outcome: DeliveryOutcome;
}

function isPositive(reply: Reply): boolean {
  return reply.code >= 200 && reply.code < 300;
}

/** A 421 anywhere means this host is closing on us: no verdict on the message. */
export function hangUpOf(result: TransactionResult): Reply | undefined {
  return [...result.rcpt, ...(result.data ? [result.data] : [])].find((r) => r.code === 421);
}

/** Per-recipient outcomes: a refused RCPT keeps its own reply, accepted ones take the DATA reply. */
export function recipientResults(to: readonly string[], result: TransactionResult): RecipientResult[] {
  return to.map((recipient, i) => {
    const rcpt = result.rcpt[i];
    const reply = rcpt && !isPositive(rcpt) ? rcpt : result.data;
    if (!reply) return { recipient, outcome: { kind: 'deferred', response: '4.0.0 no reply for this recipient' } };
    const stage = reply === rcpt ? 'RCPT' : 'DATA';
    return { recipient, outcome: { kind: classifyReply(reply.code, stage).kind, response: replyText(reply) } };
  });
}

/** A failure of the host (or of reading the body): the connection is in doubt, the next host may do better. */
export function isHostFailure(err: unknown): boolean {
  return classifyError(err).scope === 'host' || (err instanceof SmtpClientError && err.code === 'ESTREAM');
}

/**
 * A transaction failed: the outcome of its recipients (those still waiting, after a later one) when the host
 * is not to blame; deferred when it is (a first transaction's host failure goes to the next host instead).
 */
export function laterFailure(err: unknown, pending: readonly string[]): RecipientResult[] {
  const classification = classifyError(err);
  const kind = isHostFailure(err) ? 'deferred' : classification.kind;
  const outcome: DeliveryOutcome = { kind, response: classification.response };
  return pending.map((recipient) => ({ recipient, outcome }));
}

/** One transaction's recipients, replies and timing (transport.ts). */
export interface Transaction {
  readonly sent: readonly string[];
  readonly result: TransactionResult;
  readonly reused: boolean;
  readonly transmitMs: number;
  /** The session's TLS; absent in clear. */
  readonly tls?: TlsInfo;
}
