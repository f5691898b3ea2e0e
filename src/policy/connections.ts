import { accept, reject } from '../domain/reply.js';
import type { Decision } from '../domain/reply.js';

/** Sessions already open, not counting the one being decided. */
export interface ActiveSessions {
  readonly total: number;
  readonly forIp: number;
}

/** SMTP_MAX_CONNECTIONS and SMTP_MAX_CONNECTIONS_PER_IP. */
export interface ConnectionLimits {
  readonly max: number;
  readonly perIp: number;
}

/**
 * Admission of a new session. Either limit reached: `421 4.7.0` and the
 * connection closes; the text says which limit. The server-wide limit is
 * checked first.
 */
export function decideConnection(active: ActiveSessions, limits: ConnectionLimits): Decision {
  if (active.total >= limits.max) {
    return reject(421, '4.7.0', 'Too many connections to this server, try again later', true);
  }
  if (active.forIp >= limits.perIp) {
    return reject(421, '4.7.0', 'Too many connections from your address, try again later', true);
  }
  return accept;
}
