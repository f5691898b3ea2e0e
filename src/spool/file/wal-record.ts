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

/** Frame: u32 payload length, u32 crc32(payload), payload = u32 json length, json, body. */
export function encodeRecord(entry: WalEntry, body: readonly Buffer[] = []): Buffer[] {
  const json = Buffer.from(JSON.stringify(entry), 'utf8');
  const jsonLength = Buffer.allocUnsafe(4);
  jsonLength.writeUInt32LE(json.length, 0);
  const parts = [jsonLength, json, ...body];
  let length = 0;
  let crc = 0;
  for (const part of parts) {
    length += part.length;
    crc = crc32(part, crc);
  }
  const header = Buffer.allocUnsafe(FRAME_HEADER);
  header.writeUInt32LE(length, 0);
  header.writeUInt32LE(crc, 4);
  return [header, ...parts];
}

/**
 * Decodes every complete, intact record of a segment. A torn or corrupt tail
 * (a crash during a write that was never acknowledged) ends the scan.
 */
export function decodeSegment(data: Buffer): { records: DecodedRecord[]; validBytes: number } {
  const records: DecodedRecord[] = [];
  let offset = 0;
  while (offset + FRAME_HEADER <= data.length) {
    const length = data.readUInt32LE(offset);
    const crc = data.readUInt32LE(offset + 4);
    const end = offset + FRAME_HEADER + length;
    if (length < 4 || end > data.length) break;
    const payload = data.subarray(offset + FRAME_HEADER, end);
    if (crc32(payload) !== crc) break;
    const jsonLength = payload.readUInt32LE(0);
    if (4 + jsonLength > payload.length) break;
    const entry = JSON.parse(payload.subarray(4, 4 + jsonLength).toString('utf8')) as WalEntry;
    records.push({ entry, body: payload.subarray(4 + jsonLength) });
    offset = end;
  }
  return { records, validBytes: offset };
}
