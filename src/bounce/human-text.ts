/**
 * The human-readable first part of a report, and its Subject, per kind of
 * notice: a failure, a delay (a warning only), or a relay to a next hop that
 * does not report on delivery itself.
 */
import type { NoticeKind } from '../domain/dsn.js';
import { oneLine, type StatusRecipient } from './status-fields.js';

const CRLF = '\r\n';

export const SUBJECTS: Readonly<Record<NoticeKind, string>> = {
  failed: 'Undelivered Mail Returned to Sender',
  delayed: 'Delayed Mail (still being retried)',
  relayed: 'Successful Mail Delivery Report',
};

export interface HumanInput {
  readonly kind: NoticeKind;
  readonly hostname: string;
  readonly recipients: readonly StatusRecipient[];
  /** SMTP_QUEUE_LIFETIME_HOURS, for expired and delayed recipients. */
  readonly lifetimeHours?: number;
  /** How long the message has waited, hours (delayed reports). */
  readonly waitedHours?: number;
}

function intro(input: HumanInput): string[] {
  switch (input.kind) {
    case 'failed':
      return [
        "I'm sorry to have to inform you that your message could not",
        'be delivered to one or more recipients. It is attached below.',
        '',
        'For further assistance, please send mail to postmaster.',
        '',
        'If you do so, please include this problem report. You can',
        'delete your own text from the attached returned message.',
      ];
    case 'delayed':
      return [
        '####################################################################',
        '# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #',
        '####################################################################',
        '',
        `Your message could not be delivered for ${input.waitedHours ?? '?'} hours.`,
        `It will be retried until it is ${input.lifetimeHours ?? '?'} hours old.`,
      ];
    case 'relayed':
      return [
        'Your message was relayed to the destination(s) listed below,',
        'whose mail system does not report on delivery (no DSN). You',
        'will not hear from them again unless delivery fails later.',
      ];
  }
}

function why(input: HumanInput, r: StatusRecipient): string {
  if (input.kind === 'failed' && r.expired === true)
    return `delivery time expired (message older than ${input.lifetimeHours ?? '?'} hours); last response: ${r.response}`;
  return r.response;
}

export function humanText(input: HumanInput): string {
  const lines = [`This is the mail system at host ${input.hostname}.`, '', ...intro(input), ''];
  lines.push('                   The mail system', '');
  for (const r of input.recipients) lines.push(`<${r.recipient}>: ${oneLine(why(input, r))}`, '');
  return lines.join(CRLF);
}
