import type { MessageId } from '../../domain/envelope.js';

/**
 * Every key the Redis spool uses, under one configurable prefix (P):
 *
 *   P msg:<id>     hash   the record: `e` envelope JSON, `t` receivedAt, `z` size,
 *                         per recipient `s:<r>` status, `a:<r>` attempts,
 *                         `n:<r>` next attempt, `u:<r>` updated, `l:<r>` last response,
 *                         `h:<r>` attempt history, `w:<r>` when its delay notice was stored
 *   P body:<id>    string the message bytes (written once, read with GETRANGE)
 *   P tmp:<id>     string a body being received (APPENDed; short idle EXPIRE)
 *   P messages     zset   id → receivedAt, every message (list order; ids whose
 *                         hash expired by retention are dropped lazily)
 *   P waiting      zset   id → receivedAt, messages with a queued/deferred recipient
 *   P due          zset   id → when the message is claimable: the earliest next
 *                         attempt of its waiting recipients, or a release's
 *                         `notBefore` if later. Unclaimed waiting messages only.
 *   P claims       set    ids of claimed messages
 *   P owners       hash   id → node that holds the claim
 *   P held:<node>  set    the ids a node holds (handed back when it dies)
 *   P nodes        zset   node → heartbeat expiry (Redis time)
 *   P depth        string waiting recipients, claimed ones included (INCRBY)
 *   P shape        hash   `<domain>|<minute start ms>` → waiting recipients
 *                         (fields that reach 0 are deleted)
 *   P wake         channel pub/sub: "messages may be due" across daemons
 *
 * A message with a waiting recipient is in exactly one of `due` and `claims`;
 * a finished one in neither, and in `messages` only. A claim has no expiry of
 * its own: it lasts until released, or until its node stops heartbeating.
 * `depth` and `shape` change only where a recipient starts or stops waiting
 * (store, update, remove), in the same atomic step. Scripts build `msg:`,
 * `body:` and `held:` keys from the prefixes they are given, so the layout
 * needs one Redis (not Cluster).
 */
export interface RedisKeys {
  readonly messages: string;
  readonly waiting: string;
  readonly due: string;
  readonly claims: string;
  readonly owners: string;
  readonly nodes: string;
  readonly depth: string;
  readonly shape: string;
  readonly wake: string;
  /** `msg:` key prefix, for scripts. */
  readonly msgPrefix: string;
  /** `body:` key prefix, for scripts. */
  readonly bodyPrefix: string;
  /** `held:` key prefix, for scripts. */
  readonly heldPrefix: string;
  msg(id: MessageId): string;
  body(id: MessageId): string;
  tmp(id: MessageId): string;
}

export function redisKeys(prefix: string): RedisKeys {
  return {
    messages: `${prefix}messages`,
    waiting: `${prefix}waiting`,
    due: `${prefix}due`,
    claims: `${prefix}claims`,
    owners: `${prefix}owners`,
    nodes: `${prefix}nodes`,
    depth: `${prefix}depth`,
    shape: `${prefix}shape`,
    wake: `${prefix}wake`,
    msgPrefix: `${prefix}msg:`,
    bodyPrefix: `${prefix}body:`,
    heldPrefix: `${prefix}held:`,
    msg: (id) => `${prefix}msg:${id}`,
    body: (id) => `${prefix}body:${id}`,
    tmp: (id) => `${prefix}tmp:${id}`,
  };
}

const MINUTE_MS = 60_000;

/** Start (ms) of the minute `at` falls in. Lua scripts compute the same with `math.floor(t / 60000) * 60000`. */
export function minuteOf(at: number): number {
  return Math.floor(at / MINUTE_MS) * MINUTE_MS;
}

/** The `shape` field of a destination domain (already lower-cased) and an arrival time. */
export function shapeField(domain: string, receivedAt: number): string {
  return `${domain}|${minuteOf(receivedAt)}`;
}

/** `<domain>|<minute>` back apart (split at the last `|`: the minute never holds one). */
export function parseShapeField(name: string): { domain: string; minute: number } | undefined {
  const bar = name.lastIndexOf('|');
  if (bar < 0) return undefined;
  const minute = Number(name.slice(bar + 1));
  return Number.isFinite(minute) ? { domain: name.slice(0, bar), minute } : undefined;
}
