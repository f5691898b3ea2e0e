import { Router } from '@koa/router';
import { z } from 'zod';
import type { AuditSwitchState } from '../api-types.js';
import { requireAdmin } from '../auth.js';
import { createAuditStream } from '../audit-stream.js';
import { DEFAULT_HEARTBEAT_MS, DEFAULT_SUBSCRIBER_BUFFER, type HttpDeps } from '../deps.js';
import { HttpError } from '../errors.js';
import { formatSseComment, formatSseEvent, parseLastEventId } from '../format.js';
import { readJsonBody } from '../request.js';
import { sendQueueProbe } from '../../net/send-queue.js';

const AuditSwitch = z.object({ enabled: z.boolean() }).strict();

/** `/audit` (Server-Sent Events) and `/api/audit` (the run-time switch). */
export function auditRoutes(deps: HttpDeps): Router {
  const router = new Router();
  const { audit, metrics } = deps;
  const guard = requireAdmin(deps.adminToken);

  router.get('/audit', guard, (ctx) => {
    const header = ctx.get('last-event-id') || undefined;
    const query = typeof ctx.query['lastEventId'] === 'string' ? ctx.query['lastEventId'] : undefined;
    const lastSeq = parseLastEventId(header ?? query);

    ctx.set('Cache-Control', 'no-cache, no-transform');
    ctx.set('X-Accel-Buffering', 'no');
    ctx.type = 'text/event-stream; charset=utf-8';
    ctx.req.socket.setNoDelay(true);
    ctx.body = createAuditStream({
      records$: audit.since$(lastSeq),
      format: formatSseEvent,
      preamble:
        'retry: 3000\n' +
        formatSseComment(`gopherpost audit stream, audit logging ${audit.isEnabled() ? 'on' : 'off'}`),
      heartbeat: { everyMs: deps.heartbeatMs ?? DEFAULT_HEARTBEAT_MS, text: formatSseComment('heartbeat') },
      capacity: deps.subscriberBuffer ?? DEFAULT_SUBSCRIBER_BUFFER,
      onDrop: (count) => metrics.auditEventsDropped.inc(count),
      backlog: sendQueueProbe(ctx.req.socket),
      onOpen: () => metrics.auditSubscribers.inc(),
      onClose: () => metrics.auditSubscribers.dec(),
    });
  });

  router.get('/api/audit', guard, (ctx) => {
    ctx.body = { enabled: audit.isEnabled() } satisfies AuditSwitchState;
  });

  router.put('/api/audit', guard, async (ctx) => {
    const parsed = AuditSwitch.safeParse(await readJsonBody(ctx));
    if (!parsed.success) throw new HttpError(400, 'expected {"enabled": true|false}');
    audit.setEnabled(parsed.data.enabled);
    deps.logger?.info({ enabled: parsed.data.enabled }, 'audit logging switched');
    ctx.body = { enabled: audit.isEnabled() } satisfies AuditSwitchState;
  });

  return router;
}
