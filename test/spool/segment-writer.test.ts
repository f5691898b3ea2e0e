import { fstatSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SegmentWriter } from '../../src/spool/file/io/segment-writer.js';
import { SparePool } from '../../src/spool/file/io/spare-pool.js';
import { diskSync, type Syncer } from '../../src/spool/file/io/sync.js';
import { encodeRecord } from '../../src/spool/file/wal-record.js';
import { idsInSegment } from '../helpers/spool.js';

const frame = (id: string): Buffer =>
  encodeRecord({ t: 'del', id, receivedAt: 0, recipients: ['a@b.test'] }, [Buffer.from(`body of ${id}`)]).frame;

/** The real syncs, each one recorded with how many bytes the file held when it ran; `failAt` (1-based) throws EIO. */
function watchedSync(failAt?: number): Syncer & { readonly seen: { size: number; failed: boolean }[] } {
  const seen: { size: number; failed: boolean }[] = [];
  return {
    seen,
    data: (fd) => {
      const failed = seen.length + 1 === failAt;
      seen.push({ size: fstatSync(fd).size, failed });
      if (failed) throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO', syscall: 'fdatasync' });
      diskSync.data(fd);
    },
    folder: (path) => diskSync.folder(path),
    fileSystem: (root) => diskSync.fileSystem(root),
  };
}

describe('the log writer and its sync (§4 durability seam)', () => {
  let walDir: string;
  beforeEach(async () => {
    walDir = join(await mkdtemp(join(tmpdir(), 'gp-segment-')), 'wal');
  });
  afterEach(async () => {
    await rm(join(walDir, '..'), { recursive: true, force: true });
  });

  it('answers a commit only after one sync that covers every byte of its batch', () => {
    const sync = watchedSync();
    const writer = new SegmentWriter(walDir, new SparePool(walDir, sync), sync);
    writer.open(1);
    const batch = [frame('m1'), frame('m2'), frame('m3')];
    writer.commit(batch);
    const written = batch.reduce((sum, f) => sum + f.length, 0);
    expect(sync.seen).toEqual([{ size: written, failed: false }]); // one sync per batch, after the whole write
    writer.commit([frame('m4')]);
    expect(sync.seen).toHaveLength(2);
    expect(sync.seen[1]?.size).toBe(written + frame('m4').length);
    expect(idsInSegment(walDir, 1)).toEqual(['m1', 'm2', 'm3', 'm4']);
    writer.close();
  });

  it('a failed sync throws, leaves no replayable trace of its batch, and the log goes on in a new segment', () => {
    const sync = watchedSync(2);
    const writer = new SegmentWriter(walDir, new SparePool(walDir, sync), sync);
    writer.open(1);
    writer.commit([frame('kept')]);
    expect(() => writer.commit([frame('refused1'), frame('refused2')])).toThrow(/EIO/);
    expect(idsInSegment(walDir, 1)).toEqual(['kept']); // the refused records were written, then zeroed
    expect(writer.seq).toBe(2);
    writer.commit([frame('after')]);
    expect(idsInSegment(walDir, 2)).toEqual(['after']);
    expect(sync.seen.map((s) => s.failed)).toEqual([false, true, false, false]); // the zeroing was synced too
    writer.close();
  });
});
