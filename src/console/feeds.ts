/**
 * The web console's feeds, started together with the HTTP server: the
 * graphs' samples and the last error per destination, both from the audit
 * bus's raw events (fed whatever the audit switch says), and the held
 * destinations. In: the events, the spool (for the depth), the hold store.
 * Out: `ConsoleFeeds` for the HTTP app, plus `stop`.
 */
import type { Observable } from 'rxjs';
import type { AuditEvent } from '../domain/audit.js';
import type { ConsoleFeeds } from '../http/deps.js';
import type { Spool } from '../spool/spool.js';
import type { Holds } from './holds.js';
import { trackLastErrors } from './last-errors.js';
import { startStatsSeries } from './stats.js';

export function startConsoleFeeds(deps: {
  readonly events$: Observable<AuditEvent>;
  readonly spool: Pick<Spool, 'depth'>;
  readonly holds: Holds;
}): ConsoleFeeds & { stop(): void } {
  const stats = startStatsSeries({ events$: deps.events$, depth: () => deps.spool.depth(), clock: Date.now });
  const lastErrors = trackLastErrors({ events$: deps.events$, clock: Date.now });
  return {
    stats,
    lastErrors,
    holds: deps.holds,
    stop: () => {
      stats.stop();
      lastErrors.stop();
    },
  };
}
