import { createHash, timingSafeEqual } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import type { Context, Middleware } from 'koa';
import { HttpError } from './errors.js';

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/**
 * True for 127.0.0.0/8 and ::1, including IPv4-mapped forms such as
 * `::ffff:127.0.0.1`. Anything that is not an IP address is not loopback.
 */
export function isLoopback(ip: string | undefined): boolean {
  if (!ip) return false;
  const address = ip.replace(/%.*$/, '');
  const family = isIP(address);
  if (family === 4) return loopback.check(address, 'ipv4');
  if (family === 6) return loopback.check(address, 'ipv6');
  return false;
}

/** Host names a loopback client legitimately uses (guards against DNS rebinding). */
export function isLoopbackHost(host: string | undefined): boolean {
  if (!host) return false;
  const name = host
    .trim()
    .toLowerCase()
    .replace(/:\d+$/, '')
    .replace(/^\[(.*)\]$/, '$1');
  return name === 'localhost' || name.endsWith('.localhost') || isLoopback(name);
}

/** Constant-time comparison (digests first, so the length is not leaked either). */
export function tokensMatch(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '');
  return match?.[1];
}

function originHost(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}

/** Decides whether a request may use the admin surface; throws 401/403 if not. */
export function authorizeAdmin(ctx: Context, adminToken: string | undefined): void {
  if (adminToken !== undefined) {
    const given = bearerToken(ctx.get('authorization') || undefined);
    if (given === undefined || !tokensMatch(given, adminToken)) {
      throw new HttpError(401, 'a valid bearer token is required', { 'WWW-Authenticate': 'Bearer' });
    }
    return;
  }
  // No token: loopback clients only. The peer address is read from the socket,
  // never from X-Forwarded-For. Host and Origin are checked too, so a web page
  // cannot reach the API through DNS rebinding or a cross-site form post.
  if (!isLoopback(ctx.req.socket.remoteAddress)) {
    throw new HttpError(403, 'admin API is limited to loopback clients when SMTP_ADMIN_TOKEN is not set');
  }
  const origin = ctx.get('origin');
  if (!isLoopbackHost(ctx.get('host')) || (origin !== '' && !isLoopbackHost(originHost(origin)))) {
    throw new HttpError(403, 'cross-site requests are refused when SMTP_ADMIN_TOKEN is not set');
  }
}

/**
 * `/audit` and `/api/*`, however spelt: the router matches case-insensitively
 * and ignores a trailing slash, so the check is deliberately broad.
 */
export function isAdminPath(path: string): boolean {
  const normal = path.toLowerCase().replace(/\/{2,}/g, '/');
  return normal.startsWith('/audit') || normal.startsWith('/api');
}

/** Guards `/audit` and `/api/*` (unknown ones too); other paths pass through untouched. */
export function adminAuth(adminToken: string | undefined): Middleware {
  return async (ctx, next) => {
    if (isAdminPath(ctx.path)) authorizeAdmin(ctx, adminToken);
    await next();
  };
}

/** The same check as route middleware, so an admin route is guarded wherever it is mounted. */
export function requireAdmin(adminToken: string | undefined): Middleware {
  return async (ctx, next) => {
    authorizeAdmin(ctx, adminToken);
    await next();
  };
}
