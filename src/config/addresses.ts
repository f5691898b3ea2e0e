/** Parsers for host names, listen addresses, resolvers and allow lists. */
import type { DnsServer, Network } from './types.js';
import { normaliseIp, parseNetwork } from './ip.js';
import { fail, ok, splitList, type Parsed } from './parsed.js';

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** A DNS host name, lower-cased and without its trailing dot; undefined if invalid. */
export function normaliseHostname(text: string): string | undefined {
  const name = (text.endsWith('.') ? text.slice(0, -1) : text).toLowerCase();
  if (name === '' || name.length > 253) return undefined;
  return name.split('.').every((label) => LABEL.test(label)) ? name : undefined;
}

/** An IP address (IPv6 optionally in brackets) or a host name, normalised. */
export function normaliseHost(text: string): string | undefined {
  if (text.startsWith('[') && text.endsWith(']')) {
    const ip = normaliseIp(text.slice(1, -1));
    return ip?.includes(':') ? ip : undefined;
  }
  return normaliseIp(text) ?? normaliseHostname(text);
}

/** A port number from `min` (1 to dial, 0 to listen on any free port) to 65535. */
export function parsePort(text: string, min: 0 | 1 = 1): number | undefined {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : -1;
  return port >= min && port <= 65535 ? port : undefined;
}

interface HostPortText {
  readonly host: string; // '' when absent; IPv6 without brackets
  readonly port: string | undefined;
}

/** Splits `host:port`, `:port`, `[v6]:port`, `[v6]`, a bare IPv6 address or a bare host. */
function splitHostPort(text: string): HostPortText | undefined {
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    const after = text.slice(close + 1);
    if (close < 0 || (after !== '' && !after.startsWith(':'))) return undefined;
    const host = text.slice(1, close);
    if (!normaliseIp(host)?.includes(':')) return undefined;
    return { host, port: after === '' ? undefined : after.slice(1) };
  }
  if (normaliseIp(text)?.includes(':')) return { host: text, port: undefined };
  const colon = text.lastIndexOf(':');
  return colon < 0 ? { host: text, port: undefined } : { host: text.slice(0, colon), port: text.slice(colon + 1) };
}

const HEALTH_ADDR = 'host:port, :port or [IPv6]:port with a port 0-65535 (0: any free port)';

/** SMTP_HEALTH_ADDR: `host:port`, `:port` (all interfaces) or `[v6]:port`. */
export function parseListenAddress(text: string): Parsed<{ host: string | undefined; port: number }> {
  const split = splitHostPort(text);
  const port = split?.port === undefined ? undefined : parsePort(split.port, 0);
  if (split === undefined || port === undefined) return fail(HEALTH_ADDR);
  if (split.host === '') return ok({ host: undefined, port });
  const host = normaliseHost(split.host);
  if (host === undefined) return fail(`${HEALTH_ADDR}; "${split.host}" is not an IP address or host name`);
  return ok({ host, port });
}

const DNS_SERVERS =
  'comma-separated resolver IPs, each with an optional port (1.1.1.1, 10.0.0.53:5353, [2001:db8::53]:53)';

/** SMTP_DNS_SERVERS: `ip[:port],…`, IPv6 as `[v6]:port` or bare; port 53 by default. */
export function parseDnsServers(text: string): Parsed<DnsServer[]> {
  const servers: DnsServer[] = [];
  for (const entry of splitList(text)) {
    const split = splitHostPort(entry);
    const host = split === undefined ? undefined : normaliseIp(split.host);
    const port = split?.port === undefined ? 53 : parsePort(split.port);
    if (host === undefined || port === undefined) return fail(`${DNS_SERVERS}; "${entry}" is not one`);
    servers.push({ host, port });
  }
  return servers.length > 0 ? ok(servers) : fail(DNS_SERVERS);
}

const NETWORKS = 'comma-separated IP addresses or CIDRs (127.0.0.1, 10.0.0.0/8, 2001:db8::/32)';

/** SMTP_ALLOW_NETWORKS: CIDRs or bare IPs, host bits cleared, duplicates dropped. */
export function parseNetworks(text: string): Parsed<Network[]> {
  const networks = new Map<string, Network>();
  for (const entry of splitList(text)) {
    const network = parseNetwork(entry);
    if (typeof network === 'string') return fail(`${NETWORKS}; ${network}`);
    networks.set(`${network.address}/${network.prefix}`, network);
  }
  return networks.size > 0 ? ok([...networks.values()]) : fail(NETWORKS);
}

const HOSTS = 'comma-separated host names (mail.example.com, relay.example.net)';

/** SMTP_ALLOW_HOSTS: host names, lower-cased, trailing dot removed, duplicates dropped. */
export function parseHostList(text: string): Parsed<string[]> {
  const hosts = new Set<string>();
  for (const entry of splitList(text)) {
    const host = normaliseHostname(entry);
    if (host === undefined) return fail(`${HOSTS}; "${entry}" is not a host name`);
    hosts.add(host);
  }
  return hosts.size > 0 ? ok([...hosts]) : fail(HOSTS);
}
