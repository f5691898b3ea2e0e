/**
 * Streaming steps for a message's body, and its trace header.
 *
 * Owns: the size limit while streaming, the Received:/Message-ID: lines.
 * In:   the body as an AsyncIterable of chunks; the facts of this hop.
 * Out:  the body passed through (or SizeLimitError past the limit), with the
 *       trace lines prepended; the Received: value.
 */
import { rewriteHeaderBlock } from '../mail/header-block.js';
import { pooledRandomBytes } from '../spool/random-pool.js';

/** The message went over SMTP_MAX_MESSAGE_BYTES while streaming. */
export class SizeLimitError extends Error {
  override readonly name = 'SizeLimitError';
}

/** Passes bytes through and fails as soon as more than `max` have arrived. */
export async function* limitSize(source: AsyncIterable<Buffer>, max: number): AsyncGenerator<Buffer> {
  let seen = 0;
  for await (const chunk of source) {
    seen += chunk.length;
    if (seen > max) throw new SizeLimitError(`message exceeds ${max} bytes`);
    yield chunk;
  }
}

export interface TraceInfo {
  /** The Received: header value (without the name), already folded. */
  readonly received: string;
  /** Domain for a generated Message-ID. */
  readonly hostname: string;
}

/** The header block is searched for a Message-ID within this many bytes. */
const HEADER_SCAN_LIMIT = 256 * 1024;
const MESSAGE_ID = /(?:^|\n)message-id[ \t]*:/i;

/**
 * Prepends `Received:` and, when the header block has none, `Message-ID:`.
 * Only the header block is held (up to 256 KiB); the body streams through.
 */
export function addTraceHeaders(source: AsyncIterable<Buffer>, trace: TraceInfo): AsyncGenerator<Buffer> {
  return rewriteHeaderBlock(source, HEADER_SCAN_LIMIT, (head, end) => [
    traceBlock(trace, head.subarray(0, end >= 0 ? end : head.length)),
    head,
  ]);
}

function traceBlock(trace: TraceInfo, headers: Buffer): Buffer {
  let block = `Received: ${trace.received}\r\n`;
  if (!MESSAGE_ID.test(headers.toString('latin1'))) {
    block += `Message-ID: <${pooledRandomBytes(12).toString('hex')}@${trace.hostname}>\r\n`;
  }
  return Buffer.from(block, 'utf8');
}

/** RFC 5322 date-time, e.g. `Tue, 24 Nov 2026 21:41:59 +0000`. */
export function rfc5322Date(at: number): string {
  const d = new Date(at);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]}, ${d.getUTCDate()} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

export interface ReceivedFields {
  readonly heloName: string;
  readonly clientHostname: string | undefined;
  readonly clientAddress: string;
  readonly hostname: string;
  readonly protocol: string; // ESMTP, ESMTPS, ESMTPSA, SMTP…
  readonly sessionId: string;
  readonly recipient: string | undefined; // only for single-recipient messages
  readonly at: number;
}

/** The Received: value (RFC 5321 §4.4), folded; names are sanitised so nothing can inject lines. */
export function receivedValue(f: ReceivedFields): string {
  const clean = (s: string): string => s.replace(/[^\x21-\x7e]/g, '').slice(0, 255);
  const from = clean(f.heloName) || 'unknown';
  const reverse = f.clientHostname ? `${clean(f.clientHostname)} ` : '';
  const forPart = f.recipient ? `\r\n\tfor <${clean(f.recipient)}>` : '';
  return `from ${from} (${reverse}[${clean(f.clientAddress)}])\r\n\tby ${clean(f.hostname)} (GopherPost) with ${f.protocol} id ${clean(f.sessionId)}${forPart};\r\n\t${rfc5322Date(f.at)}`;
}
