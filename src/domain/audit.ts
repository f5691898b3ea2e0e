import type { MessageId } from './envelope.js';

/** Fields every audit record carries once published on the bus. */
export interface AuditMeta {
  /** Monotonic sequence number, used as the SSE `id:`. */
  readonly seq: number;
  /** ISO-8601 time. */
  readonly time: string;
}

/** Audit events: one typed union for everything the daemon reports. */
export type AuditEvent =
  | { readonly type: 'session.start'; readonly session: string; readonly client: string }
  | { readonly type: 'session.close'; readonly session: string; readonly client: string }
  | {
      readonly type: 'command';
      readonly session: string;
      readonly command: string;
      readonly reply: number;
    }
  | {
      readonly type: 'rejected';
      readonly session: string;
      readonly client: string;
      readonly stage: 'connect' | 'auth' | 'mail' | 'rcpt' | 'data';
      readonly code: number;
      readonly reason: string;
    }
  | {
      readonly type: 'message.stored';
      readonly session: string;
      readonly id: MessageId;
      readonly sender: string;
      readonly recipients: number;
      readonly size: number;
    }
  | {
      readonly type: 'delivery.attempt';
      readonly id: MessageId;
      readonly recipients: readonly string[];
      readonly host: string;
    }
  | {
      readonly type: 'delivery.outcome';
      readonly id: MessageId;
      readonly recipient: string;
      readonly outcome: 'delivered' | 'deferred' | 'bounced';
      readonly response: string;
      readonly attempts: number;
      readonly durationMs: number;
      /** When the message was received (ms since the epoch): the time in the queue is measured from here. */
      readonly receivedAt: number;
    }
  | {
      /** Every host of a destination failed a cohort of attempts in a row: its mail waits until `until`. */
      readonly type: 'destination.dead';
      readonly destination: string;
      readonly until: string;
      readonly reason: string;
    }
  | {
      readonly type: 'message.authenticated';
      readonly session: string;
      readonly spf: string;
      readonly dkim: readonly string[];
      readonly dmarc: string;
      readonly arc: string;
    }
  | { readonly type: 'config'; readonly key: string; readonly value: string };

export type AuditRecord = AuditEvent & AuditMeta;
