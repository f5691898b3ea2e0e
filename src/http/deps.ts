import type { AuditBus } from '../audit/bus.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/registry.js';
import type { Spool } from '../spool/spool.js';

export type Readiness = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export interface HttpDeps {
  readonly audit: AuditBus;
  readonly metrics: Metrics;
  readonly spool: Spool;
  /** SMTP listener bound, spool writable, Redis answering (composed by the caller). */
  readonly readiness: () => Promise<Readiness>;
  /** SMTP_ADMIN_TOKEN; undefined: the admin surface answers loopback clients only. */
  readonly adminToken: string | undefined;
  readonly logger?: Logger;
  /** SSE heartbeat period, ms (default 15 000). */
  readonly heartbeatMs?: number;
  /** Records buffered per slow streaming client before the oldest are dropped (default 1024). */
  readonly subscriberBuffer?: number;
}

export const DEFAULT_HEARTBEAT_MS = 15_000;
export const DEFAULT_SUBSCRIBER_BUFFER = 1024;
