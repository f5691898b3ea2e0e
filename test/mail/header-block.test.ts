import { describe, expect, it } from 'vitest';
import { headerBlockEnd, rewriteHeaderBlock } from '../../src/mail/header-block.js';

async function collect(source: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of source) parts.push(part);
  return Buffer.concat(parts).toString('latin1');
}

async function* chunks(text: string, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < text.length; i += size) yield Buffer.from(text.slice(i, i + size), 'latin1');
}

describe('header block (§3, §4, §5)', () => {
  it.each([
    ['A: 1\r\nB: 2\r\n\r\nbody', 12],
    ['A: 1\nB: 2\n\nbody', 10],
    ['\r\nbody only', 0],
    ['\nbody only', 0],
    ['A: 1\r\nno end yet', -1],
  ])('headerBlockEnd(%j) = %i', (text, end) => {
    expect(headerBlockEnd(Buffer.from(text))).toBe(end);
  });

  it('holds the block across chunks, rewrites it once, streams the rest untouched', async () => {
    const seen: [string, number][] = [];
    const out = await collect(
      rewriteHeaderBlock(chunks('A: 1\r\nB: 2\r\n\r\nbody\r\n', 3), 1024, (head, end) => {
        seen.push([head.toString(), end]);
        return [Buffer.from('X: 0\r\n'), head];
      }),
    );
    expect(out).toBe('X: 0\r\nA: 1\r\nB: 2\r\n\r\nbody\r\n');
    expect(seen).toHaveLength(1);
    expect(seen[0]?.[1]).toBe(12);
  });

  it('gives up holding at the limit (end -1), and treats a stream that ends first as all header', async () => {
    const ends: number[] = [];
    const rewrite = (head: Buffer, end: number): Buffer[] => (ends.push(end), [head]);
    expect(await collect(rewriteHeaderBlock(chunks('A'.repeat(100), 10), 30, rewrite))).toBe('A'.repeat(100));
    expect(await collect(rewriteHeaderBlock(chunks('A: 1\r\n', 2), 30, rewrite))).toBe('A: 1\r\n');
    expect(ends).toEqual([-1, 6]);
  });
});
