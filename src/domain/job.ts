import type { DueRecipient } from './delivery.js';
import type { MessageId } from './envelope.js';

/**
 * One delivery job: the due recipients of one message for one destination
 * domain (in relay mode: all due recipients of the message), sent in one
 * SMTP transaction.
 */
export interface DeliveryJob {
  readonly id: MessageId;
  /** Destination domain (lower-case); `''` groups a relay job. */
  readonly domain: string;
  readonly recipients: readonly DueRecipient[];
}
