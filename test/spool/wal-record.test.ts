import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeSegment, encodeRecord, sealFrame, type WalEntry } from '../../src/spool/file/wal-record.js';

const del = (id: string): WalEntry => ({ t: 'del', id: id, receivedAt: 0, recipients: ['a@b.test'] });

function frame(entry: WalEntry, seq: number, body = ''): Buffer {
  return sealFrame(encodeRecord(entry, body ? [Buffer.from(body)] : []).frame, seq);
}

describe('write-ahead log frames', () => {
  it('round-trips records and inline bodies of one segment', () => {
    const data = Buffer.concat([frame(del('a'), 7, 'hello'), frame(del('b'), 7)]);
    const { records, validBytes } = decodeSegment(data, 7);
    expect(records.map((r) => [r.entry.t === 'del' && r.entry.id, r.body.toString()])).toEqual([
      ['a', 'hello'],
      ['b', ''],
    ]);
    expect(validBytes).toBe(data.length);
  });

  it('stops at frames sealed for another segment (what a reused file held before)', () => {
    const data = Buffer.concat([frame(del('new'), 9), frame(del('old1'), 3), frame(del('old2'), 3)]);
    const { records, validBytes } = decodeSegment(data, 9);
    expect(records).toHaveLength(1);
    expect(validBytes).toBe(frame(del('new'), 9).length);
  });

  it('stops at a torn tail', () => {
    const whole = Buffer.concat([frame(del('a'), 2), frame(del('b'), 2)]);
    expect(decodeSegment(whole.subarray(0, whole.length - 3), 2).records).toHaveLength(1);
  });

  it('still reads a segment from before checksums were seeded', () => {
    const legacy = (entry: WalEntry): Buffer => {
      const { frame: f } = encodeRecord(entry);
      f.writeUInt32LE(crc32(f.subarray(8)), 4);
      return f;
    };
    const { records } = decodeSegment(Buffer.concat([legacy(del('a')), legacy(del('b'))]), 5);
    expect(records).toHaveLength(2);
  });
});
