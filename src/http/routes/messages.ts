import { Readable } from 'node:stream';
import { Router } from '@koa/router';
import { requireAdmin } from '../auth.js';
import type { HttpDeps } from '../deps.js';
import { HttpError } from '../errors.js';
import { nextOf, parsePageQuery } from '../paging.js';
import { parseMessageId } from '../request.js';
import type { MessageList } from '../api-types.js';
import { messageView } from './views.js';

/** `/api/messages`: stored messages a page at a time, one message, its raw bytes (streamed). */
export function messageRoutes(deps: HttpDeps): Router {
  const router = new Router();
  const { spool } = deps;
  const guard = requireAdmin(deps.adminToken);

  router.get('/api/messages', guard, async (ctx) => {
    const page = await spool.list(parsePageQuery(ctx.query, 'messages'));
    const messages = page.items.map(messageView);
    ctx.body = { count: messages.length, messages, ...nextOf('messages', page) } satisfies MessageList;
  });

  router.get('/api/messages/:id', guard, async (ctx) => {
    const message = await spool.get(parseMessageId(ctx.params['id']));
    if (!message) throw new HttpError(404, 'no such message');
    ctx.body = messageView(message);
  });

  router.get('/api/messages/:id/raw', guard, async (ctx) => {
    const id = parseMessageId(ctx.params['id']);
    const message = await spool.get(id);
    if (!message) throw new HttpError(404, 'no such message');
    const body = await spool.openBody(message);
    ctx.type = 'message/rfc822';
    ctx.set('Content-Disposition', `inline; filename="${id}.eml"`);
    ctx.body = Readable.from(body);
  });

  return router;
}
