import { describe, expect, it } from 'vitest';
import {
  BareNewlineError,
  LineEndings,
  normalizeLineEndings,
  refuseBareNewlines,
} from '../../src/mail/line-endings.js';
import { seeded } from '../helpers/random.js';

/** The rule over a whole string: what the streaming transformer must give for any chunking. */
function reference(text: string): string {
  return text.replace(/\r\n|\r|\n/g, '\r\n');
}

function through(chunks: readonly string[]): { out: string; repaired: number } {
  const endings = new LineEndings();
  const out = [...chunks.map((c) => endings.push(Buffer.from(c, 'latin1'))), endings.end()];
  return { out: Buffer.concat(out).toString('latin1'), repaired: endings.repaired };
}

/** `text` cut at random places into chunks of 1-7 bytes. */
function randomChunks(text: string, random: () => number): string[] {
  const chunks: string[] = [];
  for (let at = 0; at < text.length;) {
    const size = 1 + Math.floor(random() * 7);
    chunks.push(text.slice(at, at + size));
    at += size;
  }
  return chunks;
}

async function collect(source: AsyncIterable<Buffer>): Promise<string> {
  const out: Buffer[] = [];
  for await (const chunk of source) out.push(chunk);
  return Buffer.concat(out).toString('latin1');
}

async function* chunksOf(parts: readonly string[]): AsyncGenerator<Buffer> {
  for (const part of parts) yield Buffer.from(part, 'latin1');
}

describe('LineEndings (SMTP_BARE_NEWLINE=normalize, outbound)', () => {
  it.each([
    ['CRLF lines', ['a\r\nb\r\n'], 'a\r\nb\r\n', 0],
    ['a lone LF', ['a\nb\r\n'], 'a\r\nb\r\n', 1],
    ['a lone CR', ['a\rb\r\n'], 'a\r\nb\r\n', 1],
    ['LF CR (two line ends)', ['a\n\rb'], 'a\r\n\r\nb', 2],
    ['CR CR LF', ['a\r\r\n'], 'a\r\n\r\n', 1],
    ['a CR ending one chunk and a LF starting the next: one CRLF', ['a\r', '\nb'], 'a\r\nb', 0],
    ['a CR ending one chunk and a letter starting the next', ['a\r', 'b'], 'a\r\nb', 1],
    ['a CR ending one chunk and a CR starting the next', ['a\r', '\rb'], 'a\r\n\r\nb', 2],
    ['a CR chunk between two LF chunks', ['a\n', '\r', '\n'], 'a\r\n\r\n', 1],
    ['a final lone CR', ['last\r'], 'last\r\n', 1],
    ['the smuggling end <CR>.<CR><LF>', ['a\r.\r\nMAIL FROM:<x@y>\r\n'], 'a\r\n.\r\nMAIL FROM:<x@y>\r\n', 1],
  ])('%s', (_name, chunks, expected, repaired) => {
    expect(through(chunks)).toEqual({ out: expected, repaired });
  });

  it('gives the same bytes as the rule over the whole message for 5,000 random messages in random chunks', () => {
    const random = seeded(15);
    const alphabet = ['.', '\r', '\n', 'a', '\r\n', '\r\n.', '\n.', '\r.', '\0'];
    for (let n = 0; n < 5_000; n++) {
      let text = '';
      const length = Math.floor(random() * 40);
      for (let i = 0; i < length; i++) text += alphabet[Math.floor(random() * alphabet.length)];
      const chunks = randomChunks(text, random);
      const { out } = through(chunks);
      expect(out, JSON.stringify(chunks)).toBe(reference(text));
      expect(out.replace(/\r\n/g, ''), JSON.stringify(chunks)).not.toMatch(/[\r\n]/);
    }
  });

  it('returns a chunk untouched when it needs no change (no copy), a trailing CR included', () => {
    const endings = new LineEndings();
    const clean = Buffer.from('Subject: x\r\n\r\nbody line\r\n');
    const crLast = Buffer.from('next line\r');
    const lfFirst = Buffer.from('\nmore\r\n');
    expect(endings.push(clean)).toBe(clean);
    expect(endings.push(crLast)).toBe(crLast);
    expect(endings.push(lfFirst)).toBe(lfFirst);
    expect(endings.end().length).toBe(0);
    expect(endings.repaired).toBe(0);
  });

  it('normalizeLineEndings streams the same rule, the LF of a final CR included', async () => {
    expect(await collect(normalizeLineEndings(chunksOf(['a\nb\r', 'c\r'])))).toBe('a\r\nb\r\nc\r\n');
  });
});

describe('refuseBareNewlines (SMTP_BARE_NEWLINE=reject)', () => {
  it('passes a clean message through as it is, a CRLF split over two chunks included', async () => {
    expect(await collect(refuseBareNewlines(chunksOf(['a\r', '\nb\r\n'])))).toBe('a\r\nb\r\n');
  });

  it.each([
    ['a lone LF', ['a\nb\r\n']],
    ['a lone CR', ['a\rb\r\n']],
    ['a lone CR at the end of a chunk', ['a\r', 'b\r\n']],
    ['a final lone CR', ['a\r']],
  ])('fails on %s', async (_name, chunks) => {
    await expect(collect(refuseBareNewlines(chunksOf(chunks)))).rejects.toBeInstanceOf(BareNewlineError);
  });
});
