/**
 * Start-up of the file spool from what a crash leaves on disk
 * (src/spool/file/recovery.ts, replay.ts). A crash image is a copy of a
 * running spool's folder (no checkpoint since the changes), edited the way
 * an interrupted step would leave it; the copy is then opened as the
 * daemon's restart would open it, in this process.
 */
import { cp, mkdir, mkdtemp, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MessageRecord } from '../../src/domain/envelope.js';
import { openFileSpool, type FileSpool } from '../../src/spool/file-spool.js';
import { spoolPaths, type SpoolPaths } from '../../src/spool/file/paths.js';
import { SpoolError } from '../../src/spool/spool.js';
import { envelope, readAll } from './contract.js';

const at = Date.UTC(2026, 11, 7, 10, 0, 0);
let dir: string;
let paths: SpoolPaths;
let spool: FileSpool;
const opened: FileSpool[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gp-crash-'));
  paths = spoolPaths(dir);
  // no periodic checkpoint: everything below stays in the log until the test says otherwise
  spool = await openFileSpool({ path: dir, now: () => at, checkpointMs: 3_600_000, inlineLimit: 64 });
});
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close().catch(() => undefined);
  await spool.close().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
  await rm(`${dir}-crash`, { recursive: true, force: true });
});

/** The disk as a crash right now would leave it, opened as a restart would. */
async function crashImage(edit: (image: SpoolPaths) => Promise<void> = async () => undefined): Promise<FileSpool> {
  const copy = `${dir}-crash`;
  await cp(dir, copy, { recursive: true });
  await edit(spoolPaths(copy));
  const restarted = await openFileSpool({ path: copy, now: () => at });
  opened.push(restarted);
  return restarted;
}

function store(recipients: string[], body: string): Promise<MessageRecord> {
  return spool.store(envelope({ recipients }, at), Readable.from([Buffer.from(body)]));
}

const large = `Subject: large\r\n\r\n${'x'.repeat(200)}\r\n`;

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

describe('replay after a crash', () => {
  it('puts a committed large body in place from tmp/ when the crash came before its rename, with every link', async () => {
    const r = await store(['a@one.test', 'b@two.test'], large);
    const restarted = await crashImage(async (image) => {
      // as before the rename: the body still in tmp/, no names in the date folder
      await rename(image.bodyFile(r.id, at, 'a@one.test'), image.tmpBody(r.id));
      await rm(image.bodyFile(r.id, at, 'b@two.test'));
    });
    const image = spoolPaths(`${dir}-crash`);
    expect((await readAll(await restarted.openBody(r))).toString()).toBe(large);
    expect((await stat(image.bodyFile(r.id, at, 'b@two.test'))).nlink).toBe(2);
    expect(await exists(image.tmpBody(r.id))).toBe(false);
    expect((await restarted.get(r.id))?.recipients.map((x) => x.recipient)).toEqual(['a@one.test', 'b@two.test']);
  });

  it('keeps a committed large body whose spilled file is gone visible, so it fails rather than vanishes', async () => {
    const r = await store(['a@one.test'], large);
    const restarted = await crashImage(async (image) => {
      await rm(image.bodyFile(r.id, at, 'a@one.test'));
    });
    expect((await restarted.get(r.id))?.id).toBe(r.id);
    expect(await restarted.depth()).toBe(1);
    await expect(restarted.openBody(r)).rejects.toThrow(SpoolError);
  });

  it('keeps such a message visible with several recipients too, and the rest of the spool opens', async () => {
    const r = await store(['a@one.test', 'b@two.test'], large);
    const other = await store(['c@one.test'], 'Subject: small\r\n\r\nok\r\n');
    const restarted = await crashImage(async (image) => {
      await rm(image.bodyFile(r.id, at, 'a@one.test'));
      await rm(image.bodyFile(r.id, at, 'b@two.test'));
    });
    expect((await restarted.get(r.id))?.recipients.map((x) => x.recipient)).toEqual(['a@one.test', 'b@two.test']);
    await expect(restarted.openBody(r)).rejects.toThrow(SpoolError);
    expect((await readAll(await restarted.openBody(other))).toString()).toBe('Subject: small\r\n\r\nok\r\n');
  });

  it('rewrites a torn inline body from its log record and leaves a whole one as it is', async () => {
    const torn = await store(['a@one.test', 'b@one.test'], 'Subject: small\r\n\r\nhi\r\n');
    const whole = await store(['c@one.test'], 'Subject: whole\r\n\r\nok\r\n');
    const restarted = await crashImage(async (image) => {
      await writeFile(image.bodyFile(torn.id, at, 'a@one.test'), 'Subj'); // written only in part
      await rm(image.bodyFile(torn.id, at, 'b@one.test'));
    });
    const image = spoolPaths(`${dir}-crash`);
    for (const rcpt of ['a@one.test', 'b@one.test'])
      expect(await readFile(image.bodyFile(torn.id, at, rcpt), 'utf8')).toBe('Subject: small\r\n\r\nhi\r\n');
    expect((await stat(image.bodyFile(torn.id, at, 'a@one.test'))).nlink).toBe(2);
    expect((await readAll(await restarted.openBody(whole))).toString()).toBe('Subject: whole\r\n\r\nok\r\n');
  });

  it('drops a message stored and removed in the same log, leaving none of its files, not even a spilled body', async () => {
    const kept = await store(['a@one.test'], 'kept\r\n');
    const gone = await store(['a@one.test', 'b@one.test'], large);
    await spool.remove(gone.id);
    const restarted = await crashImage(async (image) => {
      // a spilled body the crash left in tmp/ (before its rename) must go too
      await writeFile(image.tmpBody(gone.id), large);
    });
    const image = spoolPaths(`${dir}-crash`);
    expect(await restarted.get(gone.id)).toBeUndefined();
    expect(await readdir(image.dateDir(at))).toEqual(
      [`${kept.id}.json`, image.bodyFile(kept.id, at, 'a@one.test').split('/').pop()].sort(),
    );
    expect(await readdir(image.tmp)).toEqual([]);
    expect(await restarted.depth()).toBe(1);
  });

  it('applies a logged state change and removal to messages an earlier checkpoint wrote', async () => {
    const updated = await store(['a@one.test', 'b@one.test'], 'updated\r\n');
    const removed = await store(['c@one.test'], 'removed\r\n');
    await spool.checkpoint(); // both are in their files now; the log starts afresh
    await spool.claim(at, 10);
    await spool.update(updated.id, [
      { recipient: 'a@one.test', status: 'delivered', attempts: 1, nextAttemptAt: at, lastResponse: '250 ok' },
    ]);
    await spool.release(updated.id);
    await spool.remove(removed.id);
    const restarted = await crashImage();
    const image = spoolPaths(`${dir}-crash`);
    const state = JSON.parse(await readFile(image.stateFile(updated.id, at), 'utf8')) as MessageRecord;
    expect(state.recipients.map((x) => x.status)).toEqual(['delivered', 'queued']);
    expect(await exists(image.stateFile(removed.id, at))).toBe(false);
    expect(await exists(image.bodyFile(removed.id, at, 'c@one.test'))).toBe(false);
    expect(await restarted.depth()).toBe(1);
    expect((await restarted.claim(at, 10)).map((m) => m.due.map((x) => x.recipient))).toEqual([['b@one.test']]);
  });

  it('skips a logged state change of a message whose files are gone, and does not bring it back', async () => {
    const r = await store(['a@one.test'], 'r\r\n');
    await spool.checkpoint();
    await spool.claim(at, 10);
    await spool.update(r.id, [
      { recipient: 'a@one.test', status: 'deferred', attempts: 1, nextAttemptAt: at + 60_000 },
    ]);
    const restarted = await crashImage(async (image) => {
      await rm(image.dateDir(at), { recursive: true });
    });
    expect(await restarted.get(r.id)).toBeUndefined();
    expect(await exists(spoolPaths(`${dir}-crash`).stateFile(r.id, at))).toBe(false);
  });

  it('drops the replayed segments and opens the next one after them', async () => {
    await store(['a@one.test'], 'one\r\n');
    const before = (await readdir(paths.wal)).filter((n) => n.endsWith('.wal')).sort();
    await crashImage();
    const after = (await readdir(join(`${dir}-crash`, 'wal'))).filter((n) => n.endsWith('.wal'));
    expect(after).toHaveLength(1);
    expect(Number(after[0]?.slice(0, 12))).toBe(Number(before[before.length - 1]?.slice(0, 12)) + 1);
  });
});

describe('start-up without a due journal', () => {
  it('leaves an unreadable state file and its body for the operator, removes bodies without one, and empties tmp/', async () => {
    const good = await store(['a@one.test'], 'good\r\n');
    const bad = await store(['b@one.test'], 'bad\r\n');
    await spool.close();
    await rm(paths.due, { recursive: true });
    await writeFile(paths.stateFile(bad.id, at), '{ torn');
    const orphan = join(paths.dateDir(at), 'abcdefghij0123456789_0123456789abcdef.eml');
    await writeFile(orphan, 'a body whose message never committed');
    await writeFile(join(paths.tmp, 'left.eml'), 'tmp leftovers');
    await mkdir(join(paths.tmp, 'a-folder'));
    await writeFile(join(paths.tmp, 'a-folder', 'inner'), 'x');
    spool = await openFileSpool({ path: dir, now: () => at });
    expect(await spool.depth()).toBe(1);
    expect((await spool.claim(at, 10)).map((m) => m.record.id)).toEqual([good.id]);
    expect(await readFile(paths.stateFile(bad.id, at), 'utf8')).toBe('{ torn');
    expect(await readFile(paths.bodyFile(bad.id, at, 'b@one.test'), 'utf8')).toBe('bad\r\n');
    expect(await exists(orphan)).toBe(false);
    expect(await readdir(paths.tmp)).toEqual([]);
    // the journal was written again from what was found
    expect((await readdir(paths.due)).length).toBeGreaterThan(0);
  });
});
