import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { MessageId } from '../../domain/envelope.js';

/**
 * The one module that knows where the file spool keeps things:
 *
 *   <root>/YYYY-MM-DD/<id>_<sha256(rcpt)[0:16]>.eml   one name per recipient, hard links to one body
 *   <root>/YYYY-MM-DD/<id>.json                      envelope and per-recipient state
 *   <root>/tmp/                                      files being written (never a message)
 *   <root>/wal/<seq>.wal                             group-commit write-ahead log segments
 */
export const ID_PATTERN = /^[0-9a-z]{20}$/;
const DATE_DIR = /^\d{4}-\d{2}-\d{2}$/;

export function isMessageId(value: string): value is MessageId {
  return ID_PATTERN.test(value);
}

export function isDateDir(name: string): boolean {
  return DATE_DIR.test(name);
}

/** UTC date folder of an acceptance time. */
export function dateDirOf(receivedAt: number): string {
  return new Date(receivedAt).toISOString().slice(0, 10);
}

export function recipientHash(recipient: string): string {
  return createHash('sha256').update(recipient).digest('hex').slice(0, 16);
}

export interface SpoolPaths {
  readonly root: string;
  readonly tmp: string;
  readonly wal: string;
  readonly dateDir: (receivedAt: number) => string;
  readonly bodyFile: (id: MessageId, receivedAt: number, recipient: string) => string;
  readonly stateFile: (id: MessageId, receivedAt: number) => string;
  readonly tmpBody: (id: MessageId) => string;
  readonly segment: (seq: number) => string;
}

export function spoolPaths(root: string): SpoolPaths {
  const tmp = join(root, 'tmp');
  const wal = join(root, 'wal');
  const dateDir = (receivedAt: number): string => join(root, dateDirOf(receivedAt));
  return {
    root,
    tmp,
    wal,
    dateDir,
    bodyFile: (id, receivedAt, recipient) => join(dateDir(receivedAt), `${id}_${recipientHash(recipient)}.eml`),
    stateFile: (id, receivedAt) => join(dateDir(receivedAt), `${id}.json`),
    tmpBody: (id) => join(tmp, `${id}.eml`),
    segment: (seq) => join(wal, `${String(seq).padStart(12, '0')}.wal`),
  };
}

export function segmentSeq(name: string): number | undefined {
  const match = /^(\d{12})\.wal$/.exec(name);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}
