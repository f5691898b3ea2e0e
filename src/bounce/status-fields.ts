/**
 * The `message/delivery-status` part of a report (RFC 3464 §2): per-message
 * fields, then one block per recipient. Pure text, CRLF line ends.
 */
import type { NoticeKind } from '../domain/dsn.js';

const CRLF = '\r\n';
const MAX_LINE = 900;

/** RFC 5322 date in UTC, `+0000` rather than the obsolete `GMT`. */
export function rfc5322Date(ms: number): string {
  return new Date(ms).toUTCString().replace('GMT', '+0000'); // the only GMT is the zone at the end
}

/**
 * RFC 3463 status for a recipient's report: the class is the report's (5
 * failed, 4 delayed, 2 relayed), the detail is the reply's enhanced code, or
 * `x.0.0` without one; `5.4.7` for an expired queue lifetime.
 */
export function dsnStatus(response: string, expired: boolean, kind: NoticeKind = 'failed'): string {
  if (kind === 'failed' && expired) return '5.4.7';
  const cls = kind === 'failed' ? 5 : kind === 'delayed' ? 4 : 2;
  const enhanced = /^(?:\d{3}[ -])?([245])\.(\d{1,3})\.(\d{1,3})\b/.exec(response.trim());
  return enhanced ? `${cls}.${enhanced[2]}.${enhanced[3]}` : `${cls}.0.0`;
}

/** `smtp; <reply>` for server replies, `x-gopherpost; <text>` for our own verdicts (DNS, null MX …). */
export function diagnosticCode(response: string): string {
  const text = oneLine(response);
  return /^\d{3}\b/.test(text) ? `smtp; ${text}` : `x-gopherpost; ${text}`;
}

/** Text on one line, at most `MAX_LINE` characters. */
export function oneLine(text: string): string {
  return text
    .replace(/[\r\n]+/g, ' ')
    .trim()
    .slice(0, MAX_LINE);
}

export interface StatusRecipient {
  readonly recipient: string;
  /** The last response kept for the recipient (server reply or our own `x.y.z text`). */
  readonly response: string;
  /** Failed because SMTP_QUEUE_LIFETIME_HOURS ran out (not a 5xx). */
  readonly expired?: boolean;
  readonly lastAttemptAt: number;
  /** ORCPT as given (`addr-type;address`): the Original-Recipient field. */
  readonly orcpt?: string;
  /** The host that gave the response (its name), for Remote-MTA. */
  readonly remoteMta?: string;
}

export interface StatusInput {
  readonly kind: NoticeKind;
  readonly hostname: string;
  readonly queueId: string;
  readonly arrivalDate: number;
  /** ENVID as given with MAIL FROM. */
  readonly envid?: string;
  /** For delayed reports: when we give up (arrival + SMTP_QUEUE_LIFETIME_HOURS). */
  readonly willRetryUntil?: number;
  readonly recipients: readonly StatusRecipient[];
}

/** The fields of the `message/delivery-status` part. */
export function deliveryStatus(input: StatusInput): string {
  const perMessage = [
    ...(input.envid !== undefined ? [`Original-Envelope-Id: ${oneLine(input.envid)}`] : []),
    `Reporting-MTA: dns; ${input.hostname}`,
    `X-GopherPost-Queue-ID: ${input.queueId}`,
    `Arrival-Date: ${rfc5322Date(input.arrivalDate)}`,
  ];
  const perRecipient = input.recipients.map((r) =>
    [
      ...(r.orcpt !== undefined ? [`Original-Recipient: ${oneLine(r.orcpt)}`] : []),
      `Final-Recipient: rfc822; ${r.recipient}`,
      `Action: ${input.kind}`,
      `Status: ${dsnStatus(r.response, r.expired === true, input.kind)}`,
      ...(r.remoteMta !== undefined ? [`Remote-MTA: dns; ${r.remoteMta}`] : []),
      `Diagnostic-Code: ${diagnosticCode(r.response)}`,
      `Last-Attempt-Date: ${rfc5322Date(r.lastAttemptAt)}`,
      ...(input.kind === 'delayed' && input.willRetryUntil !== undefined
        ? [`Will-Retry-Until: ${rfc5322Date(input.willRetryUntil)}`]
        : []),
    ].join(CRLF),
  );
  return [perMessage.join(CRLF), ...perRecipient].join(CRLF + CRLF) + CRLF;
}
