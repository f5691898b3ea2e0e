/**
 * Pages of message ids from the date folders, oldest first, without holding
 * a folder's whole listing: each folder is streamed and only the page's
 * worth of smallest ids after the cursor is kept. Ids are time-ordered and a
 * message's folder is the date of its id's time (the day before, for ids
 * made by versions that took the time a moment later), so the walk starts
 * at the cursor's day and stops once later folders can only hold later ids.
 */
import { opendir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { MessageId } from '../../domain/envelope.js';
import { idTime } from './message-ids.js';
import { dateDirOf, isDateDir, isMessageId } from './paths.js';

const DAY_MS = 86_400_000;

/** The `limit` smallest ids above `after`, sorted; `extra` adds ids whose state file may not exist yet. */
export async function pageOfIds(
  root: string,
  after: MessageId | undefined,
  limit: number,
  extra: Iterable<MessageId>,
): Promise<MessageId[]> {
  const page = new SmallestIds(limit, after);
  for (const id of extra) page.offer(id);
  const first = after === undefined ? undefined : dateDirOf(idTime(after) - DAY_MS);
  const dirs = (await readdir(root).catch(() => [] as string[])).filter(isDateDir).sort();
  for (const dir of dirs) {
    if (first !== undefined && dir < first) continue;
    const largest = page.largest();
    if (page.full && largest !== undefined && dir > dateDirOf(idTime(largest) + DAY_MS)) break;
    for await (const id of stateIds(join(root, dir))) page.offer(id);
  }
  return page.ids();
}

/** Ids of the state files (`<id>.json`) in one date folder, streamed. */
export async function* stateIds(dir: string): AsyncGenerator<MessageId> {
  let handle;
  try {
    handle = await opendir(dir, { bufferSize: 256 });
  } catch {
    return; // removed meanwhile (its last message expired)
  }
  for await (const entry of handle) {
    const name = entry.name;
    if (name.length === 25 && name.endsWith('.json')) {
      const id = name.slice(0, 20);
      if (isMessageId(id)) yield id;
    }
  }
}

/** Keeps the `limit` smallest ids above a floor, in order. */
class SmallestIds {
  private readonly kept: MessageId[] = [];
  private readonly seen = new Set<MessageId>();

  constructor(
    private readonly limit: number,
    private readonly floor: MessageId | undefined,
  ) {}

  get full(): boolean {
    return this.kept.length >= this.limit;
  }

  largest(): MessageId | undefined {
    return this.kept[this.kept.length - 1];
  }

  offer(id: MessageId): void {
    if (this.floor !== undefined && id <= this.floor) return;
    if (this.full && id >= (this.largest() ?? id)) return;
    if (this.seen.has(id)) return;
    let i = this.kept.length;
    while (i > 0 && id < (this.kept[i - 1] ?? id)) i--;
    this.kept.splice(i, 0, id);
    this.seen.add(id);
    if (this.kept.length > this.limit) {
      const dropped = this.kept.pop();
      if (dropped !== undefined) this.seen.delete(dropped);
    }
  }

  ids(): MessageId[] {
    return [...this.kept];
  }
}
