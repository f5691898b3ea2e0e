import type { MessageRecord, RecipientState } from './envelope.js';

/** Outcome of one delivery attempt for one recipient. Errors become values. */
export type DeliveryOutcome =
  | { readonly kind: 'delivered'; readonly response: string }
  | { readonly kind: 'deferred'; readonly response: string }
  | { readonly kind: 'failed'; readonly response: string };

/** A message claimed for delivery: its record and the recipients due now. */
export interface ClaimedMessage {
  readonly record: MessageRecord;
  /** Waiting recipients due at the claim, in RCPT order. */
  readonly due: readonly RecipientState[];
}
