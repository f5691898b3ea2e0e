/**
 * Delivery status notification requests (RFC 3461) as the envelope keeps
 * them, and who asked for which notice. Types and small pure questions only.
 */

/** A NOTIFY keyword: NEVER alone, or any of the others. */
export type NotifyKeyword = 'NEVER' | 'SUCCESS' | 'FAILURE' | 'DELAY';

/** What a recipient's RCPT TO asked for (absent parts were not given). */
export interface RecipientDsn {
  /** NOTIFY, upper case, in the order given. */
  readonly notify?: readonly NotifyKeyword[];
  /** ORCPT, xtext-decoded: `addr-type;address` (e.g. `rfc822;bob@example.com`). */
  readonly orcpt?: string;
}

/** The DSN part of an envelope: MAIL FROM's RET and ENVID, and per recipient NOTIFY and ORCPT. */
export interface EnvelopeDsn {
  /** RET: the whole message (FULL) or its headers (HDRS) in a failure report. */
  readonly ret?: 'FULL' | 'HDRS';
  /** ENVID, xtext-decoded. */
  readonly envid?: string;
  /** Recipients that gave NOTIFY or ORCPT, by address as in the envelope's `recipients`. */
  readonly recipients?: Readonly<Record<string, RecipientDsn>>;
}

/** The notices this server sends: a failure, a delay, or a relay to a next hop without DSN. */
export type NoticeKind = 'failed' | 'delayed' | 'relayed';

/** What `recipient` asked for; `{}` when it gave nothing (or there is no DSN part). */
export function recipientDsn(dsn: EnvelopeDsn | undefined, recipient: string): RecipientDsn {
  const own = dsn?.recipients;
  return own !== undefined && Object.hasOwn(own, recipient) ? (own[recipient] ?? {}) : {};
}

/**
 * Whether `recipient` wants a notice of `kind` (RFC 3461 §4.1): NOTIFY=NEVER
 * wants none; without NOTIFY, failures and delays are reported (not
 * successes); otherwise only the keywords given.
 */
export function wantsNotice(dsn: EnvelopeDsn | undefined, recipient: string, kind: NoticeKind): boolean {
  const notify = recipientDsn(dsn, recipient).notify;
  if (notify === undefined) return kind !== 'relayed';
  const keyword: NotifyKeyword = kind === 'failed' ? 'FAILURE' : kind === 'delayed' ? 'DELAY' : 'SUCCESS';
  return notify.includes(keyword);
}
