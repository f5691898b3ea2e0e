/** loadConfig: every SPEC §2 variable validated at once into a frozen Config. */
import { readFileSync } from 'node:fs';
import { hostname as systemHostname } from 'node:os';
import { z } from 'zod';
import type { Config } from './types.js';
import {
  normaliseHost,
  normaliseHostname,
  parseDnsServers,
  parseHostList,
  parseListenAddress,
  parseNetworks,
} from './addresses.js';
import { parseAuthUsers } from './auth-users.js';
import { parseDestinationRates } from './rates.js';
import { EnvReader, type Env } from './env-reader.js';
import { deepFreeze } from './freeze.js';
import { readDkim, readOutboundCa, readTls, type ReadFile } from './key-files.js';
import { readListeners } from './listeners.js';
import { fail, ok } from './parsed.js';
import { boolean, decimal, fromParser, integer, line, listenPort, oneOf, path, port } from './schemas.js';
import { parseTlsPolicy } from './tls-policy.js';
import { parseRedisUrl, parseRelayUrl } from './urls.js';

/** What the machine says, injectable for tests. */
export interface ConfigFacts {
  readonly hostname?: string;
  readonly readFile?: ReadFile;
}

const hostnameField = fromParser((text) => {
  const name = normaliseHostname(text);
  return name === undefined ? fail('a host name (mail.example.com)') : ok(name);
});
const bindField = fromParser((text) => {
  const host = normaliseHost(text);
  return host === undefined ? fail('an IP address or host name to listen on') : ok(host);
});
const seconds = (max: number) => integer(1, max, 'a whole number of seconds');
const redisPrefix = z
  .string()
  .regex(/^[\x21-\x7e]{1,64}$/, { error: 'a key prefix of 1-64 printable characters without spaces' });
const adminToken = z.string().regex(/^[A-Za-z0-9\-._~+/]{16,}=*$/, {
  error: 'a token of at least 16 characters from A-Z a-z 0-9 - . _ ~ + / (openssl rand -hex 32)',
});

function defaultHostname(facts: ConfigFacts): string {
  const name = facts.hostname ?? systemHostname();
  return normaliseHostname(name) ?? (name === '' ? 'localhost' : name);
}

/** SMTP_DELAY_WARNING_HOURS: fractional hours, 0 (off) or below the queue lifetime (else no notice could go out). */
function readDelayWarning(r: EnvReader, queueLifetimeHours: number): number {
  // unset: 4 hours, or none when messages expire first (a shorter lifetime must keep starting as it did)
  if (r.raw('SMTP_DELAY_WARNING_HOURS') === undefined) return queueLifetimeHours > 4 ? 4 : 0;
  const hours = r.read(
    'SMTP_DELAY_WARNING_HOURS',
    decimal(8760, 'a number of hours (fractions allowed, 0: no delay notices)'),
    4,
  );
  if (hours > 0 && hours >= queueLifetimeHours && r.valid('SMTP_QUEUE_LIFETIME_HOURS', 'SMTP_DELAY_WARNING_HOURS')) {
    r.problem(
      'SMTP_DELAY_WARNING_HOURS',
      `a number of hours below SMTP_QUEUE_LIFETIME_HOURS (${queueLifetimeHours}), or 0 for no delay notices`,
    );
  }
  return hours;
}

/**
 * Validates the environment (empty values count as unset) into a deep-frozen
 * Config. Throws ConfigError listing every problem, secrets masked.
 */
/** Outbound TLS: verification, extra CAs, per-destination policy, MTA-STS, TLS reports. */
function readOutboundTls(
  r: EnvReader,
  readFile: ReadFile,
): Pick<Config, 'outboundTlsVerify' | 'outboundCa' | 'tlsPolicy' | 'mtaSts' | 'tlsRpt'> {
  return {
    outboundTlsVerify: r.read('SMTP_OUTBOUND_TLS_VERIFY', boolean, true),
    outboundCa: readOutboundCa(r, readFile),
    tlsPolicy: r.read('SMTP_TLS_POLICY', fromParser(parseTlsPolicy), new Map()),
    mtaSts: r.read('SMTP_MTA_STS', boolean, true),
    tlsRpt: readTlsRpt(r),
  };
}

/** SMTP_TLSRPT_ORGANIZATION and SMTP_TLSRPT_CONTACT: both (reports on) or neither (off). */
function readTlsRpt(r: EnvReader): Config['tlsRpt'] {
  const organization = r.optional('SMTP_TLSRPT_ORGANIZATION', line);
  const contact = r.optional('SMTP_TLSRPT_CONTACT', line);
  if (organization !== undefined && contact !== undefined) return { organization, contact };
  if (organization !== undefined && r.raw('SMTP_TLSRPT_CONTACT') === undefined) {
    r.problem(
      'SMTP_TLSRPT_CONTACT',
      'a contact for TLS reports (mailto:tls-reports@example.com), because SMTP_TLSRPT_ORGANIZATION is set',
    );
  }
  if (contact !== undefined && r.raw('SMTP_TLSRPT_ORGANIZATION') === undefined) {
    r.problem('SMTP_TLSRPT_ORGANIZATION', 'the organization name for TLS reports, because SMTP_TLSRPT_CONTACT is set');
  }
  return undefined;
}

export function loadConfig(env: Env, facts: ConfigFacts = {}): Config {
  const r = new EnvReader(env);
  const readFile = facts.readFile ?? ((file: string) => readFileSync(file, 'utf8'));

  const health = r.read('SMTP_HEALTH_ADDR', fromParser(parseListenAddress), { host: undefined, port: 8080 });
  const deliveryMode = r.read('SMTP_DELIVERY_MODE', oneOf(['mx', 'relay', 'hold'] as const), 'mx');
  const relay = r.optional('SMTP_RELAY_URL', fromParser(parseRelayUrl));
  if (deliveryMode === 'relay' && r.raw('SMTP_RELAY_URL') === undefined) {
    r.problem('SMTP_RELAY_URL', 'a relay URL (smtp://user:pass@host:587), because SMTP_DELIVERY_MODE is relay');
  }
  const retryBaseSeconds = r.read('SMTP_RETRY_BASE_SECONDS', seconds(86_400), 60);
  const retryMaxSeconds = r.read('SMTP_RETRY_MAX_SECONDS', seconds(604_800), 3840);
  if (retryMaxSeconds < retryBaseSeconds && r.valid('SMTP_RETRY_BASE_SECONDS', 'SMTP_RETRY_MAX_SECONDS')) {
    r.problem('SMTP_RETRY_MAX_SECONDS', `a number of seconds >= SMTP_RETRY_BASE_SECONDS (${retryBaseSeconds})`);
  }

  const queueLifetimeHours = r.read('SMTP_QUEUE_LIFETIME_HOURS', integer(1, 8760, 'a whole number of hours'), 120);
  const delayWarningHours = readDelayWarning(r, queueLifetimeHours);
  const smtpPort = r.read('SMTP_PORT', listenPort, 2525);
  const authUsers = r.read('SMTP_AUTH_USERS', fromParser(parseAuthUsers), []);
  const authInsecure = r.read('SMTP_AUTH_INSECURE', boolean, false);
  const tlsDisable = r.read('SMTP_TLS_DISABLE', boolean, false);

  const config: Config = {
    smtpPort,
    smtpBind: r.optional('SMTP_BIND', bindField),
    hostname: r.read('SMTP_HOSTNAME', hostnameField, defaultHostname(facts)),
    banner: r.read('SMTP_BANNER', line, 'GopherPost ready'),
    debug: r.read('SMTP_DEBUG', boolean, false),
    healthHost: health.host,
    healthPort: r.read('SMTP_HEALTH_PORT', listenPort, health.port),
    healthDisable: r.read('SMTP_HEALTH_DISABLE', boolean, false),
    queuePath: r.read('SMTP_QUEUE_PATH', path, './data/spool'),
    queueWorkers: r.read('SMTP_QUEUE_WORKERS', integer(1, 10_000), 100),
    retentionDays: r.read('SMTP_RETENTION_DAYS', integer(1, 36_500, 'a whole number of days'), 7),
    authUsers,
    authInsecure,
    allowNetworks: r.read('SMTP_ALLOW_NETWORKS', fromParser(parseNetworks), []),
    allowHosts: r.read('SMTP_ALLOW_HOSTS', fromParser(parseHostList), []),
    requireLocalDomain: r.read('SMTP_REQUIRE_LOCAL_DOMAIN', boolean, true),
    tlsDisable,
    ...readTls(r, readFile),
    dkim: readDkim(r, readFile),
    maxMessageBytes: r.read('SMTP_MAX_MESSAGE_BYTES', integer(1024, 10 * 1024 ** 3, 'a number of bytes'), 10_485_760),
    maxRecipients: r.read('SMTP_MAX_RECIPIENTS', integer(1, 100_000), 100),
    maxMessagesPerConnection: r.read('SMTP_MAX_MESSAGES_PER_CONNECTION', integer(1, 1_000_000), 1000),
    commandTimeoutSeconds: r.read('SMTP_COMMAND_TIMEOUT', seconds(86_400), 300),
    maxConnections: r.read('SMTP_MAX_CONNECTIONS', integer(1, 1_000_000), 1000),
    maxConnectionsPerIp: r.read('SMTP_MAX_CONNECTIONS_PER_IP', integer(1, 1_000_000), 20),
    deliveryMode,
    relay,
    outboundPort: r.read('SMTP_OUTBOUND_PORT', port, 25),
    ...readOutboundTls(r, readFile),
    dnsServers: r.read('SMTP_DNS_SERVERS', fromParser(parseDnsServers), []),
    retryBaseSeconds,
    retryMaxSeconds,
    queueLifetimeHours,
    domainConcurrency: r.read('SMTP_DOMAIN_CONCURRENCY', integer(1, 1000), 20),
    destinationRecipientLimit: r.read('SMTP_DESTINATION_RECIPIENT_LIMIT', integer(1, 100_000), 50),
    destinationRates: r.read('SMTP_DESTINATION_RATES', fromParser(parseDestinationRates), new Map()),
    delayWarningHours,
    ...readListeners(r, { smtpPort, tlsDisable, authUsers, authInsecure }),
    bareNewline: r.read('SMTP_BARE_NEWLINE', oneOf(['normalize', 'reject', 'keep'] as const), 'normalize'),
    bounces: r.read('SMTP_BOUNCES', boolean, true),
    verifyInbound: r.read('SMTP_VERIFY_INBOUND', boolean, false),
    queueBackend: r.read('SMTP_QUEUE_BACKEND', oneOf(['file', 'redis'] as const), 'file'),
    redisUrl: r.read('SMTP_REDIS_URL', fromParser(parseRedisUrl), 'redis://127.0.0.1:6379'),
    redisPrefix: r.read('SMTP_REDIS_PREFIX', redisPrefix, 'gopherpost:'),
    adminToken: r.optional('SMTP_ADMIN_TOKEN', adminToken),
    logLevel: r.read(
      'LOG_LEVEL',
      oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const),
      'info',
    ),
  };
  r.throwIfProblems();
  return deepFreeze(config);
}
