import { Router } from '@koa/router';
import { formatAuditLine } from '../format.js';
import { createAuditStream } from '../audit-stream.js';
import { DEFAULT_SUBSCRIBER_BUFFER, type HttpDeps, type Readiness } from '../deps.js';
import { sendQueueProbe } from '../../net/send-queue.js';

/** `/healthz`, `/readyz`, `/metrics`: unauthenticated, like GopherPost's. */
export function probeRoutes(deps: HttpDeps): Router {
  const router = new Router();
  const { audit, metrics } = deps;

  router.get('/healthz', (ctx) => {
    ctx.set('Cache-Control', 'no-cache, no-store, must-revalidate');
    ctx.type = 'text/plain; charset=utf-8';
    if (!audit.isEnabled() || ctx.method === 'HEAD') {
      ctx.body = 'OK\n';
      return;
    }
    // GopherPost compatible: `OK`, then one line per audit record (`curl -N`).
    ctx.req.socket.setNoDelay(true);
    ctx.body = createAuditStream({
      records$: audit.events$,
      format: formatAuditLine,
      preamble: 'OK\n',
      capacity: deps.subscriberBuffer ?? DEFAULT_SUBSCRIBER_BUFFER,
      onDrop: (count) => metrics.auditEventsDropped.inc(count),
      backlog: sendQueueProbe(ctx.req.socket),
      onOpen: () => metrics.auditSubscribers.inc(),
      onClose: () => metrics.auditSubscribers.dec(),
    });
  });

  router.get('/readyz', async (ctx) => {
    let state: Readiness;
    try {
      state = await deps.readiness();
    } catch {
      state = { ok: false, reason: 'readiness check failed' };
    }
    ctx.set('Cache-Control', 'no-store');
    if (state.ok) {
      ctx.body = { status: 'ready' };
    } else {
      ctx.status = 503;
      ctx.body = { status: 'not ready', reason: state.reason };
    }
  });

  router.get('/metrics', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.type = metrics.contentType;
    ctx.body = await metrics.render();
  });

  return router;
}
