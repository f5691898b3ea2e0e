/** Parsers for the relay (smarthost) URL and the Redis URL. */
import type { RelayTarget } from './types.js';
import { normaliseHost } from './addresses.js';
import { fail, ok, type Parsed } from './parsed.js';

const RELAY =
  'smtp://[user[:password]@]host[:port] (port 587) or smtps://… (port 465), user and password percent-encoded';

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

function decode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** SMTP_RELAY_URL: `smtp://user:pass@host:587` or `smtps://…:465`. */
export function parseRelayUrl(text: string): Parsed<RelayTarget> {
  const url = parseUrl(text);
  if (url === undefined || (url.protocol !== 'smtp:' && url.protocol !== 'smtps:')) return fail(RELAY);
  if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') {
    return fail(`${RELAY}, without path, query or fragment`);
  }
  const secure = url.protocol === 'smtps:';
  const host = normaliseHost(url.hostname);
  const port = url.port === '' ? (secure ? 465 : 587) : Number(url.port);
  if (host === undefined || port < 1) return fail(RELAY);
  const user = decode(url.username);
  const pass = decode(url.password);
  if (user === undefined || pass === undefined) return fail(`${RELAY}; the user or password has a bad %-escape`);
  if (user === '' && pass !== '') return fail(`${RELAY}; a password needs a user`);
  return ok({
    secure,
    host,
    port,
    ...(user === '' ? {} : { user }),
    ...(pass === '' ? {} : { pass }),
  });
}

/** SMTP_REDIS_URL: `redis://…` or `rediss://…` (TLS) with a host; kept as written. */
export function parseRedisUrl(text: string): Parsed<string> {
  const url = parseUrl(text);
  const valid = url !== undefined && (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '';
  return valid ? ok(text) : fail('a redis:// or rediss:// URL with a host (redis://127.0.0.1:6379)');
}
