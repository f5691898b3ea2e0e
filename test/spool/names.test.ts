/**
 * The names the file spool recognises, and nothing that merely contains one:
 * message ids and date folders (paths.ts), spare segments (io/spare-pool.ts),
 * due-journal files and their unfinished `.tmp` halves (due-files.ts).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DueFiles } from '../../src/spool/file/due-files.js';
import { SparePool } from '../../src/spool/file/io/spare-pool.js';
import { isDateDir, isMessageId, segmentSeq } from '../../src/spool/file/paths.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gp-names-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('names the file spool recognises', () => {
  it('message ids: twenty lower-case letters and digits, nothing before or after', () => {
    expect(isMessageId('01k97v4a80tlrgddek5t')).toBe(true);
    expect(isMessageId('01k97v4a80tlrgddek5tx')).toBe(false);
    expect(isMessageId('_01k97v4a80tlrgddek5t')).toBe(false);
    expect(isMessageId('01K97V4A80TLRGDDEK5T')).toBe(false);
  });

  it('date folders: YYYY-MM-DD exactly', () => {
    expect(isDateDir('2026-12-07')).toBe(true);
    expect(isDateDir('x2026-12-07')).toBe(false);
    expect(isDateDir('2026-12-07x')).toBe(false);
    expect(isDateDir('tmp')).toBe(false);
  });

  it('log segments: twelve digits and .wal', () => {
    expect(segmentSeq('000000000042.wal')).toBe(42);
    expect(segmentSeq('x000000000042.wal')).toBeUndefined();
    expect(segmentSeq('000000000042.wal.tmp')).toBeUndefined();
    expect(segmentSeq('spare-000000000042.wal')).toBeUndefined();
  });

  it('spare segments: spare-<seq>[-tag].wal, nothing around it', () => {
    for (const name of [
      'spare-000000000003.wal',
      'spare-000000000000-77-1765-2.wal',
      'xspare-000000000004.wal',
      'spare-000000000005.wal.old',
    ])
      writeFileSync(join(dir, name), 'x');
    expect(
      new SparePool(dir)
        .list()
        .map((s) => s.seq)
        .sort(),
    ).toEqual([0, 3]);
  });

  it('due journal: base-<n>.due and <n>.due only, and unfinished .tmp files are removed at start-up', async () => {
    const due = join(dir, 'due');
    mkdirSync(due);
    writeFileSync(join(due, 'base-000000000002.due.tmp'), 'half a snapshot');
    writeFileSync(join(due, '.tmp-notes'), 'an operator’s');
    writeFileSync(join(due, 'x000000000009.due'), '');
    writeFileSync(join(due, '000000000008.due.bak'), '');
    const { files } = await DueFiles.load(due);
    expect(existsSync(join(due, 'base-000000000002.due.tmp'))).toBe(false);
    expect(existsSync(join(due, '.tmp-notes'))).toBe(true);
    // neither look-alike counts: appends go to the first number
    expect(files.path).toBe(join(due, '000000000000.due'));
  });
});
