import type { Network } from '../config/types.js';
import { accept, reject } from '../domain/reply.js';
import type { Decision } from '../domain/reply.js';
import { ipInNetwork, parseIp } from './ip.js';

/** The allow lists (SMTP_ALLOW_NETWORKS, SMTP_ALLOW_HOSTS). */
export interface AllowLists {
  readonly networks: readonly Network[];
  readonly hosts: readonly string[];
}

export interface AccessInput {
  /** The client's IP as the socket reports it (IPv4-mapped IPv6 is fine). */
  readonly ip: string;
  /** Forward-confirmed reverse DNS names of `ip` (see `forwardConfirmedHostnames`). */
  readonly verifiedHostnames?: readonly string[];
}

/** Used when both allow lists are empty: loopback only (§2). */
export const LOOPBACK_NETWORKS: readonly Network[] = Object.freeze([
  { address: '127.0.0.0', prefix: 8, family: 4 },
  { address: '::1', prefix: 128, family: 6 },
]);

/** Sent before the banner to a client outside the allow lists; the connection then closes. */
export const accessDenied: Decision = Object.freeze(reject(554, '5.7.1', 'Access denied', true));

function normaliseHost(name: string): string {
  return name.trim().toLowerCase().replace(/\.+$/, '');
}

/**
 * `name` is allowed by `entry` when equal to it, or, for an entry written with a
 * leading dot (`.example.com`), when it is a subdomain of it (the bare
 * `example.com` is not matched by `.example.com`). Case and trailing dots are ignored.
 */
export function hostMatches(name: string, entry: string): boolean {
  const host = normaliseHost(name);
  const rule = normaliseHost(entry);
  // an empty host cannot equal or end with a non-empty rule; `.` and `..` normalise to the empty rule
  if (rule === '') return false;
  return rule.startsWith('.') ? host.endsWith(rule) && host.length > rule.length : host === rule;
}

function networksOf(allow: AllowLists): readonly Network[] {
  return allow.networks.length === 0 && allow.hosts.length === 0 ? LOOPBACK_NETWORKS : allow.networks;
}

/** Whether `ip` is inside an allowed network (loopback when both lists are empty). */
export function ipAllowed(ip: string, allow: AllowLists): boolean {
  const parsed = parseIp(ip);
  return !!parsed && networksOf(allow).some((network) => ipInNetwork(parsed, network));
}

/**
 * Whether a reverse look-up could still change the outcome: host rules are
 * configured and (when `ip` is given) the IP did not already match a network.
 * Lets the caller skip DNS entirely in the common cases.
 */
export function needsReverseLookup(allow: AllowLists, ip?: string): boolean {
  if (allow.hosts.length === 0) return false;
  return ip === undefined || !ipAllowed(ip, allow);
}

/** Access control, run before the banner (§3). */
export function decideAccess(input: AccessInput, allow: AllowLists): Decision {
  if (ipAllowed(input.ip, allow)) return accept;
  const byName = input.verifiedHostnames?.some((name) => allow.hosts.some((entry) => hostMatches(name, entry)));
  return byName === true ? accept : accessDenied;
}
