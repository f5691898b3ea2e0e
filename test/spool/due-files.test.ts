/**
 * Loading the due journal (src/spool/file/due-files.ts) from real files: the
 * newest snapshot and the appended files after it, records split across the
 * start-up read's steps, a torn tail, and files older than the snapshot
 * removed.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MessageId } from '../../src/domain/envelope.js';
import { DueFiles } from '../../src/spool/file/due-files.js';
import { encodeJournalRecord } from '../../src/spool/file/due-journal.js';
import { joinId } from '../../src/spool/file/message-ids.js';

const t0 = Date.UTC(2026, 11, 7, 9, 0, 0);
let dir: string;
beforeEach(async () => {
  dir = join(await mkdtemp(join(tmpdir(), 'gp-due-files-')), 'due');
  await mkdir(dir);
});
afterEach(async () => {
  await rm(join(dir, '..'), { recursive: true, force: true });
});

const id = (n: number): MessageId => joinId(t0 + n, n + 1);
const set = (n: number): Buffer =>
  encodeJournalRecord({ kind: 'set', entry: { id: id(n), due: t0 + n, last: t0 + n, domains: [['x.test', 1]] } });
const drop = (n: number): Buffer => encodeJournalRecord({ kind: 'drop', id: id(n) });
const file = (n: number, base = false): string => join(dir, `${base ? 'base-' : ''}${String(n).padStart(12, '0')}.due`);

describe('loading the due journal', () => {
  it('applies the newest snapshot and the files appended after it, in order, and removes older ones', async () => {
    await writeFile(file(3, true), Buffer.concat([set(90), set(91)])); // an older snapshot
    await writeFile(file(4), set(92)); // appended before the newest snapshot
    await writeFile(file(5, true), Buffer.concat([set(1), set(2), set(3)]));
    await writeFile(file(5), Buffer.concat([drop(2), set(4)]));
    await writeFile(file(6), Buffer.concat([set(5), drop(4)]));
    const { files, index, exists } = await DueFiles.load(dir);
    expect(exists).toBe(true);
    expect([...index.entries()].map((e) => e.id).sort()).toEqual([id(1), id(3), id(5)].sort());
    expect(existsSync(file(3, true))).toBe(false);
    expect(existsSync(file(4))).toBe(false);
    expect(existsSync(file(5, true))).toBe(true);
    expect(files.path).toBe(file(7));
  });

  it('reads a journal longer than one read step, a record split across the steps included', async () => {
    const count = 120_000; // about 5 MiB of records: more than the 4 MiB read at a time
    await writeFile(file(1), Buffer.concat(Array.from({ length: count }, (_, n) => set(n))));
    const { index } = await DueFiles.load(dir);
    expect(index.size).toBe(count);
    expect(index.has(id(count - 1))).toBe(true);
  });

  it('stops at a torn record at the end and keeps everything before it', async () => {
    const torn = set(3).subarray(0, 7);
    await writeFile(file(1), Buffer.concat([set(1), set(2), torn]));
    const { index } = await DueFiles.load(dir);
    expect([...index.entries()].map((e) => e.id).sort()).toEqual([id(1), id(2)].sort());
  });

  it('says when there was no journal at all, and starts one', async () => {
    await rm(dir, { recursive: true });
    const { files, index, exists } = await DueFiles.load(dir);
    expect(exists).toBe(false);
    expect(index.size).toBe(0);
    expect(files.path).toBe(file(0));
  });
});
