import { createHash } from 'node:crypto';
import { join, sep } from 'node:path';
import type { MessageId } from '../../domain/envelope.js';

/**
 * The one module that knows where the file spool keeps things:
 *
 *   <root>/YYYY-MM-DD/<id>_<sha256(rcpt)[0:16]>.eml   one name per recipient, hard links to one body
 *   <root>/YYYY-MM-DD/<id>.json                      envelope and per-recipient state
 *   <root>/tmp/                                      files being written (never a message)
 *   <root>/wal/<seq>.wal                             group-commit write-ahead log segments
 *   <root>/due/                                      the due journal: what waits, and when (due-files.ts)
 */
export const ID_PATTERN = /^[0-9a-z]{20}$/;
const DATE_DIR = /^\d{4}-\d{2}-\d{2}$/;

export function isMessageId(value: string): value is MessageId {
  return ID_PATTERN.test(value);
}

export function isDateDir(name: string): boolean {
  return DATE_DIR.test(name);
}

const DAY_MS = 86_400_000;
let lastDay = Number.NaN;
let lastDayName = '';

/** UTC date folder of an acceptance time (the last day's name is kept: every message asks). */
export function dateDirOf(receivedAt: number): string {
  const day = Math.floor(receivedAt / DAY_MS);
  if (day !== lastDay) {
    lastDayName = new Date(day * DAY_MS).toISOString().slice(0, 10);
    lastDay = day;
  }
  return lastDayName;
}

export function recipientHash(recipient: string): string {
  return createHash('sha256').update(recipient).digest('hex').slice(0, 16);
}

export interface SpoolPaths {
  readonly root: string;
  readonly tmp: string;
  readonly wal: string;
  readonly due: string;
  readonly dateDir: (receivedAt: number) => string;
  readonly bodyFile: (id: MessageId, receivedAt: number, recipient: string) => string;
  readonly stateFile: (id: MessageId, receivedAt: number) => string;
  readonly tmpBody: (id: MessageId) => string;
}

/**
 * Per-message names are joined by hand under the root normalized once
 * (`path.join` re-normalizes the whole path on every call, and every message
 * makes several): ids, hashes and dates never hold `/` or `.` segments.
 */
export function spoolPaths(root: string): SpoolPaths {
  const base = join(root, sep);
  const tmp = join(root, 'tmp');
  const wal = join(root, 'wal');
  const dateDir = (receivedAt: number): string => base + dateDirOf(receivedAt);
  return {
    root,
    tmp,
    wal,
    due: join(root, 'due'),
    dateDir,
    bodyFile: (id, receivedAt, recipient) => `${dateDir(receivedAt)}${sep}${id}_${recipientHash(recipient)}.eml`,
    stateFile: (id, receivedAt) => `${dateDir(receivedAt)}${sep}${id}.json`,
    tmpBody: (id) => `${tmp}${sep}${id}.eml`,
  };
}

export function segmentSeq(name: string): number | undefined {
  const match = /^(\d{12})\.wal$/.exec(name);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}
