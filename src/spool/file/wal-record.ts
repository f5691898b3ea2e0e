import { crc32 } from 'node:zlib';
import type { MessageId, MessageRecord, RecipientState } from '../../domain/envelope.js';

/** What the write-ahead log carries. Replay applies entries in order. */
export type WalEntry =
  | { readonly t: 'msg'; readonly record: MessageRecord; readonly inline: boolean }
  | {
      readonly t: 'state';
      readonly id: MessageId;
      readonly receivedAt: number;
      readonly recipients: readonly RecipientState[];
    }
  | { readonly t: 'del'; readonly id: MessageId; readonly receivedAt: number; readonly recipients: readonly string[] };

export interface DecodedRecord {
  readonly entry: WalEntry;
  readonly body: Buffer;
}

const FRAME_HEADER = 8;

/**
 * Frame: u32 payload length, u32 crc32(payload) seeded with the segment's
 * number, payload = u32 json length, json, body. The seed is what makes a
 * recycled segment safe: bytes left over from the file's earlier use carry an
 * older number and end the scan. The crc is filled in by whoever writes the
 * frame (`sealFrame`), once the segment is known. One buffer that owns its
 * memory (so it can be moved to the I/O thread); `bodyAt` is where the body
 * starts in it.
 */
export function encodeRecord(entry: WalEntry, body: readonly Buffer[] = []): { frame: Buffer; bodyAt: number } {
  const json = JSON.stringify(entry);
  const jsonLength = Buffer.byteLength(json, 'utf8');
  let bodyLength = 0;
  for (const part of body) bodyLength += part.length;
  const bodyAt = FRAME_HEADER + 4 + jsonLength;
  const frame = Buffer.allocUnsafeSlow(bodyAt + bodyLength);
  frame.writeUInt32LE(4 + jsonLength + bodyLength, 0);
  frame.writeUInt32LE(0, 4);
  frame.writeUInt32LE(jsonLength, FRAME_HEADER);
  frame.write(json, FRAME_HEADER + 4, 'utf8');
  let offset = bodyAt;
  for (const part of body) offset += part.copy(frame, offset);
  return { frame, bodyAt };
}

/** Fills in a frame's checksum for segment `seq` (also done, by the same rule, in the I/O thread). */
export function sealFrame(frame: Buffer, seq: number): Buffer {
  frame.writeUInt32LE(frameCrc(frame.subarray(FRAME_HEADER), seq), 4);
  return frame;
}

function frameCrc(payload: Buffer, seq: number): number {
  return crc32(payload, seq >>> 0);
}

/**
 * The seed segment `seq`'s frames were sealed with: its number, or 0 for a
 * segment written before checksums were seeded, known by its first frame.
 */
function seedOf(data: Buffer, seq: number): number {
  if (data.length < FRAME_HEADER) return seq;
  const length = data.readUInt32LE(0);
  if (length < 4 || FRAME_HEADER + length > data.length) return seq;
  const crc = data.readUInt32LE(4);
  const payload = data.subarray(FRAME_HEADER, FRAME_HEADER + length);
  return frameCrc(payload, seq) !== crc && frameCrc(payload, 0) === crc ? 0 : seq;
}

/**
 * How far the intact frames of segment `seq` reach in `data` (the segment
 * from its start), beginning at `from` (a frame boundary), checking lengths
 * and checksums only. `more`: the data ended inside a frame that may still
 * be intact (read on); else a frame that can never be intact ends the
 * segment (stop reading).
 */
export function intactPrefix(data: Buffer, seq: number, from = 0): { end: number; more: boolean } {
  const seed = seedOf(data, seq);
  let offset = from;
  while (offset + FRAME_HEADER <= data.length) {
    const length = data.readUInt32LE(offset);
    const end = offset + FRAME_HEADER + length;
    if (length < 4) return { end: offset, more: false };
    if (end > data.length) return { end: offset, more: true };
    const crc = data.readUInt32LE(offset + 4);
    if (frameCrc(data.subarray(offset + FRAME_HEADER, end), seed) !== crc) return { end: offset, more: false };
    offset = end;
  }
  return { end: offset, more: true };
}

/**
 * Decodes every complete, intact record of segment `seq`. A torn or corrupt
 * tail (a crash during a write that was never acknowledged) or bytes from the
 * file's earlier use as another segment end the scan. Segments written before
 * checksums were seeded (seed 0) are still read.
 */
export function decodeSegment(data: Buffer, seq: number): { records: DecodedRecord[]; validBytes: number } {
  const records: DecodedRecord[] = [];
  const seed = seedOf(data, seq);
  let offset = 0;
  while (offset + FRAME_HEADER <= data.length) {
    const length = data.readUInt32LE(offset);
    const crc = data.readUInt32LE(offset + 4);
    const end = offset + FRAME_HEADER + length;
    if (length < 4 || end > data.length) break;
    const payload = data.subarray(offset + FRAME_HEADER, end);
    if (frameCrc(payload, seed) !== crc) break;
    const jsonLength = payload.readUInt32LE(0);
    if (4 + jsonLength > payload.length) break;
    const entry = JSON.parse(payload.subarray(4, 4 + jsonLength).toString('utf8')) as WalEntry;
    records.push({ entry, body: payload.subarray(4 + jsonLength) });
    offset = end;
  }
  return { records, validBytes: offset };
}
