/**
 * How the log writer (src/spool/file/io/segment-writer.ts) moves between
 * segments, against real files: it opens past every spare's number on a
 * spare's blocks, fills them up to the byte before it moves on, moves on
 * only when a spare is ready (else grows the file and says so), and leaves a
 * segment whose name was deleted under it.
 */
import { existsSync, readdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SegmentWriter } from '../../src/spool/file/io/segment-writer.js';
import { SparePool, segmentName } from '../../src/spool/file/io/spare-pool.js';
import { encodeRecord } from '../../src/spool/file/wal-record.js';
import { idsInSegment } from '../helpers/spool.js';

const frame = (id: string): Buffer =>
  encodeRecord({ t: 'del', id, receivedAt: 0, recipients: ['a@b.test'] }, [Buffer.from(`body of ${id}`)]).frame;
const L = frame('m1').length; // every frame below has this length (ids of two characters)

let walDir: string;
beforeEach(async () => {
  walDir = join(await mkdtemp(join(tmpdir(), 'gp-rotation-')), 'wal');
  await mkdir(walDir);
});
afterEach(async () => {
  await rm(join(walDir, '..'), { recursive: true, force: true });
});

function spare(seq: number, bytes: number): string {
  const path = join(walDir, `spare-${String(seq).padStart(12, '0')}.wal`);
  writeFileSync(path, Buffer.alloc(bytes));
  return path;
}

describe('the log writer between segments', () => {
  it('refuses to write or rotate before it is opened', () => {
    const writer = new SegmentWriter(walDir, new SparePool(walDir));
    expect(writer.opened).toBe(false);
    expect(() => writer.commit([frame('m1')])).toThrow('write-ahead log is not open');
    expect(() => writer.rotate()).toThrow('write-ahead log is not open');
  });

  it('opens past every spare’s number, on the largest spare’s blocks', () => {
    spare(7, 2 * L);
    spare(3, 4 * L);
    const writer = new SegmentWriter(walDir, new SparePool(walDir));
    writer.open(1);
    expect(writer.seq).toBe(8);
    expect(statSync(join(walDir, segmentName(8))).size).toBe(4 * L); // the larger spare, renamed
    expect(readdirSync(walDir).sort()).toEqual([segmentName(8), 'spare-000000000007.wal']);
    writer.close();
    writer.close(); // closing twice is harmless
  });

  it('opens at the number asked when it is above every spare', () => {
    spare(2, L);
    const writer = new SegmentWriter(walDir, new SparePool(walDir));
    writer.open(5);
    expect(writer.seq).toBe(5);
    writer.close();
  });

  it('fills a spare’s blocks to the last byte, then moves on to the next spare, growing nothing', () => {
    spare(1, 2 * L);
    const writer = new SegmentWriter(walDir, new SparePool(walDir));
    writer.open(1);
    expect(writer.seq).toBe(2);
    expect(writer.commit([frame('m1')])).toEqual({ grew: false });
    expect(writer.commit([frame('m2')])).toEqual({ grew: false }); // exactly full
    expect(writer.seq).toBe(2);
    spare(0, 2 * L);
    expect(writer.commit([frame('m3')])).toEqual({ grew: false });
    expect(writer.seq).toBe(3);
    expect(idsInSegment(walDir, 2)).toEqual(['m1', 'm2']);
    expect(idsInSegment(walDir, 3)).toEqual(['m3']);
    writer.close();
  });

  it('grows its file when no spare is ready, and says so', () => {
    spare(1, L);
    const writer = new SegmentWriter(walDir, new SparePool(walDir));
    writer.open(1);
    expect(writer.commit([frame('m1')])).toEqual({ grew: false });
    expect(writer.commit([frame('m2'), frame('m3')])).toEqual({ grew: true });
    expect(writer.seq).toBe(2);
    expect(writer.size).toBe(3 * L);
    expect(idsInSegment(walDir, 2)).toEqual(['m1', 'm2', 'm3']);
    writer.close();
  });

  it('grows a new file from its first commit', () => {
    const writer = new SegmentWriter(walDir, new SparePool(walDir));
    writer.open(1);
    expect(writer.commit([frame('m1')])).toEqual({ grew: true });
    writer.close();
  });

  it('leaves a segment whose name was deleted under it for a new one', () => {
    const writer = new SegmentWriter(walDir, new SparePool(walDir));
    writer.open(1);
    writer.commit([frame('m1')]);
    unlinkSync(join(walDir, segmentName(1)));
    writer.commit([frame('m2')]);
    expect(writer.seq).toBe(2);
    expect(idsInSegment(walDir, 2)).toEqual(['m2']);
    expect(existsSync(join(walDir, segmentName(1)))).toBe(false);
    writer.close();
  });

  it('rotates to the next number and answers the sealed one', () => {
    const writer = new SegmentWriter(walDir, new SparePool(walDir));
    writer.open(4);
    writer.commit([frame('m1')]);
    expect(writer.rotate()).toBe(4);
    expect(writer.seq).toBe(5);
    expect(writer.size).toBe(0);
    writer.commit([frame('m2')]);
    expect(idsInSegment(walDir, 5)).toEqual(['m2']);
    writer.close();
  });
});
