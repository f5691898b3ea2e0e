/**
 * `/ui`: the web console's page, stylesheet and script, all shipped in the
 * package as text (src/http/ui/) and served with a strict Content-Security-
 * Policy: nothing but this origin's own script, style and API, no inline
 * script, no frames. The page holds no data: everything it shows comes from
 * `/api` and `/audit`, under their rules. Without SMTP_ADMIN_TOKEN the page
 * itself answers loopback clients only, like the API; with a token, the
 * page is public and asks for the token (kept in sessionStorage).
 */
import { Router } from '@koa/router';
import type { Context } from 'koa';
import { authorizeAdmin } from '../auth.js';
import type { HttpDeps } from '../deps.js';
import { CONSOLE_HTML } from '../ui/page.js';
import { SCRIPT_CORE } from '../ui/script-core.js';
import { SCRIPT_GRAPHS } from '../ui/script-graphs.js';
import { SCRIPT_QUEUE } from '../ui/script-queue.js';
import { SCRIPT_TAIL } from '../ui/script-tail.js';
import { CONSOLE_CSS } from '../ui/styles.js';

export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SCRIPT = SCRIPT_CORE + SCRIPT_TAIL + SCRIPT_QUEUE + SCRIPT_GRAPHS;

function serve(ctx: Context, type: string, body: string): void {
  ctx.set('Content-Security-Policy', CONSOLE_CSP);
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('Cache-Control', 'no-cache');
  ctx.type = type;
  ctx.body = body;
}

export function uiRoutes(deps: HttpDeps): Router {
  const router = new Router();
  const guard = async (ctx: Context, next: () => Promise<unknown>): Promise<void> => {
    if (!deps.console) return; // no console feeds: 404
    if (deps.adminToken === undefined) authorizeAdmin(ctx, undefined);
    await next();
  };
  router.get('/ui', guard, (ctx) => serve(ctx, 'text/html; charset=utf-8', CONSOLE_HTML));
  router.get('/ui/console.css', guard, (ctx) => serve(ctx, 'text/css; charset=utf-8', CONSOLE_CSS));
  router.get('/ui/console.js', guard, (ctx) => serve(ctx, 'text/javascript; charset=utf-8', SCRIPT));
  return router;
}
