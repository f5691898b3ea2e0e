/**
 * The `proxyProtocol` option our smtp-server patches read (proxy-patches.ts):
 * who must send a PROXY header (SMTP_PROXY_FROM), how long it may take, and
 * where refusals are reported.
 */
import type { Config } from '../config/types.js';
import { ipInNetwork, parseIp } from '../policy/ip.js';

export interface ProxyRefused {
  readonly session: string;
  /** The address the connection came from (the proxy, or the peer that should not have sent a header). */
  readonly peer: string;
  readonly reason: string;
  /** A connect-and-close without a byte (a load balancer's TCP health check): logged at debug level only. */
  readonly probe?: boolean;
}

export interface ProxyProtocolOptions {
  /** SMTP_PROXY_FROM names some peers (only then is an empty first line read as a v2 signature). */
  readonly listed: boolean;
  /** Whether a connection from `peer` must start with a PROXY header. */
  readonly expects: (peer: string) => boolean;
  /** How long the header may take to arrive. */
  readonly timeoutMs: number;
  /** A connection was refused for its PROXY header (a missing, bad or unwanted one). */
  readonly refused: (refusal: ProxyRefused) => void;
}

/** A proxy sends its header at once; SMTP_COMMAND_TIMEOUT bounds it too (tests set 1 s). */
export const PROXY_HEADER_TIMEOUT_MS = 10_000;

export function proxyProtocolOptions(config: Config, refused: (refusal: ProxyRefused) => void): ProxyProtocolOptions {
  const networks = config.proxyFrom;
  return {
    listed: networks.length > 0,
    expects: (peer) => {
      const ip = networks.length > 0 ? parseIp(peer) : undefined;
      return ip !== undefined && networks.some((network) => ipInNetwork(ip, network));
    },
    timeoutMs: Math.min(PROXY_HEADER_TIMEOUT_MS, config.commandTimeoutSeconds * 1000),
    refused,
  };
}
