/**
 * The transport's settings and the relay target, from the configuration
 * (SMTP_HOSTNAME, SMTP_OUTBOUND_TLS_VERIFY, SMTP_OUTBOUND_CA_FILE,
 * SMTP_QUEUE_WORKERS, SMTP_RELAY_URL).
 */
import { rootCertificates } from 'node:tls';
import type { Config } from '../config/types.js';
import type { SmtpTarget, TransportOptions } from './transport.js';

export function transportOptionsFromConfig(config: Config): TransportOptions {
  // keep as many idle connections per host as workers may use at once, so they are reused, not re-dialled
  return {
    hostname: config.hostname,
    tlsVerify: config.outboundTlsVerify,
    ...(config.outboundCa ? { ca: trustedCas(config.outboundCa.pem) } : {}),
    maxIdlePerHost: Math.max(10, config.queueWorkers),
  };
}

/** The system's CAs and those of SMTP_OUTBOUND_CA_FILE (giving node `ca` replaces its own list). */
export function trustedCas(extraPem: string): readonly string[] {
  return [...rootCertificates, extraPem];
}

/** The relay target from SMTP_RELAY_URL as an `SmtpTarget`. */
export function relayTarget(relay: NonNullable<Config['relay']>): SmtpTarget {
  const auth = relay.user !== undefined ? { user: relay.user, pass: relay.pass ?? '' } : undefined;
  return {
    host: relay.host,
    port: relay.port,
    secure: relay.secure,
    requireTls: !relay.secure && auth !== undefined,
    ...(auth ? { auth } : {}),
  };
}
