import { mkdtemp, open, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GroupCommitLog } from '../../src/spool/file/group-commit-log.js';
import { IoThread } from '../../src/spool/file/io-thread.js';
import { segmentSeq } from '../../src/spool/file/paths.js';
import { decodeSegment, encodeRecord, type WalEntry } from '../../src/spool/file/wal-record.js';

const del = (id: string): WalEntry => ({ t: 'del', id: id, receivedAt: 0, recipients: ['a@b.test'] });

async function logged(dir: string): Promise<string[]> {
  const ids: string[] = [];
  const names = (await readdir(dir)).filter((n) => segmentSeq(n) !== undefined).sort();
  for (const name of names) {
    for (const { entry } of decodeSegment(await readFile(join(dir, name)), segmentSeq(name) ?? 0).records)
      if (entry.t === 'del') ids.push(entry.id);
  }
  return ids;
}

/** A log in a new temp folder (`openLog` may put files there first), closed and removed after `work`. */
async function withLog(
  openLog: (dir: string) => Promise<GroupCommitLog>,
  work: (log: GroupCommitLog, dir: string) => Promise<void>,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'gp-wal-'));
  const log = await openLog(dir);
  try {
    await work(log, dir);
  } finally {
    await log.close();
    await rm(dir, { recursive: true, force: true });
  }
}

describe('group-commit log on its I/O thread (§4)', () => {
  it('commits many concurrent appends, every one readable after', async () => {
    await withLog(
      (dir) => GroupCommitLog.open(dir, 1),
      async (log, dir) => {
        const ids = Array.from({ length: 200 }, (_, i) => `m${i}`);
        const segments = await Promise.all(ids.map(async (id) => (await log.append(encodeRecord(del(id)).frame)).seq));
        expect(new Set(segments)).toEqual(new Set([1]));
        expect(await logged(dir)).toEqual(ids);
      },
    );
  });

  it('survives its thread dying: waiting appends fail, later ones go to a new thread and a new segment', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gp-wal-'));
    const commit = new IoThread(dir, 'commit');
    const log = await GroupCommitLog.open(dir, 1, { threads: { commit, background: new IoThread(dir, 'background') } });
    try {
      await log.append(encodeRecord(del('before')).frame);
      const inFlight = Array.from({ length: 50 }, (_, i) =>
        log.append(encodeRecord(del(`during${i}`)).frame).then(
          () => `during${i}`,
          () => undefined,
        ),
      );
      await commit.terminate();
      const acknowledged = (await Promise.all(inFlight)).filter((id): id is string => id !== undefined);
      const after = (await log.append(encodeRecord(del('after')).frame)).seq;
      expect(after).toBeGreaterThan(1); // never back into a segment the dead thread may have left half written
      // everything acknowledged is in the log, in order
      expect(await logged(dir)).toEqual(['before', ...acknowledged, 'after']);
    } finally {
      await log.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('writes nothing on a thread that was never opened (requests left behind by a dead thread)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gp-wal-'));
    const thread = new IoThread(dir, 'commit');
    try {
      await expect(thread.request({ kind: 'record', frame: encodeRecord(del('orphan')).frame })).rejects.toThrow(
        /not open/,
      );
      await expect(thread.request({ kind: 'rotate' })).resolves.toMatchObject({ seq: 0, sealed: 0 });
      expect(await readdir(dir)).toEqual([]);
    } finally {
      await thread.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  const name = (seq: number): string => `${String(seq).padStart(12, '0')}.wal`;

  it('recycles sealed segments oldest first (a crash part way leaves only newer ones to replay), keeping eight as spares', async () => {
    await withLog(
      async (dir) => {
        for (let seq = 1; seq <= 10; seq++) await writeFile(join(dir, name(seq)), '');
        return GroupCommitLog.open(dir, 11);
      },
      async (log, dir) => {
        await log.recycle([3, 10, 1, 7, 2, 9, 4, 8, 6, 5, 11]);
        // the eight oldest became spares before the newest were touched; the current segment (11) is never recycled
        const spares = Array.from({ length: 8 }, (_, i) => `spare-${name(i + 1)}`);
        expect((await readdir(dir)).sort()).toEqual([name(11), ...spares]);
      },
    );
  });

  it('keeps at most 128 MiB of recycled spares, and a quiet log gives back all but the two largest', async () => {
    await withLog(
      async (dir) => {
        for (const [seq, mib] of [
          [1, 60],
          [2, 60],
          [3, 60],
          [4, 1],
        ] as const) {
          const file = await open(join(dir, name(seq)), 'w');
          await file.truncate(mib * 1024 * 1024); // sparse: sizes are what counts
          await file.close();
        }
        return GroupCommitLog.open(dir, 5, { lookMs: 50 });
      },
      async (log, dir) => {
        await log.recycle([1, 2, 3, 4]);
        expect((await readdir(dir)).sort()).toEqual([
          name(5),
          `spare-${name(1)}`,
          `spare-${name(2)}`,
          `spare-${name(4)}`,
        ]); // 3 would pass 128 MiB
        // nothing is written: after ten quiet looks the smallest spare goes
        await expect
          .poll(async () => (await readdir(dir)).sort(), { timeout: 5_000 })
          .toEqual([name(5), `spare-${name(1)}`, `spare-${name(2)}`]);
      },
    );
  });

  it('with preallocate, makes two zero-filled spares at start-up and moves the log on to one at the next commit', async () => {
    await withLog(
      (dir) => GroupCommitLog.open(dir, 1, { preallocate: true }),
      async (log, dir) => {
        await log.preparing;
        const spares = async (): Promise<string[]> => (await readdir(dir)).filter((n) => n.startsWith('spare-'));
        expect(await spares()).toHaveLength(2);
        for (const name of await spares()) {
          const data = await readFile(join(dir, name));
          expect(data.length).toBe(16 * 1024 * 1024);
          expect(data.every((byte) => byte === 0)).toBe(true);
        }
        // segment 1 was a new file (the spares did not exist yet): the next commit goes to a spare instead of growing
        // it
        expect((await log.append(encodeRecord(del('first')).frame)).seq).toBe(2);
        expect(await spares()).toHaveLength(1);
        expect((await stat(join(dir, '000000000002.wal'))).size).toBe(16 * 1024 * 1024);
        expect(await logged(dir)).toEqual(['first']);
      },
    );
  });

  it('with preallocate, makes spares again as soon as a commit finds none ready (the folder wiped under it)', async () => {
    await withLog(
      (dir) => GroupCommitLog.open(dir, 1, { preallocate: true }),
      async (log, dir) => {
        await log.preparing;
        await log.append(encodeRecord(del('before')).frame);
        for (const entry of await readdir(dir)) await rm(join(dir, entry), { force: true });
        const segment = (await log.append(encodeRecord(del('after')).frame)).seq;
        expect(segment).toBeGreaterThan(2); // a new file: its name was gone, and so were the spares
        const spares = async (): Promise<number> => (await readdir(dir)).filter((n) => n.startsWith('spare-')).length;
        await expect.poll(spares, { timeout: 10_000 }).toBe(2);
        expect(await logged(dir)).toEqual(['after']);
      },
    );
  });

  it('moves on to a spare when a commit would grow a reused segment past the blocks it has, never extending it', async () => {
    await withLog(
      async (dir) => {
        await writeFile(join(dir, 'spare-000000000000-small.wal'), Buffer.alloc(8192));
        return GroupCommitLog.open(dir, 1);
      },
      async (log, dir) => {
        const record = (id: string): Buffer => encodeRecord(del(id.padEnd(1900, '.'))).frame;
        expect(record('a').length).toBeGreaterThan(8192 / 5);
        expect(record('a').length).toBeLessThan(8192 / 4); // four fit in 8 KiB, five do not
        expect((await log.append(record('a'))).seq).toBe(1); // the small spare became segment 1
        await writeFile(join(dir, 'spare-000000000000-large.wal'), Buffer.alloc(65536));
        const segments = [];
        for (const id of ['b', 'c', 'd', 'e']) segments.push((await log.append(record(id))).seq);
        expect(segments).toEqual([1, 1, 1, 2]); // the fifth ~2 KiB record would not fit in 8 KiB
        expect([log.segment, log.bytes]).toEqual([2, record('e').length]); // what the log knows of where it writes
        expect((await log.append(record('f'))).seq).toBe(2);
        expect([log.segment, log.bytes]).toEqual([2, 2 * record('e').length]);
        expect((await stat(join(dir, '000000000001.wal'))).size).toBe(8192);
        expect((await stat(join(dir, '000000000002.wal'))).size).toBe(65536);
        expect((await logged(dir)).map((id) => id[0])).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
      },
    );
  });

  it('writes a file from its parts in order, one part at a time, replacing what was there', async () => {
    await withLog(
      (dir) => GroupCommitLog.open(dir, 1),
      async (log, dir) => {
        const path = join(dir, 'parts.bin');
        await writeFile(path, 'an older, longer file that must not show through');
        const parts = ['first part|', 'second part|', 'third part'].map((p) => Buffer.from(p));
        await log.put(path, parts);
        expect((await readFile(path)).toString()).toBe('first part|second part|third part');
        await log.put(path, []);
        expect((await readFile(path)).length).toBe(0);
        expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
      },
    );
  });

  it('runs syncfs on its background thread (coreutils `sync --file-system`)', async () => {
    await withLog(
      (dir) => GroupCommitLog.open(dir, 1),
      async (log, dir) => {
        expect(await log.syncfs(dir)).toBe(true);
        expect(await log.syncfs(join(dir, 'no-such-folder'))).toBe(false); // sync fails: the caller falls back to fsync
      },
    );
  });

  it('answers a request it does not know with an error instead of leaving it waiting', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gp-wal-'));
    const thread = new IoThread(dir, 'commit');
    try {
      await expect(thread.request({ kind: 'nonsense' } as never)).rejects.toThrow(/unknown request nonsense/);
    } finally {
      await thread.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
