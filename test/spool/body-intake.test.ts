/**
 * The file spool's body intake (src/spool/file/body-intake.ts) against real
 * files: a body stays in memory while it is at most the inline limit and the
 * shared budget has room, else it goes to an fsynced file in tmp/; a failed
 * read leaves no file and gives its bytes back to the budget.
 */
import { readFileSync, statSync, existsSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BodyIntake, discard, oneChunk } from '../../src/spool/file/body-intake.js';
import { SpoolError } from '../../src/spool/spool.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gp-intake-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function* chunks(...parts: string[]): AsyncGenerator<Buffer> {
  for (const part of parts) yield Buffer.from(part);
}

/** Yields `parts`, then fails as a broken client connection would. */
async function* failingAfter(...parts: string[]): AsyncGenerator<Buffer> {
  yield* chunks(...parts);
  throw new Error('connection reset');
}

async function collect(body: AsyncIterable<Buffer>): Promise<string> {
  const out: Buffer[] = [];
  for await (const c of body) out.push(c);
  return Buffer.concat(out).toString();
}

describe('body intake', () => {
  it('keeps a body of exactly the inline limit in memory, chunk by chunk, and writes no file', async () => {
    const intake = new BodyIntake(dir, 10, 100);
    const tmp = join(dir, 'a.eml');
    const got = await intake.receive(tmp, chunks('hello', 'world'));
    expect(got.size).toBe(10);
    expect(got.inline?.map(String)).toEqual(['hello', 'world']);
    expect(existsSync(tmp)).toBe(false);
  });

  it('writes a body one byte over the limit to its tmp file, whole, 0600, and keeps none of it in memory', async () => {
    const intake = new BodyIntake(dir, 10, 12);
    const tmp = join(dir, 'b.eml');
    const got = await intake.receive(tmp, chunks('hello', 'world', '!', ' and more'));
    expect(got).toEqual({ size: 20 });
    expect(readFileSync(tmp, 'utf8')).toBe('helloworld! and more');
    expect(statSync(tmp).mode & 0o777).toBe(0o600);
    // the 11 bytes read before the spill left the budget: 10 more still fit in 12
    expect((await intake.receive(join(dir, 'c.eml'), chunks('y'.repeat(10)))).inline).toBeDefined();
  });

  it('shares one budget across bodies held at once: the one that would pass it goes to disk until bytes are released', async () => {
    const intake = new BodyIntake(dir, 100, 30);
    const first = await intake.receive(join(dir, '1.eml'), chunks('a'.repeat(20)));
    expect(first.inline).toBeDefined();
    // 20 + 10 = 30 is still within the budget
    const second = await intake.receive(join(dir, '2.eml'), chunks('b'.repeat(10)));
    expect(second.inline).toBeDefined();
    const third = await intake.receive(join(dir, '3.eml'), chunks('c'));
    expect(third).toEqual({ size: 1 });
    expect(readFileSync(join(dir, '3.eml'), 'utf8')).toBe('c');
    // the spilled body gave its reservation back at once; the committed ones give theirs with release
    intake.release(20);
    const fourth = await intake.receive(join(dir, '4.eml'), chunks('d'.repeat(20)));
    expect(fourth.inline?.map(String)).toEqual(['d'.repeat(20)]);
  });

  it('never lets a release push the budget below nothing', async () => {
    const intake = new BodyIntake(dir, 100, 30);
    intake.release(1000);
    // with a negative count, 31 bytes would have seemed to fit
    expect(await intake.receive(join(dir, 'e.eml'), chunks('e'.repeat(31)))).toEqual({ size: 31 });
  });

  it('gives a failed body’s bytes back to the budget and leaves no tmp file, in memory or spilled', async () => {
    const intake = new BodyIntake(dir, 10, 30);
    await expect(intake.receive(join(dir, 'f.eml'), failingAfter('f'.repeat(30)))).rejects.toThrow('connection reset');
    expect(existsSync(join(dir, 'f.eml'))).toBe(false);
    await expect(intake.receive(join(dir, 'g.eml'), failingAfter('g'.repeat(5)))).rejects.toThrow('connection reset');
    // both reservations were given back: the whole budget is free again
    const inline = new BodyIntake(dir, 100, 30);
    await expect(inline.receive(join(dir, 'h.eml'), failingAfter('h'.repeat(30)))).rejects.toThrow();
    expect((await inline.receive(join(dir, 'i.eml'), chunks('i'.repeat(30)))).inline).toBeDefined();
  });

  it('makes tmp/ again when it was removed under it', async () => {
    const tmpDir = join(dir, 'tmp');
    const intake = new BodyIntake(tmpDir, 4, 100);
    const got = await intake.receive(join(tmpDir, 'j.eml'), chunks('spilled body'));
    expect(got).toEqual({ size: 12 });
    expect(readFileSync(join(tmpDir, 'j.eml'), 'utf8')).toBe('spilled body');
    expect(statSync(tmpDir).mode & 0o777).toBe(0o700);
  });

  it('answers a file-system failure with a SpoolError naming it, and an existing tmp name is not overwritten', async () => {
    const notDir = join(dir, 'plain-file');
    writeFileSync(notDir, 'x');
    const intake = new BodyIntake(notDir, 4, 100);
    const error = await intake.receive(join(notDir, 'k.eml'), chunks('spilled body')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpoolError);
    expect((error as Error).message).toMatch(/^spool storage failed: .*ENOTDIR/);
    // 'wx': a second body never writes over a tmp file that is already there
    const taken = join(dir, 'taken.eml');
    writeFileSync(taken, 'someone else');
    const again = new BodyIntake(dir, 4, 100);
    await expect(again.receive(taken, chunks('spilled body'))).rejects.toThrow(/EEXIST/);
  });

  it('lets the client’s own error through as it is', async () => {
    const intake = new BodyIntake(dir, 4, 100);
    const error = await intake.receive(join(dir, 'l.eml'), failingAfter('spilled body')).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(SpoolError);
    expect((error as Error).message).toBe('connection reset');
  });
});

describe('intake helpers', () => {
  it('oneChunk yields the buffer once, then ends', async () => {
    const body = oneChunk(Buffer.from('only'));
    expect(await collect(body)).toBe('only');
    const it = body[Symbol.asyncIterator]();
    expect(await it.next()).toEqual({ done: false, value: Buffer.from('only') });
    expect(await it.next()).toEqual({ done: true, value: undefined });
  });

  it('discard removes every file given and ignores the ones already gone', async () => {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    writeFileSync(a, '1');
    writeFileSync(b, '2');
    await discard(a, join(dir, 'missing'), b);
    expect(existsSync(a)).toBe(false);
    expect(existsSync(b)).toBe(false);
  });
});
