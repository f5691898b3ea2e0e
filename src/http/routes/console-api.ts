/**
 * The admin API the web console adds (SPEC §6): `/api/stats` (the graphs'
 * samples), `/api/destinations` (the queue by destination) and holding or
 * releasing a destination. In: the spool and the console feeds
 * (deps.console). Out: JSON shapes from api-types.ts.
 */
import { Router } from '@koa/router';
import { destinationRows } from '../../console/destinations.js';
import { parseHoldDomain } from '../../console/holds.js';
import { domainOf, isWaiting } from '../../domain/envelope.js';
import type { Spool } from '../../spool/spool.js';
import type { DestinationList, HoldResult, StatsView } from '../api-types.js';
import { requireAdmin } from '../auth.js';
import type { ConsoleFeeds, HttpDeps } from '../deps.js';
import { HttpError } from '../errors.js';
import { queryInteger } from '../request.js';

const MAX_TOP = 1000;
/** Messages a release looks through to make the destination's mail due at once; the rest wait their recheck. */
const RELEASE_SCAN = 1000;

function domainParam(value: string | undefined): string {
  const domain = parseHoldDomain(value ?? '');
  if (domain === undefined) throw new HttpError(400, `expected a destination domain, got ${JSON.stringify(value)}`);
  return domain;
}

/** Retries the first `RELEASE_SCAN` waiting messages with a recipient at `domain`; returns how many recipients. */
async function retryDomain(spool: Spool, domain: string): Promise<number> {
  let retried = 0;
  let after: string | undefined;
  for (let seen = 0; seen < RELEASE_SCAN;) {
    const page = await spool.list({ limit: 200, waiting: true, ...(after === undefined ? {} : { after }) });
    for (const message of page.items) {
      const here = message.recipients.some((r) => isWaiting(r.status) && domainOf(r.recipient) === domain);
      if (here) retried += await spool.retryNow(message.id);
    }
    seen += page.items.length;
    if (page.next === undefined) break;
    after = page.next;
  }
  return retried;
}

export function consoleApiRoutes(deps: HttpDeps): Router {
  const router = new Router();
  const guard = requireAdmin(deps.adminToken);
  const feeds = (): ConsoleFeeds => {
    if (!deps.console) throw new HttpError(404, 'the web console is not available in this daemon');
    return deps.console;
  };

  router.get('/api/stats', guard, (ctx) => {
    const { stats } = feeds();
    ctx.body = {
      everySeconds: stats.everyMs / 1000,
      samples: stats.snapshot().map((s) => ({ ...s, time: new Date(s.time).toISOString() })),
    } satisfies StatsView;
  });

  router.get('/api/destinations', guard, async (ctx) => {
    const { holds, lastErrors } = feeds();
    const top = queryInteger(ctx.query, 'top', 1, MAX_TOP) ?? 100;
    const cells = await deps.spool.shape();
    ctx.body = destinationRows({
      cells,
      held: holds.list(),
      lastError: (domain) => lastErrors.get(domain),
      now: Date.now(),
      top,
    }) satisfies DestinationList;
  });

  router.put('/api/destinations/:domain/hold', guard, async (ctx) => {
    const domain = domainParam(ctx.params['domain']);
    const changed = await feeds().holds.hold(domain);
    if (changed) deps.logger?.info({ domain }, 'destination held through the admin API');
    ctx.body = { domain, held: true, changed } satisfies HoldResult;
  });

  router.delete('/api/destinations/:domain/hold', guard, async (ctx) => {
    const domain = domainParam(ctx.params['domain']);
    const changed = await feeds().holds.release(domain);
    if (changed) {
      const retried = await retryDomain(deps.spool, domain);
      deps.logger?.info({ domain, retried }, 'destination released through the admin API');
    }
    ctx.body = { domain, held: false, changed } satisfies HoldResult;
  });

  return router;
}
