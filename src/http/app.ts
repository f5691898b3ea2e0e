import Koa from 'koa';
import { adminAuth } from './auth.js';
import type { HttpDeps } from './deps.js';
import { errorHandler } from './errors.js';
import { auditRoutes } from './routes/audit.js';
import { consoleApiRoutes } from './routes/console-api.js';
import { messageRoutes } from './routes/messages.js';
import { probeRoutes } from './routes/probes.js';
import { queueRoutes } from './routes/queue.js';
import { uiRoutes } from './routes/ui.js';

export type { HttpDeps, Readiness } from './deps.js';

/**
 * The daemon's HTTP surface (SPEC §6) as a koa app: probes and metrics for
 * everyone, the audit stream and admin API behind `adminAuth`. No listening
 * here: `startHttpServer` binds it, tests may use `app.callback()`.
 */
export function createHttpApp(deps: HttpDeps): Koa {
  const app = new Koa();
  // Never trust X-Forwarded-*: the admin decision reads the socket's peer.
  app.proxy = false;
  app.on('error', (err: unknown) => {
    // Only errors after headers were sent get here (a client hanging up mid-stream).
    deps.logger?.debug({ err }, 'http stream ended early');
  });

  app.use(errorHandler(deps.logger));
  app.use(adminAuth(deps.adminToken));
  const routers = [probeRoutes(deps), auditRoutes(deps), queueRoutes(deps), messageRoutes(deps)];
  for (const router of [...routers, consoleApiRoutes(deps), uiRoutes(deps)]) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  return app;
}
