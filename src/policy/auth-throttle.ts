import { reject } from '../domain/reply.js';
import type { Decision } from '../domain/reply.js';
import { parseIp } from './ip.js';

/** Tuning of AUTH failure throttling; `DEFAULT_THROTTLE` is what the daemon uses. */
export interface ThrottleConfig {
  /** Failures older than this are forgotten. */
  readonly windowMs: number;
  /** From this many failures in the window on, each attempt waits. */
  readonly delayAfter: number;
  /** First wait; doubles with every further failure. */
  readonly baseDelayMs: number;
  /** Cap of the wait, kept well under client command timeouts. */
  readonly maxDelayMs: number;
  /** This many failures in the window start a refusal. */
  readonly refuseAfter: number;
  readonly refuseMs: number;
  /** Bound on remembered clients; the least recently failing are forgotten first. */
  readonly maxTracked: number;
}

export const DEFAULT_THROTTLE: ThrottleConfig = Object.freeze({
  windowMs: 10 * 60_000,
  delayAfter: 3,
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
  refuseAfter: 10,
  refuseMs: 15 * 60_000,
  maxTracked: 10_000,
});

interface ClientRecord {
  /** Failure times inside the window, oldest first. */
  readonly failures: readonly number[];
  /** Refused before this time; 0 when not refused. */
  readonly refusedUntil: number;
}

/** Immutable throttle state: one record per client key, in least-recently-failed order. */
export interface ThrottleState {
  readonly clients: ReadonlyMap<string, ClientRecord>;
}

export type AuthThrottleDecision =
  | { readonly kind: 'allow' }
  | { readonly kind: 'delay'; readonly ms: number }
  | { readonly kind: 'refuse'; readonly until: number };

export const emptyThrottle: ThrottleState = Object.freeze({ clients: new Map<string, ClientRecord>() });

/**
 * The reply to AUTH while refused: `454 4.7.0`, RFC 4954's "temporary
 * authentication failure". The session stays open (no 421): a legitimate
 * user behind the address can still send as allowed without AUTH, and each
 * further AUTH is answered cheaply without checking a password.
 */
export const authRefused: Decision = Object.freeze(
  reject(454, '4.7.0', 'Too many failed authentication attempts, try again later'),
);

/** IPv4 (mapped or not) per address; IPv6 per /64, since one host usually owns a whole /64. */
export function throttleKey(ip: string): string {
  const parsed = parseIp(ip);
  if (!parsed) return ip;
  if (parsed.family === 4) return parsed.bytes.join('.');
  const hex = parsed.bytes.slice(0, 8).map((byte) => byte.toString(16).padStart(2, '0'));
  return `${hex.join('')}/64`;
}

function live(record: ClientRecord | undefined, now: number, cfg: ThrottleConfig): ClientRecord {
  return {
    failures: (record?.failures ?? []).filter((at) => at > now - cfg.windowMs),
    refusedUntil: record && record.refusedUntil > now ? record.refusedUntil : 0,
  };
}

function withRecord(
  state: ThrottleState,
  key: string,
  record: ClientRecord | undefined,
  max = Infinity,
): ThrottleState {
  const clients = new Map(state.clients);
  clients.delete(key);
  if (record) clients.set(key, record);
  for (const oldest of clients.keys()) {
    if (clients.size <= max) break;
    clients.delete(oldest);
  }
  return { clients };
}

/** A failed AUTH from `ip` at `now`. Failures while refused do not extend the refusal. */
export function recordAuthFailure(
  state: ThrottleState,
  ip: string,
  now: number,
  cfg: ThrottleConfig = DEFAULT_THROTTLE,
): ThrottleState {
  const key = throttleKey(ip);
  const record = live(state.clients.get(key), now, cfg);
  if (record.refusedUntil > now) return state;
  const failures = [...record.failures, now];
  const next: ClientRecord =
    failures.length >= cfg.refuseAfter
      ? { failures: [], refusedUntil: now + cfg.refuseMs }
      : { failures, refusedUntil: 0 };
  return withRecord(state, key, next, cfg.maxTracked);
}

/** A successful AUTH clears the failures; a running refusal stays until it expires. */
export function recordAuthSuccess(state: ThrottleState, ip: string): ThrottleState {
  const key = throttleKey(ip);
  const record = state.clients.get(key);
  if (!record) return state;
  const kept = record.refusedUntil > 0 ? { failures: [], refusedUntil: record.refusedUntil } : undefined;
  return withRecord(state, key, kept);
}

/** What to do with the next AUTH attempt from `ip` at `now`. */
export function authDecision(
  state: ThrottleState,
  ip: string,
  now: number,
  cfg: ThrottleConfig = DEFAULT_THROTTLE,
): AuthThrottleDecision {
  const record = live(state.clients.get(throttleKey(ip)), now, cfg);
  if (record.refusedUntil > now) return { kind: 'refuse', until: record.refusedUntil };
  const excess = record.failures.length - cfg.delayAfter;
  if (excess < 0) return { kind: 'allow' };
  return { kind: 'delay', ms: Math.min(cfg.baseDelayMs * 2 ** excess, cfg.maxDelayMs) };
}

/** Forgets expired failures and refusals, so memory follows only recent offenders. */
export function pruneThrottle(
  state: ThrottleState,
  now: number,
  cfg: ThrottleConfig = DEFAULT_THROTTLE,
): ThrottleState {
  const clients = new Map<string, ClientRecord>();
  for (const [key, record] of state.clients) {
    const current = live(record, now, cfg);
    if (current.failures.length > 0 || current.refusedUntil > 0) clients.set(key, current);
  }
  return { clients };
}
