/**
 * Finding a message's record and body in the file spool once it has left
 * memory (src/spool/file/record-lookup.ts): state files read on the read
 * thread from the id's date folder or the day before, clear errors for
 * unreadable files, bodies read whole or streamed by size.
 */
import { mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MessageRecord } from '../../src/domain/envelope.js';
import { openFileSpool, type FileSpool } from '../../src/spool/file-spool.js';
import { spoolPaths, type SpoolPaths } from '../../src/spool/file/paths.js';
import { SpoolError } from '../../src/spool/spool.js';
import { envelope, readAll } from './contract.js';

const at = Date.UTC(2026, 11, 7, 0, 0, 0, 500); // half a second into the day
const DAY_MS = 86_400_000;
let dir: string;
let paths: SpoolPaths;
let spool: FileSpool;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gp-lookup-'));
  paths = spoolPaths(dir);
  spool = await openFileSpool({ path: dir, now: () => at, inlineLimit: 64 });
});
afterEach(async () => {
  await spool.close().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

/** Stores a message, then restarts so that its record is only on disk. */
async function storedOnDisk(body: string, recipients = ['a@one.test']): Promise<MessageRecord> {
  const record = await spool.store(envelope({ recipients }, at), Readable.from([Buffer.from(body)]));
  await spool.close();
  spool = await openFileSpool({ path: dir, now: () => at, inlineLimit: 64 });
  return record;
}

describe('record lookup', () => {
  it('reads a record from its state file after a restart', async () => {
    const r = await storedOnDisk('hello\r\n');
    expect(await spool.get(r.id)).toEqual(r);
  });

  it('finds a state file in the folder of the day before the id’s time', async () => {
    const r = await storedOnDisk('hello\r\n');
    await spool.close();
    // an id made a moment after an acceptance just before midnight: the files sit in the earlier day's folder
    const earlier = paths.dateDir(at - DAY_MS);
    await mkdir(earlier);
    for (const name of await readdir(paths.dateDir(at)))
      await rename(join(paths.dateDir(at), name), join(earlier, name));
    spool = await openFileSpool({ path: dir, now: () => at, inlineLimit: 64 });
    expect((await spool.get(r.id))?.id).toBe(r.id);
  });

  it('answers undefined for ids that are no message’s, without reading anything', async () => {
    expect(await spool.get('not-an-id')).toBeUndefined();
    // the shape of an id, but w–z are not base32: no time to find its folder by
    expect(await spool.get('zzzzzzzzzzzzzzzzzzzz')).toBeUndefined();
    expect(await spool.get('0000000000aaaaaaaaaa')).toBeUndefined();
  });

  it('names the message whose state file is unreadable', async () => {
    const r = await storedOnDisk('hello\r\n');
    await writeFile(paths.stateFile(r.id, at), '{ torn');
    const error = await spool.get(r.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpoolError);
    expect((error as Error).message).toBe(`the state file of ${r.id} is unreadable`);
  });

  it('answers a state file that cannot be read at all as a storage failure', async () => {
    const r = await storedOnDisk('hello\r\n');
    await rm(paths.stateFile(r.id, at));
    await mkdir(paths.stateFile(r.id, at)); // EISDIR on read
    const error = await spool.get(r.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpoolError);
    expect((error as Error).message).toMatch(/^spool storage failed: .*EISDIR/);
  });
});

describe('body lookup', () => {
  it('reads a small body whole and streams a large one in chunks', async () => {
    const small = await storedOnDisk('small\r\n');
    const largeBody = `${'y'.repeat(200_000)}\r\n`;
    const large = await storedOnDisk(largeBody);
    const smallChunks: Buffer[] = [];
    for await (const c of await spool.openBody(small)) smallChunks.push(c);
    expect(smallChunks.map(String)).toEqual(['small\r\n']);
    const largeChunks: Buffer[] = [];
    for await (const c of await spool.openBody(large)) largeChunks.push(c);
    expect(largeChunks.length).toBeGreaterThan(1); // streamed, never one buffer of the whole body
    expect(Buffer.concat(largeChunks).toString()).toBe(largeBody);
  });

  it('refuses a record without recipients, and a small body that is gone, naming the message', async () => {
    const r = await storedOnDisk('small\r\n');
    await expect(spool.openBody({ ...r, envelope: { ...r.envelope, recipients: [] } })).rejects.toThrow(
      new SpoolError(`message ${r.id} has no recipients`),
    );
    await rm(paths.bodyFile(r.id, at, 'a@one.test'));
    await expect(spool.openBody(r)).rejects.toThrow(new SpoolError(`unknown message ${r.id}`));
  });

  it('opens a large body only when it is first read', async () => {
    const large = await storedOnDisk('z'.repeat(100));
    await rm(paths.bodyFile(large.id, at, 'a@one.test'));
    // no descriptor yet: the failure comes with the first read
    const body = await spool.openBody(large);
    await expect(readAll(body)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('reads a body of exactly the inline limit whole, at once', async () => {
    const r = await storedOnDisk('w'.repeat(64));
    await rm(paths.bodyFile(r.id, at, 'a@one.test'));
    // read whole when opened: the missing file fails the open itself
    await expect(spool.openBody(r)).rejects.toThrow(new SpoolError(`unknown message ${r.id}`));
  });

  it('answers a small body that cannot be read as a storage failure', async () => {
    const r = await storedOnDisk('small\r\n');
    await rm(paths.bodyFile(r.id, at, 'a@one.test'));
    await mkdir(paths.bodyFile(r.id, at, 'a@one.test'));
    await expect(spool.openBody(r)).rejects.toThrow(/^spool storage failed: .*EISDIR/);
  });
});
