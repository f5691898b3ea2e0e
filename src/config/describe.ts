/** describeConfig: the effective value of every variable, secrets masked (`gopherpost config check`). */
import type { Config, RelayTarget } from './types.js';
import { tlsPolicyText } from './tls-policy.js';
import { MASK, maskUrlPassword, type VariableName } from './variables.js';

function hostPort(host: string | undefined, port: number): string {
  if (host === undefined) return `:${port}`;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function relayUrl(relay: RelayTarget | undefined): string {
  if (relay === undefined) return '';
  const password = relay.pass === undefined ? '' : `:${MASK}`;
  const userInfo = relay.user === undefined ? '' : `${encodeURIComponent(relay.user)}${password}@`;
  return `${relay.secure ? 'smtps' : 'smtp'}://${userInfo}${hostPort(relay.host, relay.port)}`;
}

/**
 * Every variable name (in SPEC order) → its effective value as it would be
 * written in `.env`; '' means unset. Passwords, the admin token and the DKIM
 * key are never shown.
 */
export function describeConfig(config: Config): Record<string, string> {
  const { dkim } = config;
  const described: Record<VariableName, string> = {
    SMTP_PORT: String(config.smtpPort),
    SMTP_HOSTNAME: config.hostname,
    SMTP_BANNER: config.banner,
    SMTP_DEBUG: String(config.debug),
    SMTP_HEALTH_ADDR: hostPort(config.healthHost, config.healthPort),
    SMTP_HEALTH_PORT: String(config.healthPort),
    SMTP_HEALTH_DISABLE: String(config.healthDisable),
    SMTP_QUEUE_PATH: config.queuePath,
    SMTP_QUEUE_WORKERS: String(config.queueWorkers),
    SMTP_RETENTION_DAYS: String(config.retentionDays),
    SMTP_AUTH_USERS: config.authUsers.map(({ user }) => `${user}:${MASK}`).join(','),
    SMTP_AUTH_INSECURE: String(config.authInsecure),
    SMTP_ALLOW_NETWORKS: config.allowNetworks.map(({ address, prefix }) => `${address}/${prefix}`).join(','),
    SMTP_ALLOW_HOSTS: config.allowHosts.join(','),
    SMTP_REQUIRE_LOCAL_DOMAIN: String(config.requireLocalDomain),
    SMTP_TLS_DISABLE: String(config.tlsDisable),
    SMTP_TLS_CERT: config.tlsCertPath ?? '',
    SMTP_TLS_KEY: config.tlsKeyPath ?? '',
    SMTP_DKIM_SELECTOR: dkim?.selector ?? '',
    SMTP_DKIM_KEY_PATH: dkim?.keyPath ?? '',
    SMTP_DKIM_PRIVATE_KEY:
      dkim === undefined || dkim.keyPath !== undefined ? '' : `<pem, ${Buffer.byteLength(dkim.privateKeyPem)} bytes>`,
    SMTP_DKIM_DOMAIN: dkim?.domain ?? '',
    SMTP_BIND: config.smtpBind ?? '',
    SMTP_MAX_MESSAGE_BYTES: String(config.maxMessageBytes),
    SMTP_MAX_RECIPIENTS: String(config.maxRecipients),
    SMTP_MAX_MESSAGES_PER_CONNECTION: String(config.maxMessagesPerConnection),
    SMTP_COMMAND_TIMEOUT: String(config.commandTimeoutSeconds),
    SMTP_MAX_CONNECTIONS: String(config.maxConnections),
    SMTP_MAX_CONNECTIONS_PER_IP: String(config.maxConnectionsPerIp),
    SMTP_DELIVERY_MODE: config.deliveryMode,
    SMTP_RELAY_URL: relayUrl(config.relay),
    SMTP_OUTBOUND_PORT: String(config.outboundPort),
    SMTP_OUTBOUND_TLS_VERIFY: String(config.outboundTlsVerify),
    SMTP_OUTBOUND_CA_FILE: config.outboundCa?.path ?? '',
    SMTP_DNS_SERVERS: config.dnsServers.map(({ host, port }) => hostPort(host, port)).join(','),
    SMTP_RETRY_BASE_SECONDS: String(config.retryBaseSeconds),
    SMTP_RETRY_MAX_SECONDS: String(config.retryMaxSeconds),
    SMTP_QUEUE_LIFETIME_HOURS: String(config.queueLifetimeHours),
    SMTP_DOMAIN_CONCURRENCY: String(config.domainConcurrency),
    SMTP_DESTINATION_RECIPIENT_LIMIT: String(config.destinationRecipientLimit),
    SMTP_DESTINATION_RATES: [...config.destinationRates]
      .map(([domain, rate]) => `${domain}=${rateText(rate)}`)
      .join(','),
    SMTP_DELAY_WARNING_HOURS: String(config.delayWarningHours),
    SMTP_TLS_PORT: config.tlsPort === undefined ? '' : String(config.tlsPort),
    SMTP_SUBMISSION_PORT: config.submissionPort === undefined ? '' : String(config.submissionPort),
    SMTP_PROXY_FROM: config.proxyFrom.map(({ address, prefix }) => `${address}/${prefix}`).join(','),
    SMTP_BARE_NEWLINE: config.bareNewline,
    SMTP_MTA_STS: String(config.mtaSts),
    SMTP_TLS_POLICY: tlsPolicyText(config.tlsPolicy),
    SMTP_TLSRPT_ORGANIZATION: config.tlsRpt?.organization ?? '',
    SMTP_TLSRPT_CONTACT: config.tlsRpt?.contact ?? '',
    SMTP_BOUNCES: String(config.bounces),
    SMTP_VERIFY_INBOUND: String(config.verifyInbound),
    SMTP_QUEUE_BACKEND: config.queueBackend,
    SMTP_REDIS_URL: maskUrlPassword(config.redisUrl),
    SMTP_REDIS_PREFIX: config.redisPrefix,
    SMTP_ADMIN_TOKEN: config.adminToken === undefined ? '' : MASK,
    LOG_LEVEL: config.logLevel,
  };
  return described;
}

/** A rate as it is written in SMTP_DESTINATION_RATES. */
function rateText(rate: { readonly count: number; readonly perMs: number }): string {
  const unit = rate.perMs === 1_000 ? 's' : rate.perMs === 60_000 ? 'min' : 'h';
  return `${rate.count}/${unit}`;
}
