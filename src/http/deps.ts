import type { AuditBus } from '../audit/bus.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/registry.js';
import type { Spool } from '../spool/spool.js';
import type { Holds } from '../console/holds.js';
import type { LastErrors } from '../console/last-errors.js';
import type { StatsSeries } from '../console/stats.js';

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
  /** The web console's figures (`/ui`, `/api/stats`, `/api/destinations`); absent: those routes answer 404. */
  readonly console?: ConsoleFeeds;
  /** Records buffered per slow streaming client before the oldest are dropped (default 1024). */
  readonly subscriberBuffer?: number;
}

export const DEFAULT_HEARTBEAT_MS = 15_000;
export const DEFAULT_SUBSCRIBER_BUFFER = 1024;

/** What the web console reads besides the spool: graphs, last errors per destination, held destinations. */
export interface ConsoleFeeds {
  readonly stats: StatsSeries;
  readonly lastErrors: LastErrors;
  readonly holds: Holds;
}
