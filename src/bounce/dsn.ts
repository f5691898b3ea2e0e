/**
 * Delivery status notifications (RFC 3464, RFC 3462 `multipart/report`):
 * a human part, the `message/delivery-status` part, and the original
 * message: its header block as `text/rfc822-headers` (read from the stored
 * body without reading the rest of it), or, for a failure whose sender
 * asked RET=FULL, the whole message as `message/rfc822`, streamed from the
 * spool. Sent from `MAILER-DAEMON@hostname` with the null envelope sender,
 * so a notice never bounces. The kinds: failed, delayed, relayed.
 */
import type { NoticeKind } from '../domain/dsn.js';
import { ownMailEnvelope, type Envelope, type MessageId } from '../domain/envelope.js';
import { headerBlockEnd } from '../mail/header-block.js';
import { humanText, SUBJECTS } from './human-text.js';
import { deliveryStatus, rfc5322Date, type StatusRecipient } from './status-fields.js';

export { diagnosticCode, dsnStatus, rfc5322Date } from './status-fields.js';

/** Never notify a null-sender message (it is itself a notice); failures not when SMTP_BOUNCES=false. */
export function shouldBounce(sender: string, bouncesEnabled: boolean): boolean {
  return bouncesEnabled && hasSender(sender);
}

/** The message has a sender a notice can go to (not `<>`). */
export function hasSender(sender: string): boolean {
  return sender.trim() !== '' && sender.trim() !== '<>';
}

export type DsnRecipient = StatusRecipient;

/** What of the original message the report carries. */
export type Returned =
  | { readonly kind: 'headers'; readonly headers: Buffer }
  | { readonly kind: 'full'; readonly message: AsyncIterable<Buffer> };

export interface DsnInput {
  readonly kind: NoticeKind;
  readonly hostname: string;
  readonly queueId: MessageId;
  /** The original envelope sender: the report's only recipient. */
  readonly sender: string;
  readonly arrivalDate: number;
  readonly now: number;
  readonly recipients: readonly DsnRecipient[];
  /** The original header block (no blank line), as read by `readHeaderBlock`, or the whole message. */
  readonly original: Returned;
  /** Unique token for the Message-ID and MIME boundary. */
  readonly token: string;
  /** Queue lifetime in hours, for the human text of expired and delayed recipients. */
  readonly lifetimeHours?: number;
  /** ENVID as given with MAIL FROM. */
  readonly envid?: string;
}

export interface Dsn {
  readonly envelope: Envelope;
  /** The report's bytes, streamed (the original message is read as it is sent on). */
  readonly body: AsyncIterable<Buffer>;
}

const CRLF = '\r\n';
const HOUR = 3_600_000;

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
  // no blank line in the whole message (each chunk was checked above): it is all header block
  return Buffer.concat(chunks, length);
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

function topHeaders(input: DsnInput, boundary: string): string {
  return [
    `From: Mail Delivery System <MAILER-DAEMON@${input.hostname}>`,
    `To: <${input.sender}>`,
    `Subject: ${SUBJECTS[input.kind]}`,
    `Date: ${rfc5322Date(input.now)}`,
    `Message-ID: <${input.token}@${input.hostname}>`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status;${CRLF} boundary="${boundary}"`,
    '',
    'This is a MIME-encapsulated message.',
    '',
    '',
  ].join(CRLF);
}

function partHead(boundary: string, contentType: string, cte: string): string {
  return `--${boundary}${CRLF}Content-Type: ${contentType}${CRLF}Content-Transfer-Encoding: ${cte}${CRLF}${CRLF}`;
}

function textPart(boundary: string, contentType: string, content: string | Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(partHead(boundary, contentType, isAscii(content) ? '7bit' : '8bit')),
    typeof content === 'string' ? Buffer.from(content, 'utf8') : content,
    Buffer.from(CRLF),
  ]);
}

async function* reportBytes(head: Buffer, original: Returned, boundary: string): AsyncGenerator<Buffer> {
  yield head;
  if (original.kind === 'headers') {
    yield textPart(boundary, 'text/rfc822-headers', crlfLines(original.headers));
  } else {
    // the whole message: labelled 8bit (true of 7-bit text too) so it is never read ahead to find out
    yield Buffer.from(partHead(boundary, 'message/rfc822', '8bit'));
    for await (const chunk of original.message) yield chunk;
    yield Buffer.from(CRLF);
  }
  yield Buffer.from(`--${boundary}--${CRLF}`);
}

/** Builds the report: its envelope (from `<>` to the original sender) and its bytes, streamed. */
export function buildDsn(input: DsnInput): Dsn {
  const boundary = `=_gopherpost_${input.token}`;
  const human = humanText({
    kind: input.kind,
    hostname: input.hostname,
    recipients: input.recipients,
    lifetimeHours: input.lifetimeHours,
    waitedHours: Math.floor(((input.now - input.arrivalDate) / HOUR) * 10) / 10,
  });
  const status = deliveryStatus({
    kind: input.kind,
    hostname: input.hostname,
    queueId: input.queueId,
    arrivalDate: input.arrivalDate,
    recipients: input.recipients,
    ...(input.envid === undefined ? {} : { envid: input.envid }),
    ...(input.lifetimeHours === undefined ? {} : { willRetryUntil: input.arrivalDate + input.lifetimeHours * HOUR }),
  });
  const head = Buffer.concat([
    Buffer.from(topHeaders(input, boundary)),
    textPart(boundary, 'text/plain; charset=utf-8', human),
    textPart(boundary, 'message/delivery-status', status),
  ]);
  return {
    envelope: ownMailEnvelope(input.sender, input.hostname, input.now),
    body: reportBytes(head, input.original, boundary),
  };
}
