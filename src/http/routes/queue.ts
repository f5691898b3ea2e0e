import { Router } from '@koa/router';
import { isFinished } from '../../domain/envelope.js';
import { queueShape } from '../../queue/shape.js';
import type { FlushResult, QueueList, QueueShapeView, RemoveResult, RetryResult } from '../api-types.js';
import { requireAdmin } from '../auth.js';
import type { HttpDeps } from '../deps.js';
import { HttpError } from '../errors.js';
import { nextOf, parsePageQuery } from '../paging.js';
import { parseMessageId, queryInteger } from '../request.js';
import { queueEntries } from './views.js';

/** Most rows `?top=` asks for (without it, every domain). */
const MAX_SHAPE_TOP = 1000;

/**
 * `/api/queue`: the waiting recipients a page at a time, the queue's shape
 * by destination and age, flush, retry one message, delete one.
 */
export function queueRoutes(deps: HttpDeps): Router {
  const router = new Router();
  const { spool } = deps;
  const guard = requireAdmin(deps.adminToken);

  router.get('/api/queue', guard, async (ctx) => {
    const options = parsePageQuery(ctx.query, 'queue');
    const [page, depth] = await Promise.all([spool.list({ ...options, waiting: true }), spool.depth()]);
    const recipients = queueEntries(page.items);
    ctx.body = { count: recipients.length, depth, recipients, ...nextOf('queue', page) } satisfies QueueList;
  });

  router.get('/api/queue/shape', guard, async (ctx) => {
    const top = queryInteger(ctx.query, 'top', 1, MAX_SHAPE_TOP);
    const shape = queueShape(await spool.shape(), Date.now());
    const rows = top === undefined ? shape.rows : shape.rows.slice(0, top);
    ctx.body = { ...shape, rows, domains: shape.rows.length } satisfies QueueShapeView;
  });

  router.post('/api/queue/flush', guard, async (ctx) => {
    ctx.body = { retried: await spool.retryNow() } satisfies FlushResult;
  });

  router.post('/api/queue/:id/retry', guard, async (ctx) => {
    const id = parseMessageId(ctx.params['id']);
    const message = await spool.get(id);
    if (!message) throw new HttpError(404, 'no such message');
    if (message.recipients.every((state) => isFinished(state.status))) {
      throw new HttpError(409, 'message has no recipients waiting for delivery');
    }
    ctx.body = { id, retried: await spool.retryNow(id) } satisfies RetryResult;
  });

  router.delete('/api/queue/:id', guard, async (ctx) => {
    const id = parseMessageId(ctx.params['id']);
    if (!(await spool.remove(id))) throw new HttpError(404, 'no such message');
    // the mail log writes the `removed` line
    deps.audit.publish({ type: 'message.removed', id, reason: 'deleted' });
    ctx.body = { id, removed: true } satisfies RemoveResult;
  });

  return router;
}
