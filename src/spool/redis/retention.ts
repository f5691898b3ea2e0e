/**
 * `expire`: the retention sweep. Walks `messages` from the oldest, only as far
 * as messages that arrived before the cutoff, a page at a time, and lets
 * `expireScript` remove the finished ones of each page atomically (a message
 * that is waiting again, or was updated since, is left alone). Redis' own
 * expiry (PEXPIRE on the last update) usually gets there first; this sweep
 * catches what it did not and drops stale index entries.
 */
import type { Redis } from 'ioredis';
import type { RedisKeys } from './keys.js';
import { zpage, type Position } from './paging.js';
import { guarded, numbers } from './replies.js';
import { expireScript } from './state-scripts.js';

/** Messages looked at per script call: Redis is never blocked for long. */
const EXPIRE_BATCH = 100;

export interface ExpireResult {
  readonly removed: number;
  /** Stopped at the limit with messages left to look at. */
  readonly more: boolean;
}

export async function expireFinished(
  redis: Redis,
  keys: RedisKeys,
  before: number,
  limit: number,
): Promise<ExpireResult> {
  let removed = 0;
  let after: Position | undefined;
  while (removed < limit) {
    const page = await guarded(() => zpage(redis, keys.messages, after, `(${before}`, EXPIRE_BATCH));
    if (page.entries.length === 0) break;
    const ids = page.entries.map((e) => e.id);
    const reply = await guarded(() =>
      expireScript.run(
        redis,
        [keys.messages, keys.due, keys.waiting, keys.claims, keys.owners],
        [before, limit - removed, keys.msgPrefix, keys.bodyPrefix, keys.heldPrefix, ...ids],
      ),
    );
    const [gone = 0, looked = 0] = numbers(reply);
    removed += gone;
    if (removed >= limit) return { removed, more: looked < ids.length || page.more };
    if (!page.more) break;
    after = page.entries.at(-1);
  }
  return { removed, more: false };
}
