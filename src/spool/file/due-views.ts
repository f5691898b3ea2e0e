/**
 * Read-only views over the due index's live entries, each in one pass over
 * them: the queue's shape (waiting recipients per destination domain and
 * minute of arrival) and one page of message ids in id order.
 *
 * In: the live entries (the id's two halves, the first being the arrival
 * time, and the waiting recipients per domain). Out: shape cells, or ids.
 */
import type { MessageId } from '../../domain/envelope.js';
import type { ShapeCell } from '../spool.js';
import type { DomainCounts } from './due-index.js';
import { joinId, type IdParts } from './message-ids.js';

export interface LiveEntry extends IdParts {
  readonly domains: DomainCounts;
}

/** Waiting recipients per domain and minute of arrival (the id's time). */
export function shapeOf(entries: Iterable<LiveEntry>): ShapeCell[] {
  const cells = new Map<string, Map<number, number>>();
  for (const { time, domains } of entries) {
    const minute = Math.floor(time / 60_000) * 60_000;
    for (const [domain, n] of domains) {
      const byMinute = cells.get(domain) ?? new Map<number, number>();
      byMinute.set(minute, (byMinute.get(minute) ?? 0) + n);
      cells.set(domain, byMinute);
    }
  }
  return [...cells].flatMap(([domain, byMinute]) =>
    [...byMinute].map(([minute, recipients]) => ({ domain, minute, recipients })),
  );
}

const before = (a: IdParts, b: IdParts): boolean => a.time < b.time || (a.time === b.time && a.random < b.random);

/** Up to `limit` ids after `after`, in id order (oldest first). */
export function pageOf(entries: Iterable<IdParts>, after: IdParts | undefined, limit: number): MessageId[] {
  const picked: IdParts[] = [];
  for (const entry of entries) {
    const key = { time: entry.time, random: entry.random };
    if (after && !before(after, key)) continue;
    if (picked.length === limit && !before(key, picked[limit - 1] ?? key)) continue;
    // insertion into a short sorted list: `limit` is a page, not the queue
    let i = picked.length;
    while (i > 0 && before(key, picked[i - 1] ?? key)) i--;
    picked.splice(i, 0, key);
    if (picked.length > limit) picked.pop();
  }
  return picked.map((k) => joinId(k.time, k.random));
}
