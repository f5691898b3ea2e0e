/**
 * The due journal's records (pure functions: derived from a message record,
 * encoded, decoded): what the due index must know of
 * a message after a restart, so start-up reads one file of compact records
 * instead of every message's state file.
 *
 *   set   id, next due time, last due time, waiting recipients per destination domain
 *   drop  id (delivered, bounced or removed: the index forgets it)
 *
 * Frame: u32 payload length, u32 crc32(payload), payload = u8 kind, 20 bytes
 * id, then for `set`: f64 due, f64 last, u16 domain count, per domain u8 name length,
 * name (UTF-8, at most 255 bytes), u32 recipients. A torn or corrupt frame
 * ends a file's replay: everything after it was never written whole.
 */
import { crc32 } from 'node:zlib';
import { domainOf, isWaiting, type MessageId, type MessageRecord } from '../../domain/envelope.js';
import type { DueEntry } from './due-index.js';

export type JournalRecord =
  { readonly kind: 'set'; readonly entry: DueEntry } | { readonly kind: 'drop'; readonly id: MessageId };

/** What the due index must know of a record: when it is next due and who waits where, or that nothing waits. */
export function journalRecordOf(record: MessageRecord): JournalRecord {
  let due = Infinity;
  let last = -Infinity;
  const domains = new Map<string, number>();
  for (const r of record.recipients) {
    if (!isWaiting(r.status)) continue;
    due = Math.min(due, r.nextAttemptAt);
    last = Math.max(last, r.nextAttemptAt);
    const domain = domainOf(r.recipient);
    domains.set(domain, (domains.get(domain) ?? 0) + 1);
  }
  if (domains.size === 0) return { kind: 'drop', id: record.id };
  const entry: DueEntry = { id: record.id, due, last, domains: [...domains] };
  return { kind: 'set', entry };
}

const SET = 1;
const DROP = 2;
const HEADER = 8;
const ID_BYTES = 20;

export function encodeJournalRecord(record: JournalRecord): Buffer {
  if (record.kind === 'drop') return frame(Buffer.concat([Buffer.from([DROP]), Buffer.from(record.id, 'latin1')]));
  const { id, due, last, domains } = record.entry;
  const names = domains.map(([domain]) => Buffer.from(domain, 'utf8').subarray(0, 255));
  const payload = Buffer.allocUnsafe(1 + ID_BYTES + 16 + 2 + names.reduce((sum, n) => sum + 1 + n.length + 4, 0));
  payload[0] = SET;
  payload.write(id, 1, ID_BYTES, 'latin1');
  payload.writeDoubleLE(due, 1 + ID_BYTES);
  payload.writeDoubleLE(last, 1 + ID_BYTES + 8);
  payload.writeUInt16LE(domains.length, 1 + ID_BYTES + 16);
  let at = 1 + ID_BYTES + 16 + 2;
  domains.forEach(([, count], i) => {
    const name = names[i] ?? Buffer.alloc(0);
    payload[at] = name.length;
    name.copy(payload, at + 1);
    payload.writeUInt32LE(count, at + 1 + name.length);
    at += 1 + name.length + 4;
  });
  return frame(payload);
}

function frame(payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HEADER + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.writeUInt32LE(crc32(payload), 4);
  payload.copy(out, HEADER);
  return out;
}

/** Every intact record of one journal file, in order, and how many bytes they cover. */
export function decodeJournal(data: Buffer): { records: JournalRecord[]; validBytes: number } {
  const records: JournalRecord[] = [];
  const validBytes = eachRecord(data, (record) => records.push(record));
  return { records, validBytes };
}

/**
 * Calls `apply` for each intact record at the start of `data`, without
 * keeping them; returns the bytes they cover (a torn or corrupt frame stops
 * it: the rest is the caller's to carry over or to drop).
 */
export function eachRecord(data: Buffer, apply: (record: JournalRecord) => void): number {
  let offset = 0;
  while (offset + HEADER <= data.length) {
    const length = data.readUInt32LE(offset);
    const end = offset + HEADER + length;
    if (length < 1 + ID_BYTES || end > data.length) break;
    const payload = data.subarray(offset + HEADER, end);
    if (crc32(payload) !== data.readUInt32LE(offset + 4)) break;
    const record = decodePayload(payload);
    if (!record) break;
    apply(record);
    offset = end;
  }
  return offset;
}

function decodePayload(payload: Buffer): JournalRecord | undefined {
  const id = payload.toString('latin1', 1, 1 + ID_BYTES);
  if (payload[0] === DROP) return { kind: 'drop', id };
  if (payload[0] !== SET || payload.length < 1 + ID_BYTES + 18) return undefined;
  const due = payload.readDoubleLE(1 + ID_BYTES);
  const last = payload.readDoubleLE(1 + ID_BYTES + 8);
  const count = payload.readUInt16LE(1 + ID_BYTES + 16);
  const domains: [string, number][] = [];
  let at = 1 + ID_BYTES + 18;
  for (let i = 0; i < count; i++) {
    const length = payload[at];
    if (length === undefined || at + 1 + length + 4 > payload.length) return undefined;
    domains.push([payload.toString('utf8', at + 1, at + 1 + length), payload.readUInt32LE(at + 1 + length)]);
    at += 1 + length + 4;
  }
  return { kind: 'set', entry: { id, due, last, domains } };
}
