import { parseListenAddress, parsePort } from '../../config/addresses.js';
import { CliError, EXIT } from './errors.js';

const DEFAULT_HEALTH_ADDR = ':8080';

function urlHost(host: string | undefined): string {
  if (host === undefined || host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * The admin API base URL of a daemon configured with SMTP_HEALTH_ADDR and
 * SMTP_HEALTH_PORT (the caller passes their raw values): a wildcard listen
 * address is reached over loopback.
 */
export function adminUrlFor(healthAddr: string | undefined, healthPort: string | undefined): string {
  const parsed = parseListenAddress(healthAddr?.trim() || DEFAULT_HEALTH_ADDR);
  if (!parsed.ok) throw new CliError(`SMTP_HEALTH_ADDR="${healthAddr ?? ''}": expected ${parsed.expected}`, EXIT.usage);
  let port = parsed.value.port;
  if (healthPort !== undefined && healthPort.trim() !== '') {
    const override = parsePort(healthPort.trim());
    if (override === undefined)
      throw new CliError(`SMTP_HEALTH_PORT="${healthPort}": expected a port 1-65535`, EXIT.usage);
    port = override;
  }
  return `http://${urlHost(parsed.value.host)}:${port}`;
}

/** `host:port`, `[v6]:port` or `host` (port `defaultPort`) for `send --server`. */
export function parseServer(text: string, defaultPort: number): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  const plain = /^([^:[\]]+)(?::(\d+))?$/.exec(text);
  const match = bracketed ?? plain;
  const host = match?.[1];
  const port = match?.[2] === undefined ? defaultPort : parsePort(match[2]);
  if (host === undefined || port === undefined) {
    throw new CliError(`--server "${text}": expected host, host:port or [IPv6]:port`, EXIT.usage);
  }
  return { host, port };
}
