/**
 * SMTP replies from the bytes a server sends (RFC 5321 §4.2), incrementally:
 * `push` takes whatever arrived and returns the replies it completed. A
 * reply is one or more lines `ddd-text` ending with `ddd text` (or `ddd`);
 * lines end with CRLF (a bare LF is tolerated). A line that is not a reply
 * line, or longer than `maxLine`, is a protocol error.
 */

export interface Reply {
  readonly code: number;
  /** The text of each line, without the code and separator. */
  readonly lines: readonly string[];
}

export class ReplyError extends Error {
  override readonly name = 'ReplyError';
}

/** The reply as one line, as it is kept in a recipient's state: `250 2.0.0 Ok: queued as X`. */
export function replyText(reply: Reply): string {
  const text = reply.lines.join(' ').trim();
  return text === '' ? String(reply.code) : `${reply.code} ${text}`;
}

export class ReplyReader {
  private partial = '';
  private lines: string[] = [];
  private code = 0;

  constructor(private readonly maxLine = 16 * 1024) {}

  /** Replies completed by `data` (several when a server answers pipelined commands at once). */
  push(data: Buffer): Reply[] {
    const out: Reply[] = [];
    let text = this.partial + data.toString('latin1');
    let start = 0;
    for (let lf = text.indexOf('\n'); lf >= 0; lf = text.indexOf('\n', start)) {
      // a CR before the LF belongs to the line end (the character before an empty line's LF is the last LF)
      const end = text.charCodeAt(lf - 1) === 13 ? lf - 1 : lf;
      const reply = this.line(text.slice(start, end));
      if (reply) out.push(reply);
      start = lf + 1;
    }
    text = text.slice(start);
    if (text.length > this.maxLine) throw new ReplyError(`reply line longer than ${this.maxLine} bytes`);
    this.partial = text;
    return out;
  }

  private line(line: string): Reply | undefined {
    if (line.length > this.maxLine) throw new ReplyError(`reply line longer than ${this.maxLine} bytes`);
    const code = /^[2-5]\d\d/.test(line) ? Number(line.slice(0, 3)) : 0;
    const separator = line.charAt(3);
    if (code === 0 || (separator !== '' && separator !== ' ' && separator !== '-')) {
      throw new ReplyError(`not an SMTP reply: ${JSON.stringify(line.slice(0, 80))}`);
    }
    if (this.lines.length > 0 && code !== this.code)
      throw new ReplyError(`reply code changed within a multi-line reply: ${line.slice(0, 80)}`);
    this.code = code;
    this.lines.push(line.slice(4));
    if (separator === '-') return undefined;
    const reply: Reply = { code, lines: this.lines };
    this.lines = [];
    return reply;
  }
}
