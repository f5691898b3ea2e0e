/**
 * Claims and stores of the file spool where the disk disagrees with memory
 * (src/spool/file/claim-due.ts, changes.ts): a state file that cannot be
 * read, a due time the index holds that the record no longer has, a message
 * whose files are gone, and a large body that cannot be put in place.
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MessageRecord } from '../../src/domain/envelope.js';
import { openFileSpool, type FileSpool } from '../../src/spool/file-spool.js';
import { spoolPaths, type SpoolPaths } from '../../src/spool/file/paths.js';
import { SpoolError } from '../../src/spool/spool.js';
import { envelope } from './contract.js';

const at = Date.UTC(2026, 11, 7, 12, 0, 0);
let dir: string;
let paths: SpoolPaths;
let spool: FileSpool;

async function open(): Promise<FileSpool> {
  return openFileSpool({ path: dir, now: () => at, inlineLimit: 64 });
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gp-claims-'));
  paths = spoolPaths(dir);
  spool = await open();
});
afterEach(async () => {
  await spool.close().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

/** Stores a message and restarts, so that claims read its state file. */
async function storedOnDisk(recipients: string[]): Promise<MessageRecord> {
  const record = await spool.store(envelope({ recipients }, at), Readable.from([Buffer.from('hi\r\n')]));
  await spool.close();
  spool = await open();
  return record;
}

async function editState(record: MessageRecord, edit: (r: MessageRecord) => MessageRecord): Promise<void> {
  const path = paths.stateFile(record.id, at);
  await writeFile(path, JSON.stringify(edit(JSON.parse(await readFile(path, 'utf8')) as MessageRecord)));
}

describe('claiming from the file spool', () => {
  it('puts a message whose state file cannot be read back for a minute, never drops it', async () => {
    const r = await storedOnDisk(['a@one.test']);
    await writeFile(paths.stateFile(r.id, at), '{ torn');
    expect(await spool.claim(at, 10)).toEqual([]);
    expect(await spool.depth()).toBe(1);
    expect(await spool.nextDueAt()).toBe(at + 60_000);
    expect(await spool.claim(at + 59_999, 10)).toEqual([]);
    // readable again (an operator repaired it): claimed at its new time
    await writeFile(paths.stateFile(r.id, at), JSON.stringify(r));
    expect((await spool.claim(at + 60_000, 10)).map((m) => m.record.id)).toEqual([r.id]);
  });

  it('sends a message the index held due too early back to wait for the record’s own next attempt', async () => {
    const r = await storedOnDisk(['a@one.test', 'b@one.test']);
    await spool.close();
    // the record says later than the due journal does (a journal record lost to a crash)
    await editState(r, (rec) => ({
      ...rec,
      recipients: rec.recipients.map((x) => ({ ...x, status: 'deferred', nextAttemptAt: at + 300_000 })),
    }));
    spool = await open();
    expect(await spool.claim(at, 10)).toEqual([]);
    expect(await spool.nextDueAt()).toBe(at + 300_000);
    const [claimed] = await spool.claim(at + 300_000, 10);
    expect(claimed?.due.map((x) => x.recipient)).toEqual(['a@one.test', 'b@one.test']);
  });

  it('claims only the recipients due now, and every waiting one when forced', async () => {
    const r = await storedOnDisk(['a@one.test', 'b@one.test']);
    await spool.claim(at, 10);
    await spool.update(r.id, [
      { recipient: 'b@one.test', status: 'deferred', attempts: 1, nextAttemptAt: at + 300_000 },
    ]);
    await spool.release(r.id);
    await spool.close();
    spool = await open();
    const [claimed] = await spool.claim(at, 10);
    expect(claimed?.due.map((x) => x.recipient)).toEqual(['a@one.test']);
    await spool.release(r.id);
    expect(await spool.retryNow(r.id)).toBe(1); // b, the one not due yet
    const [forced] = await spool.claim(at, 10);
    expect(forced?.due.map((x) => x.recipient)).toEqual(['a@one.test', 'b@one.test']);
  });

  it('forgets a message whose files are gone', async () => {
    const r = await storedOnDisk(['a@one.test']);
    await rm(paths.dateDir(at), { recursive: true });
    expect(await spool.depth()).toBe(1);
    expect(await spool.claim(at, 10)).toEqual([]);
    expect(await spool.depth()).toBe(0);
    expect(await spool.nextDueAt()).toBeUndefined();
    expect(await spool.get(r.id)).toBeUndefined();
  });
});

describe('storing into the file spool', () => {
  it('refuses a message without recipients', async () => {
    await expect(spool.store(envelope({ recipients: [] }, at), Readable.from([Buffer.from('x')]))).rejects.toThrow(
      new SpoolError('a message needs at least one recipient'),
    );
  });

  it('stores a recipient given twice once', async () => {
    const r = await spool.store(
      envelope({ recipients: ['a@one.test', 'a@one.test', 'b@one.test'] }, at),
      Readable.from([Buffer.from('x')]),
    );
    expect(r.envelope.recipients).toEqual(['a@one.test', 'b@one.test']);
    expect(r.recipients.map((x) => x.recipient)).toEqual(['a@one.test', 'b@one.test']);
  });

  it('takes back a large message it committed but could not put in place, and keeps nothing of it', async () => {
    await writeFile(paths.dateDir(at), 'a file where the date folder goes');
    const large = `${'x'.repeat(200)}\r\n`;
    const error = await spool
      .store(envelope({ recipients: ['a@one.test', 'b@one.test'] }, at), Readable.from([Buffer.from(large)]))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpoolError);
    expect((error as Error).message).toMatch(/^spool storage failed: /);
    expect(await readdir(paths.tmp)).toEqual([]);
    expect(await spool.depth()).toBe(0);
    expect((await spool.list({ limit: 10 })).items).toEqual([]);
    // and the log's record of it is taken back: a restart does not bring it back
    await spool.close();
    await rm(paths.dateDir(at));
    spool = await open();
    expect((await spool.list({ limit: 10 })).items).toEqual([]);
    expect(await spool.depth()).toBe(0);
  });
});
