/**
 * The active window (Postfix's active queue): messages claimed from the spool
 * and not yet released, bounded in messages and in recipients so memory
 * follows the work in flight. A message is admitted with the number of jobs
 * it was split into and leaves once each has settled (recorded, skipped or
 * dropped); the latest `notBefore` any of them asked for goes with its
 * release.
 */
import type { MessageId } from '../domain/envelope.js';

export interface WindowLimits {
  readonly messages: number;
  readonly recipients: number;
}

interface Open {
  jobs: number;
  readonly recipients: number;
  notBefore: number | undefined;
}

export class MessageWindow {
  private readonly open = new Map<MessageId, Open>();
  private recipientCount = 0;

  constructor(private readonly limits: WindowLimits) {}

  /** How many more messages may be claimed now. */
  room(): number {
    if (this.recipientCount >= this.limits.recipients) return 0;
    return Math.max(0, this.limits.messages - this.open.size);
  }

  get messages(): number {
    return this.open.size;
  }

  get recipients(): number {
    return this.recipientCount;
  }

  admit(id: MessageId, jobs: number, recipients: number): void {
    this.open.set(id, { jobs, recipients, notBefore: undefined });
    this.recipientCount += recipients;
  }

  /**
   * One job of `id` settled. Returns the message's release when it was the
   * last one (`notBefore`: the latest any job asked for), else undefined.
   */
  settle(id: MessageId, notBefore?: number): { readonly notBefore: number | undefined } | undefined {
    const entry = this.open.get(id);
    if (!entry) return undefined;
    if (notBefore !== undefined) entry.notBefore = Math.max(entry.notBefore ?? -Infinity, notBefore);
    entry.jobs -= 1;
    if (entry.jobs > 0) return undefined;
    this.open.delete(id);
    this.recipientCount -= entry.recipients;
    return { notBefore: entry.notBefore };
  }

  /** Every message still open (stop: released as they are). */
  drain(): MessageId[] {
    const ids = [...this.open.keys()];
    this.open.clear();
    this.recipientCount = 0;
    return ids;
  }
}
