import { Router } from '@koa/router';
import { isFinished } from '../../domain/envelope.js';
import type { FlushResult, QueueList, RemoveResult, RetryResult } from '../api-types.js';
import { requireAdmin } from '../auth.js';
import type { HttpDeps } from '../deps.js';
import { HttpError } from '../errors.js';
import { parseMessageId } from '../request.js';
import { queueEntries } from './views.js';

/** `/api/queue`: recipients not finished, flush, retry one message, delete one. */
export function queueRoutes(deps: HttpDeps): Router {
  const router = new Router();
  const { spool } = deps;
  const guard = requireAdmin(deps.adminToken);

  router.get('/api/queue', guard, async (ctx) => {
    const recipients = queueEntries(await spool.list());
    ctx.body = { count: recipients.length, recipients } satisfies QueueList;
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
    deps.logger?.info({ id }, 'message removed through the admin API');
    ctx.body = { id, removed: true } satisfies RemoveResult;
  });

  return router;
}
