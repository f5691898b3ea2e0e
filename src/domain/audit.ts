import type { AttemptFate, MessageId } from './envelope.js';
import type { TlsDecision } from './tls.js';

/**
 * Where a recipient's delay went, ms (Postfix's `delays=a/b/c/d`): receiving
 * the message, waiting in the queue, setting up the connection (DNS, connect,
 * greeting, TLS, hosts that failed first), transmitting.
 */
export interface DelayParts {
  readonly beforeQueueMs: number;
  readonly queueMs: number;
  readonly connectMs: number;
  readonly transmitMs: number;
}

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
      /** The mail log's fields (absent from events made before it existed). */
      readonly to?: readonly string[];
      readonly client?: string;
      /** TLS protocol of the session (`TLSv1.3`), absent in clear. */
      readonly tls?: string;
      readonly user?: string;
      /** From DATA to the message being safe in the spool. */
      readonly receiptMs?: number;
    }
  | {
      readonly type: 'delivery.attempt';
      readonly id: MessageId;
      readonly recipients: readonly string[];
      readonly host: string;
    }
  | ({
      /** A host's outbound TLS decision: the policy that governed it and what came of it. */
      readonly type: 'delivery.tls';
      readonly id: MessageId;
      readonly domain: string;
    } & TlsDecision)
  | {
      readonly type: 'delivery.outcome';
      readonly id: MessageId;
      readonly recipient: string;
      readonly outcome: 'delivered' | 'deferred' | 'bounced';
      readonly response: string;
      readonly attempts: number;
      readonly durationMs: number;
      /** `bounced` split: `expired` when the queue lifetime ran out. */
      readonly fate?: AttemptFate;
      /** The host dialled, `name[address]:port`; absent when none was. */
      readonly relay?: string;
      /** Enhanced status code (`2.0.0`, `4.4.1`, `5.1.1`). */
      readonly dsn?: string;
      /** Since the message arrived. */
      readonly delayMs?: number;
      readonly delays?: DelayParts;
      /** When the message was received (ms since the epoch): the time in the queue is measured from here. */
      readonly receivedAt: number;
      /** The outbound TLS decision of the attempt's last host (MX mode). */
      readonly tls?: Pick<TlsDecision, 'policy' | 'result'>;
    }
  | {
      /** A message left the queue: every recipient finished, or it was deleted through the admin API. */
      readonly type: 'message.removed';
      readonly id: MessageId;
      readonly reason: 'finished' | 'deleted';
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
