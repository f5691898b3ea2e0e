import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { feedDataStream, originalFeedDataStream, type DataModeParser } from '../../src/inbound/data-scan.js';

type Step = (this: DataModeParser, chunk: Buffer, done: () => void) => void;

interface Outcome {
  readonly emitted: string;
  readonly end: { readonly last: string | false; readonly remainder: string } | undefined;
  readonly counted: number;
  /** What was held back after each chunk, and each write to the data stream. */
  readonly held: (string | false)[];
  readonly writes: string[];
}

/** Feeds `chunks` to one DATA-mode step the way smtp-server's parser does, and records what comes out. */
async function feed(step: Step, chunks: readonly Buffer[], destroyAfter = Infinity): Promise<Outcome> {
  const out = new PassThrough({ highWaterMark: 8 }); // small: writes report backpressure and wait for 'drain'
  const emitted: Buffer[] = [];
  const writes: string[] = [];
  const held: (string | false)[] = [];
  out.on('data', (b: Buffer) => emitted.push(b));
  const write = out.write.bind(out);
  out.write = ((chunk: Buffer) => {
    writes.push(chunk.toString('latin1'));
    return write(chunk);
  }) as typeof out.write;
  let end: Outcome['end'];
  let counted = 0;
  const parser: DataModeParser = {
    _dataStream: out,
    _lastBytes: false,
    _atDataStart: true,
    _countDataBytes(length) {
      if (length) this._atDataStart = false;
      counted += length;
    },
    _endDataMode(last, remainder, done) {
      end = { last: last === false ? false : last.toString('latin1'), remainder: remainder.toString('latin1') };
      done();
    },
    _feedDataStream: step,
  };
  for (const [index, chunk] of chunks.entries()) {
    // the application may destroy the data stream (a size limit, a storage error): later writes must not wait for it
    if (index === destroyAfter) out.destroy();
    await new Promise<void>((resolve) => parser._feedDataStream(chunk, resolve));
    held.push(parser._lastBytes === false ? false : parser._lastBytes.toString('latin1'));
    if (end) break;
  }
  await new Promise((resolve) => setImmediate(resolve));
  return { emitted: Buffer.concat(emitted).toString('latin1'), end, counted, held, writes };
}

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const LINES = ['.', '..', '...', '.\r', 'text', '.text', '', 'a.b', '\n.', '\r\n.', '.\n', 'x\r', '\x00\xff', '. '];

function message(next: () => number): Buffer {
  const lines: string[] = [];
  const count = Math.floor(next() * 12);
  for (let i = 0; i < count; i++)
    lines.push((LINES[Math.floor(next() * LINES.length)] ?? '') + (next() < 0.2 ? '\n' : ''));
  const tail = next() < 0.8 ? '.\r\n' + (next() < 0.5 ? 'QUIT\r\n' : '') : '';
  return Buffer.from(lines.map((line) => `${line}\r\n`).join('') + tail, 'latin1');
}

function chunked(data: Buffer, next: () => number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < data.length;) {
    const size = 1 + Math.floor(next() * (next() < 0.5 ? 4 : data.length));
    chunks.push(data.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

/** Raw input from a tiny alphabet of the bytes that matter, with no line structure imposed. */
const PIECES = ['.', '\r', '\n', 'a', '\r\n', '\r\n.', '..', '\n..'];

function raw(next: () => number): Buffer {
  const count = 1 + Math.floor(next() * 16);
  return Buffer.from(
    Array.from({ length: count }, () => PIECES[Math.floor(next() * PIECES.length)] ?? '').join(''),
    'latin1',
  );
}

function small(data: Buffer, next: () => number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < data.length;) {
    const size = 1 + Math.floor(next() * 10);
    chunks.push(data.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

describe('DATA-mode scanning with a native search (§3)', () => {
  it('matches smtp-server byte for byte on raw input around dots, CR and LF in chunks of 1-10 bytes (held bytes and writes included)', async () => {
    for (let seed = 1; seed <= 4000; seed++) {
      const next = random(seed * 7919);
      const chunks = small(raw(next), next);
      const destroyAfter = seed % 4 === 0 ? Math.floor(next() * chunks.length) : Infinity;
      const ours = await feed(feedDataStream, chunks, destroyAfter);
      const theirs = await feed(originalFeedDataStream, chunks, destroyAfter);
      expect({ seed, ...ours }).toEqual({ seed, ...theirs });
    }
  });

  it('does exactly what smtp-server does on thousands of random messages and chunkings (dot lines, escapes, early terminators, bare LF)', async () => {
    for (let seed = 1; seed <= 3000; seed++) {
      const next = random(seed);
      const data = message(next);
      const chunks = chunked(data, next);
      const ours = await feed(feedDataStream, chunks);
      const theirs = await feed(originalFeedDataStream, chunks);
      expect({ seed, ...ours }).toEqual({ seed, ...theirs });
    }
  });

  it('unstuffs dots and stops at the terminator, with the end sequence split across chunks', async () => {
    const data = Buffer.from('Subject: x\r\n\r\n..leading dot\r\nbody\r\n.\r\nQUIT\r\n', 'latin1');
    const afterEnd = data.indexOf('\r\n.\r\n') + 5;
    for (let cut = 1; cut < data.length; cut++) {
      const outcome = await feed(feedDataStream, [data.subarray(0, cut), data.subarray(cut)]);
      expect(outcome.emitted + (outcome.end?.last || '')).toBe('Subject: x\r\n\r\n.leading dot\r\nbody\r\n');
      // what followed the terminator in the chunk that completed it (the rest was never fed)
      expect(outcome.end?.remainder).toBe(
        data.subarray(afterEnd, cut >= afterEnd ? cut : data.length).toString('latin1'),
      );
    }
  });

  it.each([
    ['<LF>.<LF>', '\n.\n'],
    ['<CR>.<CR>', '\r.\r'],
    ['<LF>.<CR><LF>', '\n.\r\n'],
    ['<CR>.<CR><LF>', '\r.\r\n'],
    ['<CR><LF>.<LF>', '\r\n.\n'],
    ['<CR><LF>.<CR>', '\r\n.\r'],
    ['<LF>.<CR>', '\n.\r'],
    ['<CR><LF><NUL>.<CR><LF>', '\r\n\0.\r\n'],
  ])(
    'an SMTP smuggling look-alike %s never ends DATA, however the chunks fall (ours and smtp-server)',
    async (_n, look) => {
      const content = `Subject: x\r\n\r\nbefore${look}MAIL FROM:<m@x.test>\r\nDATA\r\nsmuggled\r\n`;
      const data = Buffer.from(`${content}.\r\nQUIT\r\n`, 'latin1');
      const splits = [
        ...Array.from({ length: data.length - 1 }, (_, cut) => [data.subarray(0, cut + 1), data.subarray(cut + 1)]),
        [...data].map((byte) => Buffer.from([byte])),
      ];
      for (const step of [feedDataStream, originalFeedDataStream]) {
        for (const chunks of splits) {
          const outcome = await feed(step, chunks);
          expect(outcome.emitted + (outcome.end?.last || '')).toBe(content);
        }
      }
    },
  );

  it('a first line of "." ends DATA at once; a first line of ".." is a dot of content', async () => {
    expect((await feed(feedDataStream, [Buffer.from('.\r\nQUIT\r\n')])).end).toEqual({
      last: false,
      remainder: 'QUIT\r\n',
    });
    const escaped = await feed(feedDataStream, [Buffer.from('..\r\n.\r\n')]);
    expect(escaped.emitted + (escaped.end?.last || '')).toBe('.\r\n');
  });
});
