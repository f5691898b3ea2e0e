// Container HEALTHCHECK: GET /healthz on the daemon's own HTTP listener.
// Exits 0 on a 2xx answer, 1 otherwise. Node only (the slim image has no curl).
// Reads the same variables as the daemon so a changed SMTP_HEALTH_ADDR or
// SMTP_HEALTH_PORT is followed. /healthz may keep streaming audit lines when
// audit logging is on, so only the status line is awaited, never the body.
const env = process.env;

if (env.SMTP_HEALTH_DISABLE === 'true') {
  console.log('health: HTTP disabled (SMTP_HEALTH_DISABLE=true), nothing to check');
  process.exit(0);
}

const addr = env.SMTP_HEALTH_ADDR ?? ':8080';
const colon = addr.lastIndexOf(':');
let host = colon >= 0 ? addr.slice(0, colon) : addr;
const port = env.SMTP_HEALTH_PORT ?? (colon >= 0 ? addr.slice(colon + 1) : '8080');
host = host.replace(/^\[(.*)\]$/, '$1');
if (host === '' || host === '0.0.0.0' || host === '::') host = '127.0.0.1';
const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/healthz`;

try {
  const res = await fetch(url, { signal: AbortSignal.timeout(4000) });
  await res.body?.cancel();
  if (!res.ok) {
    console.error(`health: ${url} answered ${res.status}`);
    process.exit(1);
  }
  process.exit(0);
} catch (err) {
  console.error(`health: ${url} failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
