/**
 * The DATA transparency rules (RFC 5321 §4.5.2) for a message sent in
 * chunks: a line starting with `.` gets another `.`, a bare LF becomes CRLF,
 * and `end` closes the data with `<CRLF>.<CRLF>` (adding the missing CRLF
 * of a last line). The same output as nodemailer's DataStream, whose place
 * this takes, without a stream per message.
 */
const DOT = 0x2e;
const LF = 0x0a;
const CR = 0x0d;
const CRLF = Buffer.from('\r\n');
const DOT_BYTE = Buffer.from('.');

export class DotStuffer {
  /** The last byte of the previous chunk (LF at the start: a message begins a line). */
  private last = LF;

  /** The chunk as it goes on the wire (the same buffer when nothing needed changing). Looks only at line ends. */
  push(chunk: Buffer): Buffer {
    if (chunk.length === 0) return chunk;
    let parts: Buffer[] | undefined;
    let from = 0;
    if (this.last === LF && chunk[0] === DOT) {
      parts = [DOT_BYTE]; // a line starting at this chunk's first byte
    }
    for (let lf = chunk.indexOf(LF); lf >= 0; lf = chunk.indexOf(LF, lf + 1)) {
      const bare = (lf === 0 ? this.last : chunk[lf - 1]) !== CR;
      const dot = chunk[lf + 1] === DOT;
      if (!bare && !dot) continue;
      parts ??= [];
      if (bare) {
        parts.push(chunk.subarray(from, lf), CRLF);
        from = lf + 1;
      }
      if (dot) {
        parts.push(chunk.subarray(from, lf + 2), DOT_BYTE);
        from = lf + 2;
      }
    }
    this.last = chunk[chunk.length - 1] ?? this.last;
    if (!parts) return chunk;
    parts.push(chunk.subarray(from));
    return Buffer.concat(parts);
  }

  /** The end of the data: `.<CRLF>` after a complete line, else the line's CRLF first. */
  end(): Buffer {
    return Buffer.from(this.last === LF ? '.\r\n' : this.last === CR ? '\n.\r\n' : '\r\n.\r\n');
  }
}
