/**
 * The DATA transparency rules (RFC 5321 §4.5.2) for a message sent in
 * chunks: every line ends in CRLF on the wire (a lone CR and a lone LF each
 * become CRLF, so no receiver can read an end of data we did not send), a
 * line starting with `.` gets another `.`, and `end` closes the data with
 * `<CRLF>.<CRLF>` (adding the missing CRLF of a last line).
 */
import { LineEndings } from '../../mail/line-endings.js';

const DOT_END = Buffer.from('.\r\n');
const CRLF_DOT_END = Buffer.from('\r\n.\r\n');

export class DotStuffer {
  private readonly endings = new LineEndings(true);

  /** The chunk as it goes on the wire (the same buffer when nothing needed changing). Looks only at line ends. */
  push(chunk: Buffer): Buffer {
    return this.endings.push(chunk);
  }

  /** The end of the data: `.<CRLF>` after a complete line, else the line's CRLF first. */
  end(): Buffer {
    const rest = this.endings.end(); // the LF of a final lone CR
    return Buffer.concat([rest, this.endings.atLineEnd ? DOT_END : CRLF_DOT_END]);
  }
}
