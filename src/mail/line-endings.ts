/**
 * Line endings as SMTP wants them (RFC 5321 §2.3.8): every line ends in CRLF.
 *
 * Owns: the one rule for a lone CR or a lone LF — it becomes CRLF — applied
 *       to a message that arrives in chunks, and the dot-stuffing of
 *       RFC 5321 §4.5.2 that depends on where lines start.
 * In:   chunks of a message, in order, split anywhere (a CR at the end of one
 *       chunk and a LF at the start of the next are one CRLF).
 * Out:  the chunks with every line ending a CRLF (and, when stuffing, a
 *       second dot before a line's leading dot); the count of lone CRs and
 *       LFs that were repaired, for SMTP_BARE_NEWLINE=reject.
 *
 * Streaming and cheap on clean input: `Buffer#indexOf` finds each CR and LF
 * natively, and a chunk that needs no change is returned as it is (no copy).
 */
const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const CR_BYTE = Buffer.from('\r');
const LF_BYTE = Buffer.from('\n');
const DOT_BYTE = Buffer.from('.');
const EMPTY = Buffer.alloc(0);

export class LineEndings {
  /** Lone CRs and lone LFs seen so far (each one became a CRLF). */
  repaired = 0;
  /** The last byte pushed was a CR: the next chunk's first byte tells whether it was a lone one. */
  private cr = false;
  /** The next byte pushed starts a line. */
  private lineStart = true;
  /** Whether anything was pushed (an empty message has no line to end). */
  private started = false;

  /** @param stuffDots also double a dot that starts a line (the DATA transparency rule) */
  constructor(private readonly stuffDots = false) {}

  /** The chunk with its line endings made CRLF (the same buffer when nothing needed changing). */
  push(chunk: Buffer): Buffer {
    const len = chunk.length;
    if (len === 0) return chunk;
    this.started = true;
    let parts: Buffer[] | undefined;
    let from = 0;
    let start = 0; // where the first line of this chunk starts, when one does
    if (this.cr) {
      this.cr = false;
      if (chunk[0] === LF) start = 1;
      else {
        parts = [LF_BYTE]; // the previous chunk's CR was a lone one
        this.repaired += 1;
      }
      this.lineStart = true;
    }
    if (this.stuffDots && this.lineStart && chunk[start] === DOT) {
      parts ??= [];
      parts.push(chunk.subarray(from, start), DOT_BYTE);
      from = start;
    }
    let cr = chunk.indexOf(CR, start);
    let lf = chunk.indexOf(LF, start);
    while (cr !== -1 || lf !== -1) {
      let end: number; // the last byte of this line's ending
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        if (cr === len - 1) {
          this.cr = true; // the next chunk decides
          break;
        }
        if (lf === cr + 1) end = lf;
        else {
          parts ??= [];
          parts.push(chunk.subarray(from, cr + 1), LF_BYTE);
          from = cr + 1;
          end = cr;
          this.repaired += 1;
        }
      } else {
        // a LF right after a CR was taken with the CR above: this one is lone
        parts ??= [];
        parts.push(chunk.subarray(from, lf), CR_BYTE);
        from = lf;
        end = lf;
        this.repaired += 1;
      }
      const next = end + 1;
      if (this.stuffDots && chunk[next] === DOT) {
        parts ??= [];
        parts.push(chunk.subarray(from, next), DOT_BYTE);
        from = next;
      }
      if (cr !== -1 && cr <= end) cr = chunk.indexOf(CR, next);
      if (lf !== -1 && lf <= end) lf = chunk.indexOf(LF, next);
    }
    this.lineStart = !this.cr && chunk[len - 1] === LF;
    if (!parts) return chunk;
    parts.push(chunk.subarray(from));
    return Buffer.concat(parts);
  }

  /** What completes the message: the LF of a final lone CR, else nothing. */
  end(): Buffer {
    if (!this.cr) return EMPTY;
    this.cr = false;
    this.lineStart = true;
    this.repaired += 1;
    return Buffer.from(LF_BYTE);
  }

  /** Whether the bytes so far (after `end`) finish with a complete line, or are empty. */
  get atLineEnd(): boolean {
    return !this.started || this.lineStart;
  }
}

/** `source` with every lone CR and lone LF turned into CRLF (SMTP_BARE_NEWLINE=normalize, and outbound). */
export async function* normalizeLineEndings(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const endings = new LineEndings();
  for await (const chunk of source) {
    const out = endings.push(chunk);
    if (out.length > 0) yield out;
  }
  const last = endings.end();
  if (last.length > 0) yield last;
}

/** A lone CR or LF in a message under SMTP_BARE_NEWLINE=reject. */
export class BareNewlineError extends Error {
  override readonly name = 'BareNewlineError';
}

/** `source` as it is; fails at the first lone CR or LF (SMTP_BARE_NEWLINE=reject). */
export async function* refuseBareNewlines(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const endings = new LineEndings();
  for await (const chunk of source) {
    endings.push(chunk);
    if (endings.repaired > 0) throw new BareNewlineError('a line ends in a lone CR or LF');
    yield chunk;
  }
  endings.end();
  if (endings.repaired > 0) throw new BareNewlineError('a line ends in a lone CR or LF');
}
