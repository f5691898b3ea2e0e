import type { EnvelopeDsn } from './dsn.js';

/** Opaque message identifier: 20 lowercase base32 characters, safe in file names. */
export type MessageId = string;

/** What the SMTP session learnt about a message before DATA. */
export interface Envelope {
  /** Envelope sender; the empty string is the null sender `<>`. */
  readonly sender: string;
  /** Envelope recipients in RCPT order, case kept. */
  readonly recipients: readonly string[];
  /** Client IP address. */
  readonly clientAddress: string;
  /** HELO/EHLO name the client gave. */
  readonly heloName: string;
  /** Authenticated user, when the session authenticated. */
  readonly user?: string;
  /** Acceptance time, ms since the epoch. */
  readonly receivedAt: number;
  /** DSN parameters (RFC 3461); absent when the client gave none (and on records kept before DSN). */
  readonly dsn?: EnvelopeDsn;
  /**
   * `tls-report`: a TLS-RPT report this daemon made (RFC 8460 §5.3: delivered despite TLS failures, its sessions not
   * reported). Never set from SMTP.
   */
  readonly origin?: 'tls-report';
  /**
   * MAIL FROM carried REQUIRETLS (RFC 8689): the message goes on only over TLS that authenticates the next
   * hop, to a server that offers REQUIRETLS. Absent when not asked (and on records kept before it).
   */
  readonly requireTls?: true;
}

/**
 * The envelope of mail the daemon writes itself (delivery reports, TLS
 * reports): from the null sender, so it never bounces, to one address, as if
 * received from this host at `now`.
 */
export function ownMailEnvelope(to: string, hostname: string, now: number, origin?: Envelope['origin']): Envelope {
  const envelope: Envelope = {
    sender: '',
    recipients: [to],
    clientAddress: '127.0.0.1',
    heloName: hostname,
    receivedAt: now,
  };
  return origin === undefined ? envelope : { ...envelope, origin };
}

export type RecipientStatus = 'queued' | 'deferred' | 'delivered' | 'bounced';

/** Durable per-recipient delivery state. */
export interface RecipientState {
  readonly recipient: string;
  readonly status: RecipientStatus;
  readonly attempts: number;
  /** Next attempt time (ms since the epoch); meaningful for queued/deferred. */
  readonly nextAttemptAt: number;
  readonly lastResponse?: string;
  readonly updatedAt: number;
  /** The last attempts, oldest first (at most `HISTORY_LIMIT`); absent on records kept before it existed. */
  readonly history?: readonly AttemptNote[];
  /** When the delay notice for this recipient was stored (ms since the epoch); absent until then. */
  readonly delayNoticeAt?: number;
}

/** How one attempt ended for one recipient: `expired` is a bounce because the queue lifetime ran out. */
export type AttemptFate = 'sent' | 'deferred' | 'bounced' | 'expired';

/**
 * One delivery attempt for one recipient, as the spool keeps it: short keys,
 * because a week of retries repeats it up to `HISTORY_LIMIT` times per recipient.
 */
export interface AttemptNote {
  /** When the attempt ended, ms since the epoch. */
  readonly t: number;
  readonly f: AttemptFate;
  /** The host dialled, `name[address]:port` (absent when none was: NXDOMAIN, a dead destination). */
  readonly h?: string;
  /** The remote reply, or our own reason. */
  readonly r: string;
  /** Delay since the message arrived, ms. */
  readonly d: number;
}

/** Most attempts kept per recipient: the newest ones. */
export const HISTORY_LIMIT = 20;

/** A message as the spool knows it: envelope, size and per-recipient state. */
export interface MessageRecord {
  readonly id: MessageId;
  readonly envelope: Envelope;
  /** Stored size in bytes (after trace headers were added). */
  readonly size: number;
  readonly recipients: readonly RecipientState[];
  /** When the spool had the whole body (ms since the epoch); `receivedAt` is when DATA began. */
  readonly queuedAt?: number;
}

export function isFinished(status: RecipientStatus): boolean {
  return status === 'delivered' || status === 'bounced';
}

/** Still to be delivered: queued or deferred. */
export function isWaiting(status: RecipientStatus): boolean {
  return status === 'queued' || status === 'deferred';
}

/** Domain part of an address, lower-cased (the local part keeps its case). */
export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : address.slice(at + 1).toLowerCase();
}
