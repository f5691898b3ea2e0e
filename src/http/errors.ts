import { STATUS_CODES } from 'node:http';
import type { Middleware } from 'koa';
import type { Logger } from '../log/logger.js';

export type ErrorStatus = 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 500 | 503;

/** An error meant for the client: its status and message are sent as JSON. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: ErrorStatus,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/** Errors from koa/@koa/router (http-errors) carry `status` and `expose`. */
function exposedStatus(err: unknown): { status: number; message: string } | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { status, expose, message } = err as { status?: unknown; expose?: unknown; message?: unknown };
  if (typeof status !== 'number' || expose !== true || typeof message !== 'string') return undefined;
  return { status, message };
}

/**
 * The one error path: every thrown error becomes `{"error": "..."}` with the
 * right status; unexpected errors are logged and answered 500 without details.
 * Empty 4xx/5xx answers (unknown route, 405 from the router) get a JSON body too.
 */
export function errorHandler(logger: Logger | undefined): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status >= 400 && ctx.body == null) {
        const status = ctx.status;
        ctx.body = { error: (STATUS_CODES[status] ?? 'error').toLowerCase() };
        ctx.status = status; // koa turns a body set on a 404 into a 200
      }
    } catch (err: unknown) {
      if (ctx.headerSent) throw err; // a stream broke mid-way: koa's onerror logs it
      if (err instanceof HttpError) {
        ctx.status = err.status;
        ctx.set(err.headers);
        ctx.body = { error: err.message };
        return;
      }
      const exposed = exposedStatus(err);
      if (exposed && exposed.status >= 400 && exposed.status < 500) {
        ctx.status = exposed.status;
        ctx.body = { error: exposed.message };
        return;
      }
      logger?.error({ err, method: ctx.method, path: ctx.path }, 'http request failed');
      ctx.status = 500;
      ctx.body = { error: 'internal error' };
    }
  };
}
