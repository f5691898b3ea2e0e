/**
 * The environment variables the daemon knows (SPEC §2), in the order of the
 * SPEC's tables, and how a secret value is masked before it is printed.
 */
export const VARIABLES = [
  // GopherPost-compatible
  'SMTP_PORT',
  'SMTP_HOSTNAME',
  'SMTP_BANNER',
  'SMTP_DEBUG',
  'SMTP_HEALTH_ADDR',
  'SMTP_HEALTH_PORT',
  'SMTP_HEALTH_DISABLE',
  'SMTP_QUEUE_PATH',
  'SMTP_QUEUE_WORKERS',
  'SMTP_RETENTION_DAYS',
  'SMTP_AUTH_USERS',
  'SMTP_AUTH_INSECURE',
  'SMTP_ALLOW_NETWORKS',
  'SMTP_ALLOW_HOSTS',
  'SMTP_REQUIRE_LOCAL_DOMAIN',
  'SMTP_TLS_DISABLE',
  'SMTP_TLS_CERT',
  'SMTP_TLS_KEY',
  'SMTP_DKIM_SELECTOR',
  'SMTP_DKIM_KEY_PATH',
  'SMTP_DKIM_PRIVATE_KEY',
  'SMTP_DKIM_DOMAIN',
  // Extensions
  'SMTP_BIND',
  'SMTP_MAX_MESSAGE_BYTES',
  'SMTP_MAX_RECIPIENTS',
  'SMTP_MAX_MESSAGES_PER_CONNECTION',
  'SMTP_COMMAND_TIMEOUT',
  'SMTP_MAX_CONNECTIONS',
  'SMTP_MAX_CONNECTIONS_PER_IP',
  'SMTP_DELIVERY_MODE',
  'SMTP_RELAY_URL',
  'SMTP_OUTBOUND_PORT',
  'SMTP_OUTBOUND_TLS_VERIFY',
  'SMTP_OUTBOUND_CA_FILE',
  'SMTP_DNS_SERVERS',
  'SMTP_RETRY_BASE_SECONDS',
  'SMTP_RETRY_MAX_SECONDS',
  'SMTP_QUEUE_LIFETIME_HOURS',
  'SMTP_DOMAIN_CONCURRENCY',
  'SMTP_DESTINATION_RECIPIENT_LIMIT',
  'SMTP_DESTINATION_RATES',
  'SMTP_DELAY_WARNING_HOURS',
  'SMTP_TLS_PORT',
  'SMTP_SUBMISSION_PORT',
  'SMTP_PROXY_FROM',
  'SMTP_BARE_NEWLINE',
  'SMTP_MTA_STS',
  'SMTP_TLS_POLICY',
  'SMTP_TLSRPT_ORGANIZATION',
  'SMTP_TLSRPT_CONTACT',
  'SMTP_BOUNCES',
  'SMTP_VERIFY_INBOUND',
  'SMTP_QUEUE_BACKEND',
  'SMTP_REDIS_URL',
  'SMTP_REDIS_PREFIX',
  'SMTP_ADMIN_TOKEN',
  'LOG_LEVEL',
] as const;

export type VariableName = (typeof VARIABLES)[number];

const KNOWN: ReadonlySet<string> = new Set<string>(VARIABLES);

/** `SMTP_*` names in `env` that the daemon does not know (typos, removed options), sorted. */
export function unknownVariables(env: Readonly<Record<string, string | undefined>>): string[] {
  return Object.keys(env)
    .filter((name) => name.startsWith('SMTP_') && !KNOWN.has(name))
    .sort();
}

export const MASK = '****';

/**
 * `scheme://user:secret@host` → `scheme://user:****@host`. Everything between
 * the first `:` of the user part and the last `@` is masked, so a password
 * with unencoded `@` or `/` does not leak even when the URL is malformed.
 */
export function maskUrlPassword(url: string): string {
  const at = url.lastIndexOf('@');
  if (at < 0) return url;
  const schemeEnd = url.indexOf('://');
  const start = schemeEnd >= 0 && schemeEnd < at ? schemeEnd + 3 : 0;
  const colon = url.indexOf(':', start);
  if (colon < 0 || colon > at) return url;
  return `${url.slice(0, colon + 1)}${MASK}${url.slice(at)}`;
}

/** `alice:secret,bob:x` → `alice:****,bob:****`; an entry without `:` is masked whole. */
export function maskAuthUsers(list: string): string {
  return list
    .split(',')
    .map((entry) => {
      const colon = entry.indexOf(':');
      if (entry.trim() === '') return entry;
      return colon < 0 ? MASK : `${entry.slice(0, colon)}:${MASK}`;
    })
    .join(',');
}

/** The value of `variable` as it may be shown in errors and logs. */
export function maskValue(variable: string, value: string): string {
  if (value === '') return value;
  switch (variable) {
    case 'SMTP_AUTH_USERS':
      return maskAuthUsers(value);
    case 'SMTP_RELAY_URL':
    case 'SMTP_REDIS_URL':
      return maskUrlPassword(value);
    case 'SMTP_ADMIN_TOKEN':
    case 'SMTP_DKIM_PRIVATE_KEY':
      return MASK;
    default:
      return value;
  }
}
