/**
 * The parts the spool's I/O thread is built of (src/spool/file/io/), run in
 * this process against real files: whole writes, folders made again when
 * removed, the due journal's appender, body placement with hard links, state
 * files written through `.tmp`, and the spare segments. Every sync goes
 * through a recording Syncer around the real one, so the order of writes,
 * syncs and renames is checked, not assumed.
 */
import { mkdirSync, openSync, closeSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Folders, removeAll, sizeOf, writeAll, writeFile } from '../../src/spool/file/io/files.js';
import { JournalAppender } from '../../src/spool/file/io/journal-appender.js';
import { Placement } from '../../src/spool/file/io/placement.js';
import { SparePool, segmentName } from '../../src/spool/file/io/spare-pool.js';
import { diskSync, type Syncer } from '../../src/spool/file/io/sync.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gp-io-parts-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The real syncs, each recorded as `data <size>` or `folder <path>`, in order. */
function recordingSync(): Syncer & { readonly seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    data: (fd) => {
      seen.push(`data ${statSync(`/proc/self/fd/${fd}`).size}`);
      diskSync.data(fd);
    },
    folder: (path) => {
      seen.push(`folder ${path}`);
      diskSync.folder(path);
    },
    fileSystem: (root) => diskSync.fileSystem(root),
  };
}

describe('files', () => {
  it('writes every byte, at a position when given one', () => {
    const path = join(dir, 'f');
    writeFile(path, Buffer.from('hello world'), 'w');
    const fd = openSync(path, 'r+');
    try {
      writeAll(fd, Buffer.from('HELLO'), 0);
      writeAll(fd, Buffer.from('!'));
    } finally {
      closeSync(fd);
    }
    // a write at a position leaves the file offset alone: the next plain write lands at 0 again
    expect(readFileSync(path, 'utf8')).toBe('!ELLO world');
  });

  it('writes text or bytes with the flags given, and knows sizes', () => {
    const path = join(dir, 'g');
    writeFile(path, 'text', 'wx');
    expect(() => writeFile(path, 'again', 'wx')).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    writeFile(path, Buffer.from('+bytes'), 'a');
    expect(readFileSync(path, 'utf8')).toBe('text+bytes');
    expect(sizeOf(path)).toBe(10);
    expect(sizeOf(join(dir, 'missing'))).toBe(0);
    expect((statSync(path).mode & 0o777).toString(8)).toBe('600');
    removeAll([join(dir, 'missing'), path]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('makes a folder before the first write in it, and again when it was removed since', () => {
    const folders = new Folders();
    const sub = join(dir, 'a', 'b');
    let runs = 0;
    folders.inDir(sub, () => {
      runs += 1;
      writeFileSync(join(sub, 'x'), 'x');
    });
    rmSync(join(dir, 'a'), { recursive: true });
    folders.inDir(sub, () => {
      runs += 1;
      writeFileSync(join(sub, 'y'), 'y');
    });
    expect(runs).toBe(3); // the second write failed once with ENOENT, then the folder was made again
    expect(readdirSync(sub)).toEqual(['y']);
    expect(() =>
      folders.inDir(sub, () => {
        throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
      }),
    ).toThrow('EACCES');
  });
});

describe('JournalAppender', () => {
  it('appends to the journal in use, one part or several at once', () => {
    const journal = new JournalAppender();
    expect(journal.append([Buffer.from('x')])).toBe(false); // none open
    expect(journal.append([])).toBe(true); // nothing to do
    const first = join(dir, 'due-1');
    journal.use(first);
    expect(journal.append([Buffer.from('a')])).toBe(true);
    expect(journal.append([Buffer.from('b'), Buffer.from('c')])).toBe(true);
    const second = join(dir, 'due-2');
    writeFileSync(second, 'old:');
    journal.use(second);
    expect(journal.append([Buffer.from('d')])).toBe(true);
    journal.close();
    expect(journal.append([Buffer.from('e')])).toBe(false);
    expect(readFileSync(first, 'utf8')).toBe('abc');
    expect(readFileSync(second, 'utf8')).toBe('old:d');
  });

  it('answers false when the write fails (a full disk)', () => {
    const journal = new JournalAppender();
    journal.use('/dev/full');
    expect(journal.append([Buffer.from('x')])).toBe(false);
    journal.close();
  });
});

describe('Placement', () => {
  it('writes a body once and links it for each other recipient, keeping a name that is there already', () => {
    const placement = new Placement(recordingSync());
    const names = [join(dir, 'q', 'm.1'), join(dir, 'q', 'm.2'), join(dir, 'q', 'm.3')];
    mkdirSync(join(dir, 'q'));
    writeFileSync(names[2] ?? '', 'earlier');
    expect(placement.placeBody(Buffer.from('body'), names)).toEqual(names.slice(0, 2));
    expect(statSync(names[0] ?? '').ino).toBe(statSync(names[1] ?? '').ino);
    expect(readFileSync(names[2] ?? '', 'utf8')).toBe('earlier');
    expect(() => placement.placeBody(Buffer.from('x'), [])).toThrow('message without recipients');
  });

  it('leaves nothing behind when placing fails part way', () => {
    const placement = new Placement(recordingSync());
    writeFileSync(join(dir, 'file'), 'not a folder');
    const names = [join(dir, 'p', 'm.1'), join(dir, 'file', 'm.2')];
    expect(() => placement.placeBody(Buffer.from('body'), names)).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
    expect(readdirSync(join(dir, 'p'))).toEqual([]);
    // a first name that exists already is a failure too, and removes nothing of the other
    mkdirSync(join(dir, 'r'));
    writeFileSync(join(dir, 'r', 'm.1'), 'kept');
    expect(() => placement.placeBody(Buffer.from('body'), [join(dir, 'r', 'm.1')])).toThrow(
      expect.objectContaining({ code: 'EEXIST' }),
    );
    expect(readFileSync(join(dir, 'r', 'm.1'), 'utf8')).toBe('kept');
  });

  it('writes state files in parts through .tmp: the last part syncs the bytes, renames, then syncs the folder', () => {
    const sync = recordingSync();
    const placement = new Placement(sync);
    const path = join(dir, 's', 'state.json');
    expect(placement.putPart(path, Buffer.from('{"a":'), false, true)).toBe(path);
    expect(readdirSync(join(dir, 's'))).toEqual(['state.json.tmp']);
    expect(sync.seen).toEqual([]);
    placement.putPart(path, Buffer.from('1}'), true, false);
    expect(readdirSync(join(dir, 's'))).toEqual(['state.json']);
    expect(readFileSync(path, 'utf8')).toBe('{"a":1}');
    expect(sync.seen).toEqual(['data 7', `folder ${join(dir, 's')}`]);
    // a new first part starts the file afresh
    placement.putPart(path, Buffer.from('{}'), false, false);
    expect(readFileSync(path, 'utf8')).toBe('{}');
    expect(placement.writeState(join(dir, 't', 'x.json'), '[1]')).toBe(join(dir, 't', 'x.json'));
    expect(readFileSync(join(dir, 't', 'x.json'), 'utf8')).toBe('[1]');
  });
});

describe('SparePool', () => {
  let walDir: string;
  beforeEach(() => {
    walDir = join(dir, 'wal');
    mkdirSync(walDir);
  });
  const spare = (seq: number, bytes: number, tag = ''): void =>
    writeFileSync(join(walDir, `spare-${String(seq).padStart(12, '0')}${tag}.wal`), Buffer.alloc(bytes));
  const segment = (seq: number, bytes: number): void =>
    writeFileSync(join(walDir, segmentName(seq)), Buffer.alloc(bytes));

  it('lists spares by their names, smallest first, and nothing once the folder is gone', () => {
    spare(3, 30);
    spare(0, 10, '-123-456-1');
    segment(4, 5);
    writeFileSync(join(walDir, 'spare-12.wal'), '');
    const pool = new SparePool(walDir, recordingSync());
    expect(pool.bySize().map((s) => [s.seq, s.bytes])).toEqual([
      [0, 10],
      [3, 30],
    ]);
    expect(pool.segmentPath(7)).toBe(join(walDir, '000000000007.wal'));
    rmSync(walDir, { recursive: true });
    expect(pool.list()).toEqual([]);
  });

  it('looks for a ready spare at most five times a second', () => {
    const pool = new SparePool(walDir, recordingSync());
    expect(pool.ready(1_000)).toBe(false);
    spare(1, 1);
    expect(pool.ready(1_199)).toBe(false); // not looked at again yet
    expect(pool.ready(1_200)).toBe(true);
  });

  it('recycles sealed segments oldest first, keeping them as spares within the bounds, a folder sync after each', () => {
    const sync = recordingSync();
    const pool = new SparePool(walDir, sync);
    for (let seq = 1; seq <= 9; seq += 1) segment(seq, 100);
    pool.recycle([9, 2, 1, 3, 4, 5, 6, 7, 8, 10]); // 10 is gone already: skipped, no sync for it
    const spares = pool
      .list()
      .map((s) => s.seq)
      .sort((a, b) => a - b);
    expect(spares).toEqual([1, 2, 3, 4, 5, 6, 7, 8]); // at most eight kept; the newest, 9, removed
    expect(readdirSync(walDir).filter((n) => !n.startsWith('spare-'))).toEqual([]);
    expect(sync.seen).toEqual(Array.from({ length: 9 }, () => `folder ${walDir}`));
  });

  it('keeps spares within 128 MiB in all', () => {
    const pool = new SparePool(walDir, recordingSync());
    spare(50, 0);
    // sparse files: sizes without the disk space
    for (const [seq, mib] of [
      [1, 100],
      [2, 28],
      [3, 1],
    ] as const) {
      const fd = openSync(join(walDir, segmentName(seq)), 'w');
      try {
        writeAll(fd, Buffer.from([1]), mib * 1024 * 1024 - 1);
      } finally {
        closeSync(fd);
      }
    }
    pool.recycle([1, 2, 3]);
    expect(
      pool
        .list()
        .map((s) => s.seq)
        .sort((a, b) => a - b),
    ).toEqual([1, 2, 50]); // 100 + 28 = 128 MiB: the third is over
  });

  it('trims a quiet log to its two largest spares, syncing the folder only when it removed one', () => {
    const sync = recordingSync();
    const pool = new SparePool(walDir, sync);
    spare(1, 10);
    spare(2, 30);
    pool.trim();
    expect(sync.seen).toEqual([]);
    spare(3, 20);
    pool.trim();
    expect(
      pool
        .list()
        .map((s) => s.seq)
        .sort(),
    ).toEqual([2, 3]);
    expect(sync.seen).toEqual([`folder ${walDir}`]);
  });

  it('prepares zero-filled spares until there are two, each synced before it is named, stale halves removed', () => {
    const sync = recordingSync();
    const pool = new SparePool(walDir, sync);
    writeFileSync(join(walDir, 'prepare-1-2-3.tmp'), 'half');
    pool.prepare(3 * 1024 * 1024);
    const spares = pool.bySize();
    expect(spares.map((s) => s.bytes)).toEqual([3 * 1024 * 1024, 3 * 1024 * 1024]);
    expect(readdirSync(walDir).filter((n) => n.startsWith('prepare-'))).toEqual([]);
    expect(readFileSync(spares[0]?.path ?? '').every((b) => b === 0)).toBe(true);
    expect(sync.seen).toEqual([`data ${3 * 1024 * 1024}`, `data ${3 * 1024 * 1024}`, `folder ${walDir}`]);
    pool.prepare(1024); // two are there: nothing made, the folder synced
    expect(pool.list()).toHaveLength(2);
  });
});
