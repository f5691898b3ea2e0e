import { createRequire } from 'node:module';
import type { Transform } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DotStuffer } from '../../src/delivery/smtp/dot-stuff.js';
import { ReplyError, ReplyReader, replyText } from '../../src/delivery/smtp/reply.js';
import { seeded } from '../helpers/random.js';

// nodemailer's own DATA encoder, whose place DotStuffer takes: the reference.
const DataStream = createRequire(import.meta.url)(
  'nodemailer/lib/smtp-connection/data-stream.js',
) as new () => Transform;

function viaDataStream(chunks: readonly Buffer[]): Promise<Buffer> {
  const stream = new DataStream();
  const out: Buffer[] = [];
  stream.on('data', (c: Buffer) => out.push(c));
  return new Promise((resolve, reject) => {
    stream.on('end', () => resolve(Buffer.concat(out)));
    stream.on('error', reject);
    for (const c of chunks) stream.write(c);
    stream.end();
  });
}

function viaDotStuffer(chunks: readonly Buffer[]): Buffer {
  const stuffer = new DotStuffer();
  return Buffer.concat([...chunks.map((c) => stuffer.push(c)), stuffer.end()]);
}

describe('DotStuffer', () => {
  it.each([
    ['a plain line', 'hello\r\n', 'hello\r\n.\r\n'],
    ['a line starting with a dot', '.hidden\r\n', '..hidden\r\n.\r\n'],
    ['a lone dot line', 'a\r\n.\r\nb\r\n', 'a\r\n..\r\nb\r\n.\r\n'],
    ['bare LF line ends', 'a\nb\n', 'a\r\nb\r\n.\r\n'],
    ['a bare LF before a dot', 'a\n.b\n', 'a\r\n..b\r\n.\r\n'],
    ['no final line end', 'last', 'last\r\n.\r\n'],
    ['a final CR only', 'last\r', 'last\r\n.\r\n'],
    ['a bare CR line end', 'a\rb\r', 'a\r\nb\r\n.\r\n'],
    ['a bare CR before a dot (the smuggling end <CR>.<CR><LF>)', 'a\r.\r\nMAIL', 'a\r\n..\r\nMAIL\r\n.\r\n'],
    ['a bare LF before a lone dot', 'a\n.\nb', 'a\r\n..\r\nb\r\n.\r\n'],
    // nodemailer sends an empty message as one empty line (CRLF); we send it empty
    ['an empty message', '', '.\r\n'],
  ])('%s', (_name, input, wire) => {
    expect(viaDotStuffer([Buffer.from(input)]).toString('latin1')).toBe(wire);
  });

  // nodemailer leaves a bare CR as it is; we make it CRLF first, then its dot-stuffing is the reference
  it("writes what nodemailer's DataStream writes for the CRLF form, for 3,000 random messages in random chunks", async () => {
    const random = seeded(7);
    const alphabet = ['.', '\r', '\n', 'a', 'b', '\r\n', '\r\n.', '\n.', '..'];
    for (let n = 0; n < 3_000; n++) {
      let text = '';
      const length = Math.floor(random() * 60);
      for (let i = 0; i < length; i++) text += alphabet[Math.floor(random() * alphabet.length)];
      const bytes = Buffer.from(text, 'latin1');
      if (bytes.length === 0) continue; // the one intended difference (see above)
      const chunks: Buffer[] = [];
      for (let at = 0; at < bytes.length;) {
        const size = 1 + Math.floor(random() * 7);
        chunks.push(bytes.subarray(at, at + size));
        at += size;
      }
      const wire = viaDotStuffer(chunks);
      expect(wire, JSON.stringify(chunks.map((c) => c.toString('latin1')))).toEqual(
        await viaDataStream([Buffer.from(text.replace(/\r\n|\r|\n/g, '\r\n'), 'latin1')]),
      );
      expect(wire.toString('latin1').replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    }
  });

  it('returns a chunk untouched when it needs no change (no copy)', () => {
    const chunk = Buffer.from('Subject: x\r\n\r\nbody line\r\n');
    expect(new DotStuffer().push(chunk)).toBe(chunk);
  });
});

describe('ReplyReader', () => {
  it('reads single and multi-line replies, several at once and split anywhere', () => {
    const wire = '220 mx.test ESMTP\r\n250-mx.test\r\n250-PIPELINING\r\n250 SIZE 1000\r\n354 go on\r\n';
    for (let cut = 0; cut <= wire.length; cut++) {
      const reader = new ReplyReader();
      const replies = [...reader.push(Buffer.from(wire.slice(0, cut))), ...reader.push(Buffer.from(wire.slice(cut)))];
      expect(replies).toEqual([
        { code: 220, lines: ['mx.test ESMTP'] },
        { code: 250, lines: ['mx.test', 'PIPELINING', 'SIZE 1000'] },
        { code: 354, lines: ['go on'] },
      ]);
    }
  });

  it('takes bare LF line ends and a code without text', () => {
    expect(new ReplyReader().push(Buffer.from('250\n421 bye\n'))).toEqual([
      { code: 250, lines: [''] },
      { code: 421, lines: ['bye'] },
    ]);
  });

  it('refuses what is not SMTP: a non-reply line, a code change inside a reply, an endless line', () => {
    expect(() => new ReplyReader().push(Buffer.from('HTTP/1.1 400 Bad Request\r\n'))).toThrow(ReplyError);
    expect(() => new ReplyReader().push(Buffer.from('250-a\r\n251 b\r\n'))).toThrow(ReplyError);
    expect(() => new ReplyReader().push(Buffer.from('199 too low\r\n'))).toThrow(ReplyError);
    expect(() => new ReplyReader(100).push(Buffer.alloc(200, 'a'))).toThrow(ReplyError);
  });

  it('reads the code from the first three characters only, followed by a space, a dash or nothing', () => {
    for (const line of ['250x ok', '2500 ok', 'ab2 250 ok', '', ' 250 ok']) {
      expect(() => new ReplyReader().push(Buffer.from(`${line}\r\n`)), line).toThrow(ReplyError);
    }
    // an empty line at the very start, ended by a bare LF, is not a reply either
    expect(() => new ReplyReader().push(Buffer.from('\n250 ok\r\n'))).toThrow(ReplyError);
    expect(new ReplyReader().push(Buffer.from('250\r\n550-a\r\n550 b\r\n'))).toEqual([
      { code: 250, lines: [''] },
      { code: 550, lines: ['a', 'b'] },
    ]);
  });

  it('takes lines up to maxLine, whole or in parts, and says why it refuses', () => {
    const ten = '250 abcdef';
    expect(new ReplyReader(10).push(Buffer.from(`${ten}\r\n`))).toEqual([{ code: 250, lines: ['abcdef'] }]);
    const parts = new ReplyReader(10);
    expect(parts.push(Buffer.from(ten))).toEqual([]);
    expect(parts.push(Buffer.from('\r\n'))).toEqual([{ code: 250, lines: ['abcdef'] }]);
    expect(() => new ReplyReader(10).push(Buffer.from(`${ten}g\r\n`))).toThrow(
      new ReplyError('reply line longer than 10 bytes'),
    );
    expect(() => new ReplyReader(10).push(Buffer.from(`${ten}g`))).toThrow(
      new ReplyError('reply line longer than 10 bytes'),
    );
    const garbage = `HTTP/1.1 400 ${'x'.repeat(100)}`;
    const error = (() => {
      try {
        new ReplyReader().push(Buffer.from(`${garbage}\r\n`));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ReplyError);
    expect(String(error)).toBe(`ReplyError: not an SMTP reply: ${JSON.stringify(garbage.slice(0, 80))}`);
    const changed = `251 ${'y'.repeat(100)}`;
    expect(() => new ReplyReader().push(Buffer.from(`250-a\r\n${changed}\r\n`))).toThrow(
      new ReplyError(`reply code changed within a multi-line reply: ${changed.slice(0, 80)}`),
    );
  });

  it("gives the reply as one line for a recipient's state", () => {
    expect(replyText({ code: 250, lines: ['2.0.0 Ok: queued as X'] })).toBe('250 2.0.0 Ok: queued as X');
    expect(replyText({ code: 550, lines: ['5.1.1 no such user', 'really'] })).toBe('550 5.1.1 no such user really');
    expect(replyText({ code: 250, lines: [''] })).toBe('250');
    expect(replyText({ code: 250, lines: [' 2.0.0 spaced ', ''] })).toBe('250 2.0.0 spaced');
  });
});
