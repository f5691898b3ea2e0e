/**
 * Delivery status notifications (RFC 3464, RFC 3462 `multipart/report`):
 * a human part, the `message/delivery-status` part, and the original
 * message's header block as `text/rfc822-headers` (read from the stored
 * body without reading the rest of it). Sent from `MAILER-DAEMON@hostname`
 * with the null envelope sender, so a bounce never bounces.
 */
import type { Envelope, MessageId } from '../domain/envelope.js';
import { headerBlockEnd } from '../mail/header-block.js';

/** Never bounce a null-sender message (it is itself a bounce), nor when SMTP_BOUNCES=false. */
export function shouldBounce(sender: string, bouncesEnabled: boolean): boolean {
  return bouncesEnabled && sender.trim() !== '' && sender.trim() !== '<>';
}

export interface DsnRecipient {
  readonly recipient: string;
  /** The last response kept for the recipient (server reply or our own `x.y.z text`). */
  readonly response: string;
  /** Bounced because SMTP_QUEUE_LIFETIME_HOURS ran out (not a 5xx). */
  readonly expired: boolean;
  readonly lastAttemptAt: number;
}

export interface DsnInput {
  readonly hostname: string;
  readonly queueId: MessageId;
  /** The original envelope sender: the bounce's only recipient. */
  readonly sender: string;
  readonly arrivalDate: number;
  readonly now: number;
  readonly recipients: readonly DsnRecipient[];
  /** The original header block (no blank line), as read by `readHeaderBlock`. */
  readonly originalHeaders: Buffer;
  /** Unique token for the Message-ID and MIME boundary. */
  readonly token: string;
  /** Queue lifetime in hours, for the human text of expired recipients. */
  readonly lifetimeHours?: number;
}

export interface Dsn {
  readonly envelope: Envelope;
  readonly body: Buffer;
}

const CRLF = '\r\n';
const MAX_LINE = 900;

/** RFC 5322 date in UTC, `+0000` rather than the obsolete `GMT`. */
export function rfc5322Date(ms: number): string {
  return new Date(ms).toUTCString().replace(/GMT$/, '+0000');
}

/**
 * RFC 3463 status for a failed recipient: the reply's enhanced code, else
 * one derived from the basic code; `5.4.7` for an expired queue lifetime.
 * A transient class is raised to 5 (the recipient has failed for good).
 */
export function dsnStatus(response: string, expired: boolean): string {
  if (expired) return '5.4.7';
  const text = response.trim();
  const enhanced = /^(?:\d{3}[ -])?([245])\.(\d{1,3})\.(\d{1,3})\b/.exec(text);
  return enhanced ? `5.${enhanced[2]}.${enhanced[3]}` : '5.0.0';
}

/** `smtp; <reply>` for server replies, `x-gopherpost; <text>` for our own verdicts (DNS, null MX …). */
export function diagnosticCode(response: string): string {
  const text = response
    .replace(/[\r\n]+/g, ' ')
    .trim()
    .slice(0, MAX_LINE);
  return /^\d{3}\b/.test(text) ? `smtp; ${text}` : `x-gopherpost; ${text}`;
}

/**
 * Reads the header block of a stored message: everything before the first
 * empty line, at most `maxBytes` (cut at a line end). Stops reading there,
 * so a 10 MiB body is never read whole; the iterator is closed.
 */
export async function readHeaderBlock(body: AsyncIterable<Buffer>, maxBytes = 64 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    length += chunk.length;
    const soFar = Buffer.concat(chunks, length);
    const end = headerBlockEnd(soFar);
    if (end >= 0) return soFar.subarray(0, Math.min(end, maxBytes));
    if (length >= maxBytes) return cutAtLine(soFar.subarray(0, maxBytes));
  }
  const all = Buffer.concat(chunks, length);
  const end = headerBlockEnd(all);
  return end >= 0 ? all.subarray(0, end) : all;
}

function cutAtLine(buf: Buffer): Buffer {
  const last = buf.lastIndexOf('\n');
  return buf.subarray(0, last + 1);
}

function isAscii(text: string | Buffer): boolean {
  const buf = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  return buf.every((b) => b < 0x80);
}

/** Lines normalised to CRLF, ending with CRLF. */
function crlfLines(buf: Buffer): Buffer {
  const text = buf.toString('latin1').replace(/\r?\n/g, CRLF);
  return Buffer.from(text.endsWith(CRLF) || text === '' ? text : text + CRLF, 'latin1');
}

function humanText(input: DsnInput): string {
  const lines = [
    `This is the mail system at host ${input.hostname}.`,
    '',
    "I'm sorry to have to inform you that your message could not",
    'be delivered to one or more recipients. It is attached below.',
    '',
    'For further assistance, please send mail to postmaster.',
    '',
    'If you do so, please include this problem report. You can',
    'delete your own text from the attached returned message.',
    '',
    '                   The mail system',
    '',
  ];
  for (const r of input.recipients) {
    const why = r.expired
      ? `delivery time expired (message older than ${input.lifetimeHours ?? '?'} hours); last response: ${r.response}`
      : r.response;
    lines.push(`<${r.recipient}>: ${why.replace(/[\r\n]+/g, ' ').slice(0, MAX_LINE)}`, '');
  }
  return lines.join(CRLF);
}

function deliveryStatus(input: DsnInput): string {
  const perMessage = [
    `Reporting-MTA: dns; ${input.hostname}`,
    `X-GopherPost-Queue-ID: ${input.queueId}`,
    `Arrival-Date: ${rfc5322Date(input.arrivalDate)}`,
  ];
  const perRecipient = input.recipients.map((r) =>
    [
      `Final-Recipient: rfc822; ${r.recipient}`,
      'Action: failed',
      `Status: ${dsnStatus(r.response, r.expired)}`,
      `Diagnostic-Code: ${diagnosticCode(r.response)}`,
      `Last-Attempt-Date: ${rfc5322Date(r.lastAttemptAt)}`,
    ].join(CRLF),
  );
  return [perMessage.join(CRLF), ...perRecipient].join(CRLF + CRLF) + CRLF;
}

/** Builds the bounce: its envelope (from `<>` to the original sender) and bytes. */
export function buildDsn(input: DsnInput): Dsn {
  const boundary = `=_gopherpost_${input.token}`;
  const human = humanText(input);
  const status = deliveryStatus(input);
  const headers = crlfLines(input.originalHeaders);
  const head = [
    `From: Mail Delivery System <MAILER-DAEMON@${input.hostname}>`,
    `To: <${input.sender}>`,
    'Subject: Undelivered Mail Returned to Sender',
    `Date: ${rfc5322Date(input.now)}`,
    `Message-ID: <${input.token}@${input.hostname}>`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status;${CRLF} boundary="${boundary}"`,
    '',
    'This is a MIME-encapsulated message.',
    '',
  ].join(CRLF);
  const part = (contentType: string, content: string | Buffer): Buffer => {
    const cte = isAscii(content) ? '7bit' : '8bit';
    return Buffer.concat([
      Buffer.from(
        `--${boundary}${CRLF}Content-Type: ${contentType}${CRLF}Content-Transfer-Encoding: ${cte}${CRLF}${CRLF}`,
      ),
      typeof content === 'string' ? Buffer.from(content, 'utf8') : content,
      Buffer.from(CRLF),
    ]);
  };
  const body = Buffer.concat([
    Buffer.from(head + CRLF),
    part('text/plain; charset=utf-8', human),
    part('message/delivery-status', status),
    part('text/rfc822-headers', headers),
    Buffer.from(`--${boundary}--${CRLF}`),
  ]);
  const envelope: Envelope = {
    sender: '',
    recipients: [input.sender],
    clientAddress: '127.0.0.1',
    heloName: input.hostname,
    receivedAt: input.now,
  };
  return { envelope, body };
}
