/**
 * Handing messages out and taking them back (the Redis side of `claim`,
 * `release` and `nextDueAt`), over the scripts of claim-scripts.ts.
 *
 * A claim takes a whole message out of `due` and records its owner
 * (`claims`, `owners`, `held:<node>`). It has no lease: it stays until the
 * owner releases it, however long an attempt takes. A node whose heartbeat
 * lapsed (node-presence.ts) is dead, and any other node's next claim first
 * hands the dead node's claims back to `due`. So a dead daemon's work
 * resumes elsewhere after about `nodeTtlMs`, and `nextDueAt` includes that
 * moment so the survivors' schedulers wake for it.
 *
 * In: the connection, key layout and this node's name and TTL (`ClaimNode`).
 * Out: the claimed records with their due recipients; whether a release put
 * a message back (the caller wakes); the next moment a claim could succeed.
 * Redis failures come out as SpoolError.
 */
import type { Redis } from 'ioredis';
import type { ClaimedMessage } from '../../domain/delivery.js';
import type { MessageId } from '../../domain/envelope.js';
import { claimScript, nextDueScript, releaseScript } from './claim-scripts.js';
import type { RedisKeys } from './keys.js';
import type { SpoolLogger } from '../spool.js';
import { decodeRecord, dueRecipients, pairsToObject } from './record.js';
import { guarded, strings } from './replies.js';

/** Who claims, and where: what every step here takes. */
export interface ClaimNode {
  readonly redis: Redis;
  readonly keys: RedisKeys;
  readonly node: string;
  readonly nodeTtlMs: number;
  readonly logger?: SpoolLogger;
}

/** Up to `limit` messages due at `now`, claimed for this node (after taking over dead nodes' claims). */
export async function claimMessages(c: ClaimNode, now: number, limit: number): Promise<readonly ClaimedMessage[]> {
  const count = Math.floor(limit);
  if (!(count > 0)) return [];
  const k = c.keys;
  const reply = await guarded(() =>
    claimScript.run(
      c.redis,
      [k.due, k.claims, k.owners, k.nodes],
      [now, count, c.node, k.heldPrefix, k.msgPrefix, c.nodeTtlMs],
    ),
  );
  const claimed: ClaimedMessage[] = [];
  for (const entry of Array.isArray(reply) ? (reply as unknown[]) : []) {
    const [id = '', flat] = Array.isArray(entry) ? (entry as unknown[]) : [];
    const record = decodeRecord(String(id), pairsToObject(strings(flat)));
    // Unreadable: it stays claimed (out of every daemon's way) until this node stops.
    if (!record)
      c.logger?.warn({ component: 'spool', backend: 'redis', id }, 'claimed message is unreadable; left aside');
    else claimed.push({ record, due: dueRecipients(record, now) });
  }
  return claimed;
}

/** Gives a claim back (due again, not before `notBefore` when given). Resolves whether it was this node's to give. */
export async function releaseClaim(c: ClaimNode, id: MessageId, notBefore?: number): Promise<boolean> {
  const k = c.keys;
  const args = [id, c.node, k.heldPrefix, k.msgPrefix, notBefore ?? ''];
  const released = await guarded(() => releaseScript.run(c.redis, [k.due, k.claims, k.owners], args));
  return released === 1;
}

/** The earliest moment a claim could succeed: the first due time, or when a dead node's claims fall free. */
export async function nextDue(c: ClaimNode, now: number): Promise<number | undefined> {
  const k = c.keys;
  const reply = await guarded(() => nextDueScript.run(c.redis, [k.due, k.nodes], [now, c.node, k.heldPrefix]));
  return typeof reply === 'string' ? Number(reply) : undefined;
}
