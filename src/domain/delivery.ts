import type { MessageId } from './envelope.js';

/** Outcome of one delivery attempt for one recipient. Errors become values. */
export type DeliveryOutcome =
  | { readonly kind: 'delivered'; readonly response: string }
  | { readonly kind: 'deferred'; readonly response: string }
  | { readonly kind: 'failed'; readonly response: string };

/** A recipient that is due for an attempt. */
export interface DueRecipient {
  readonly id: MessageId;
  readonly recipient: string;
  readonly domain: string;
  readonly attempts: number;
  readonly receivedAt: number;
}
