/**
 * `list`: one page of messages (all, or those still waiting), oldest first,
 * read from the `messages` or `waiting` index and fetched one pipeline per
 * page. Ids whose hash is gone (expired by retention) are dropped from the
 * indexes on the way, as the listing meets them.
 */
import type { Redis } from 'ioredis';
import type { MessageRecord } from '../../domain/envelope.js';
import type { ListOptions, Page } from '../spool.js';
import type { RedisKeys } from './keys.js';
import { decodeCursor, encodeCursor, zpage, type Position } from './paging.js';
import { decodeRecord } from './record.js';
import { guarded, isStringRecord, pipelineReplies } from './replies.js';

/** The most items one page holds (ListOptions.limit is 1..1000). */
const MAX_PAGE = 1000;

export async function listPage(redis: Redis, keys: RedisKeys, options: ListOptions): Promise<Page<MessageRecord>> {
  const limit = Math.max(1, Math.min(MAX_PAGE, Math.floor(options.limit)));
  const index = options.waiting === true ? keys.waiting : keys.messages;
  let after: Position | undefined = options.after === undefined ? undefined : decodeCursor(options.after);
  const items: MessageRecord[] = [];
  // Usually one round: another only when ids of the page turned out stale.
  for (;;) {
    const page = await guarded(() => zpage(redis, index, after, '+inf', limit - items.length));
    const { records, gone } = await guarded(() =>
      fetchRecords(
        redis,
        keys,
        page.entries.map((e) => e.id),
      ),
    );
    items.push(...records);
    if (gone.length > 0)
      await redis
        .pipeline()
        .zrem(keys.messages, ...gone)
        .zrem(keys.waiting, ...gone)
        .exec()
        .catch(() => undefined);
    after = page.entries.at(-1) ?? after;
    if (!page.more || after === undefined) return { items };
    if (items.length >= limit) return { items, next: encodeCursor(after) };
  }
}

/** The records of `ids` in order (one pipeline), and the ids whose hash no longer exists. */
async function fetchRecords(
  redis: Redis,
  keys: RedisKeys,
  ids: readonly string[],
): Promise<{ records: MessageRecord[]; gone: string[] }> {
  if (ids.length === 0) return { records: [], gone: [] };
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.hgetall(keys.msg(id));
  const replies = pipelineReplies(await pipeline.exec());
  const records: MessageRecord[] = [];
  const gone: string[] = [];
  ids.forEach((id, i) => {
    const fields = replies[i];
    const record = decodeRecord(id, isStringRecord(fields) ? fields : {});
    if (record) records.push(record);
    else if (isStringRecord(fields) && Object.keys(fields).length === 0) gone.push(id);
  });
  return { records, gone };
}
