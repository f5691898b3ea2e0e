import type { MessageId } from '../../domain/envelope.js';

/**
 * Every key the Redis spool uses, under one configurable prefix (P):
 *
 *   P msg:<id>     hash   the record: `e` envelope JSON, `t` receivedAt, `z` size,
 *                         per recipient `s:<r>` status, `a:<r>` attempts,
 *                         `n:<r>` next attempt, `u:<r>` updated, `l:<r>` last response
 *   P body:<id>    string the message bytes (written once, read with GETRANGE)
 *   P tmp:<id>     string a body being received (APPENDed; short idle EXPIRE)
 *   P messages     zset   id → receivedAt (list order; stale ids dropped lazily)
 *   P due          zset   `<id>|<r>` → nextAttemptAt, waiting and unclaimed
 *   P claims       zset   `<id>|<r>` → lease expiry, waiting and claimed
 *   P owners       hash   `<id>|<r>` → node that holds the claim
 *   P held:<node>  set    the claims a node holds (handed back when it dies)
 *   P nodes        zset   node → heartbeat expiry (Redis time)
 *   P wake         channel pub/sub: "recipients may be due" across daemons
 *
 * A waiting recipient is in exactly one of `due` and `claims`; a finished one
 * in neither. Scripts build `msg:` and `held:` keys from the prefixes they are
 * given, so the layout needs one Redis (not Cluster).
 */
export interface RedisKeys {
  readonly messages: string;
  readonly due: string;
  readonly claims: string;
  readonly owners: string;
  readonly nodes: string;
  readonly wake: string;
  /** `msg:` key prefix, for scripts. */
  readonly msgPrefix: string;
  /** `held:` key prefix, for scripts. */
  readonly heldPrefix: string;
  msg(id: MessageId): string;
  body(id: MessageId): string;
  tmp(id: MessageId): string;
}

export function redisKeys(prefix: string): RedisKeys {
  return {
    messages: `${prefix}messages`,
    due: `${prefix}due`,
    claims: `${prefix}claims`,
    owners: `${prefix}owners`,
    nodes: `${prefix}nodes`,
    wake: `${prefix}wake`,
    msgPrefix: `${prefix}msg:`,
    heldPrefix: `${prefix}held:`,
    msg: (id) => `${prefix}msg:${id}`,
    body: (id) => `${prefix}body:${id}`,
    tmp: (id) => `${prefix}tmp:${id}`,
  };
}

/** `<id>|<recipient>`: the member naming one recipient in the indexes (ids never hold `|`). */
export function memberOf(id: MessageId, recipient: string): string {
  return `${id}|${recipient}`;
}

export function parseMember(member: string): { id: MessageId; recipient: string } | undefined {
  const bar = member.indexOf('|');
  return bar < 0 ? undefined : { id: member.slice(0, bar), recipient: member.slice(bar + 1) };
}
