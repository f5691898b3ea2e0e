/**
 * Pages of message ids from the file spool's date folders
 * (src/spool/file/listing.ts), over real folders of state files: every id
 * once, in order, across days and ties, including ids whose files sit in the
 * folder of the day before their time, and nothing that is not a state file.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MessageId } from '../../src/domain/envelope.js';
import { pageOfIds, stateIds } from '../../src/spool/file/listing.js';
import { joinId } from '../../src/spool/file/message-ids.js';
import { dateDirOf } from '../../src/spool/file/paths.js';

const DAY = 86_400_000;
const t0 = Date.UTC(2026, 11, 1, 12, 0, 0);
let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'gp-listing-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A state file for an id made at `time`, in the folder of `folderTime` (its own day unless said). */
async function stateFile(time: number, random: number, folderTime = time): Promise<MessageId> {
  const id = joinId(time, random);
  const dir = join(root, dateDirOf(folderTime));
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `${id}.json`), '{}');
  return id;
}

async function allPages(limit: number, extra: MessageId[] = []): Promise<MessageId[][]> {
  const pages: MessageId[][] = [];
  let after: MessageId | undefined;
  for (;;) {
    const page = await pageOfIds(root, after, limit, extra);
    if (page.length === 0) return pages;
    pages.push(page);
    after = page[page.length - 1];
  }
}

describe('pages of ids from date folders', () => {
  it('lists every id once, oldest first, across days, whatever the page size', async () => {
    const ids: MessageId[] = [];
    for (let day = 0; day < 5; day++)
      for (let i = 0; i < 3; i++) ids.push(await stateFile(t0 + day * DAY + i, 100 + i));
    for (const limit of [1, 2, 4, 15, 50]) expect((await allPages(limit)).flat()).toEqual(ids);
    expect(await pageOfIds(root, undefined, 4, [])).toEqual(ids.slice(0, 4));
    expect(await pageOfIds(root, ids[6], 4, [])).toEqual(ids.slice(7, 11));
  });

  it('finds an id whose files sit in the folder of the day before its time, before and after a cursor', async () => {
    const early = await stateFile(t0, 1);
    // made a moment after midnight for a message accepted just before it
    const late = await stateFile(t0 + DAY - 12 * 3_600_000 + 5, 2, t0);
    const next = await stateFile(t0 + DAY + 10, 3);
    // and a cursor of the next day before it: the walk must start in the day before the cursor's
    const cursor = await stateFile(t0 + DAY - 12 * 3_600_000 + 1, 7);
    expect((await allPages(1)).flat()).toEqual([early, cursor, late, next]);
    expect(await pageOfIds(root, early, 1, [])).toEqual([cursor]);
    expect(await pageOfIds(root, cursor, 5, [])).toEqual([late, next]);
  });

  it('walks the folders from the cursor’s day on, and stops once later folders can only hold later ids', async () => {
    const a = await stateFile(t0, 1);
    const b = await stateFile(t0 + 3 * DAY, 2);
    const c = await stateFile(t0 + 3 * DAY + 1, 3);
    const d = await stateFile(t0 + 6 * DAY, 4);
    expect(await pageOfIds(root, a, 2, [])).toEqual([b, c]);
    expect(await pageOfIds(root, b, 2, [])).toEqual([c, d]);
    expect(await pageOfIds(root, c, 2, [])).toEqual([d]);
    expect(await pageOfIds(root, d, 2, [])).toEqual([]);
  });

  it('adds ids not written yet, in order, once', async () => {
    const a = await stateFile(t0, 1);
    const c = await stateFile(t0 + 2, 3);
    const b = joinId(t0 + 1, 2);
    expect(await pageOfIds(root, undefined, 10, [c, b])).toEqual([a, b, c]);
    expect(await pageOfIds(root, a, 1, [b])).toEqual([b]);
    // a page filled by an unwritten id still walks the folders that may hold smaller ones
    expect(await pageOfIds(root, undefined, 1, [joinId(t0 + 5, 9)])).toEqual([a]);
  });

  it('reads nothing but state files named by an id, and nothing in a spool without folders', async () => {
    const id = await stateFile(t0, 1);
    const dir = join(root, dateDirOf(t0));
    await writeFile(join(dir, `${id}_0123456789abcdef.eml`), 'body');
    await writeFile(join(dir, 'ABCDEFGHIJ0123456789.json'), '{}'); // 25 characters, no id
    await writeFile(join(dir, 'notes.json'), '{}');
    await mkdir(join(root, 'tmp'));
    await writeFile(join(root, 'tmp', `${joinId(t0 - 1, 9)}.json`), '{}'); // not a date folder
    expect(await pageOfIds(root, undefined, 10, [])).toEqual([id]);
    const streamed: MessageId[] = [];
    for await (const s of stateIds(dir)) streamed.push(s);
    expect(streamed).toEqual([id]);
    expect(await pageOfIds(join(root, 'missing'), undefined, 10, [])).toEqual([]);
    const gone: MessageId[] = [];
    for await (const s of stateIds(join(root, 'missing'))) gone.push(s);
    expect(gone).toEqual([]);
  });
});
