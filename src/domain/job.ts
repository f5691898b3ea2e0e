import type { MessageRecord, RecipientState } from './envelope.js';

/**
 * One delivery job: due recipients of one message for one destination domain
 * (in relay mode: of the whole message), at most the destination recipient
 * limit of them, sent in one SMTP transaction.
 */
export interface DeliveryJob {
  readonly record: MessageRecord;
  /** Destination domain (lower-case); `''` for a relay job. */
  readonly domain: string;
  readonly recipients: readonly RecipientState[];
}
