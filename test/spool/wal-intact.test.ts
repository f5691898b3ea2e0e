/**
 * How far a log segment's intact frames reach (`intactPrefix` in
 * src/spool/file/wal-record.ts), which decides whether the replay reads on
 * (a frame cut off by the end of what was read so far) or stops (a frame
 * that can never be intact: too short, or sealed for another segment).
 */
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { encodeRecord, intactPrefix, sealFrame, type WalEntry } from '../../src/spool/file/wal-record.js';

const del = (id: string): WalEntry => ({ t: 'del', id, receivedAt: 0, recipients: ['a@b.test'] });
const frame = (id: string, seq: number): Buffer => sealFrame(encodeRecord(del(id)).frame, seq);

/** A frame whose payload is exactly `payload`, sealed for `seq`. */
function rawFrame(payload: Buffer, seq: number): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32LE(payload.length, 0);
  header.writeUInt32LE(crc32(payload, seq), 4);
  return Buffer.concat([header, payload]);
}

describe('intact prefix of a log segment', () => {
  it('reaches past every whole frame and asks for more at the end', () => {
    const a = frame('a', 5);
    const b = frame('b', 5);
    expect(intactPrefix(Buffer.concat([a, b]), 5)).toEqual({ end: a.length + b.length, more: true });
    expect(intactPrefix(Buffer.alloc(0), 5)).toEqual({ end: 0, more: true });
  });

  it('starts at the boundary it is given', () => {
    const a = frame('a', 5);
    const b = frame('b', 5);
    const data = Buffer.concat([a, b]);
    expect(intactPrefix(data, 5, a.length)).toEqual({ end: data.length, more: true });
  });

  it('asks for more when a frame or its header is cut off by the end of the data', () => {
    const a = frame('a', 5);
    const b = frame('b', 5);
    expect(intactPrefix(Buffer.concat([a, b.subarray(0, b.length - 1)]), 5)).toEqual({ end: a.length, more: true });
    expect(intactPrefix(Buffer.concat([a, b.subarray(0, 8)]), 5)).toEqual({ end: a.length, more: true });
    expect(intactPrefix(Buffer.concat([a, b.subarray(0, 7)]), 5)).toEqual({ end: a.length, more: true });
  });

  it('stops for good at a header too short to be a frame (zero-filled space)', () => {
    const a = frame('a', 5);
    expect(intactPrefix(Buffer.concat([a, Buffer.alloc(8)]), 5)).toEqual({ end: a.length, more: false });
    expect(intactPrefix(Buffer.concat([a, Buffer.alloc(64)]), 5)).toEqual({ end: a.length, more: false });
  });

  it('takes the shortest payload a frame can have (its four-byte length field)', () => {
    const shortest = rawFrame(Buffer.alloc(4), 5);
    expect(intactPrefix(Buffer.concat([shortest, frame('b', 5)]), 5)).toEqual({
      end: shortest.length + frame('b', 5).length,
      more: true,
    });
  });

  it('stops for good at a frame sealed for another segment', () => {
    const a = frame('a', 5);
    expect(intactPrefix(Buffer.concat([a, frame('old', 3)]), 5)).toEqual({ end: a.length, more: false });
    expect(intactPrefix(Buffer.concat([a, frame('x', 0)]), 5)).toEqual({ end: a.length, more: false });
  });

  it('reads a segment from before seeding (its first frame sealed with 0) to the end, resumed or not', () => {
    const x = frame('x', 0);
    const y = frame('y', 0);
    const data = Buffer.concat([x, y, frame('z', 5)]);
    expect(intactPrefix(data, 5)).toEqual({ end: x.length + y.length, more: false });
    expect(intactPrefix(data, 5, x.length)).toEqual({ end: x.length + y.length, more: false });
  });
});
