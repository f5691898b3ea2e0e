/**
 * The header block of a message as bytes: where it ends, and a stream stage
 * that holds it (bounded) so a caller can rewrite it while the body streams.
 * Shared by the inbound trace headers, the removal of forged
 * Authentication-Results and the DSN's copy of the original headers.
 */

/**
 * Offset just past the header block's last line end (so the blank line that
 * ends the block starts there), 0 when the message starts with a blank line,
 * -1 when `data` holds no blank line yet. CRLF and bare LF both count.
 */
export function headerBlockEnd(data: Buffer): number {
  if (data[0] === 0x0a || (data[0] === 0x0d && data[1] === 0x0a)) return 0;
  const crlf = data.indexOf('\r\n\r\n');
  const lf = data.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return crlf + 2;
  return lf >= 0 ? lf + 1 : -1;
}

/**
 * Streams `source`, first holding its start until the header block ends or
 * `limit` bytes are held, and yields `rewrite(head, end)` in place of what was
 * held; everything after streams through. `end` is the header block's end in
 * `head` (`headerBlockEnd`), or -1 when the limit was reached first. A source
 * that ends first counts as all header (`end` = `head.length`). Empty
 * buffers are not yielded.
 */
export async function* rewriteHeaderBlock(
  source: AsyncIterable<Buffer>,
  limit: number,
  rewrite: (head: Buffer, end: number) => readonly Buffer[],
): AsyncGenerator<Buffer> {
  const held: Buffer[] = [];
  let heldBytes = 0;
  let passing = false;
  for await (const chunk of source) {
    if (passing) {
      yield chunk;
      continue;
    }
    held.push(chunk);
    heldBytes += chunk.length;
    const head = held.length === 1 ? chunk : Buffer.concat(held, heldBytes);
    const end = headerBlockEnd(head);
    if (end >= 0 || heldBytes >= limit) {
      passing = true;
      held.length = 0;
      for (const part of rewrite(head, end)) if (part.length > 0) yield part;
    }
  }
  if (!passing) {
    const head = Buffer.concat(held, heldBytes);
    for (const part of rewrite(head, head.length)) if (part.length > 0) yield part;
  }
}
