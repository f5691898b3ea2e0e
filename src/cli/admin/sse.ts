/**
 * A Server-Sent Events parser for `gopherpost tail`.
 *
 * In: the response text in chunks as they arrive (a line may be split
 * between chunks). Out: the complete events (`id`, `event`, `data`), the
 * comments (`: …` lines, e.g. the stream's opening line and heartbeats) and
 * `retry` values, in order. Follows the WHATWG event-stream rules the
 * daemon's stream uses: LF, CRLF or CR line ends, `data` lines joined by LF,
 * a blank line dispatches.
 */

export type SseItem =
  | { readonly kind: 'event'; readonly id: string | undefined; readonly event: string; readonly data: string }
  | { readonly kind: 'comment'; readonly text: string }
  | { readonly kind: 'retry'; readonly ms: number };

export class SseParser {
  private buffer = '';
  private id: string | undefined;
  private event = '';
  private data: string[] = [];

  /** Parses what `chunk` completes; keeps a partial last line for the next call. */
  push(chunk: string): SseItem[] {
    let text = this.buffer + chunk;
    // a trailing CR may be the first half of a CRLF: hold it back with the partial line
    const held = text.endsWith('\r') ? '\r' : '';
    if (held) text = text.slice(0, -1);
    const lines = text.split(/\r\n|\r|\n/);
    this.buffer = (lines.pop() ?? '') + held;
    return lines.flatMap((line) => this.line(line));
  }

  private line(line: string): SseItem[] {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return [{ kind: 'comment', text: line.slice(1).trim() }];
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) return [{ kind: 'retry', ms: Number(value) }];
    return [];
  }

  private dispatch(): SseItem[] {
    const data = this.data;
    const event = this.event || 'message';
    this.data = [];
    this.event = '';
    if (data.length === 0) return [];
    return [{ kind: 'event', id: this.id, event, data: data.join('\n') }];
  }
}
