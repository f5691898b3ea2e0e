/** The daemon's configuration: validated once at start-up, frozen, passed down. */
export type DeliveryMode = 'mx' | 'relay' | 'hold';
export type QueueBackend = 'file' | 'redis';
/** What inbound DATA does with a lone CR or LF (SMTP_BARE_NEWLINE). */
export type BareNewline = 'normalize' | 'reject' | 'keep';
/** Outbound TLS for a destination (SMTP_TLS_POLICY): opportunistic, required, required and verified. */
export type TlsLevel = 'may' | 'encrypt' | 'verify' | 'dane';

/** Who sends the TLS reports (RFC 8460 §4.4 `organization-name`, `contact-info`). */
export interface TlsRptConfig {
  readonly organization: string;
  readonly contact: string;
}
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** `user` with a password that is plain text, a bcrypt hash or an scrypt hash. */
export interface AuthUser {
  readonly user: string;
  readonly secret: string;
}

/** One CIDR network (a single IP is /32 or /128). */
export interface Network {
  readonly address: string;
  readonly prefix: number;
  readonly family: 4 | 6;
}

export interface DnsServer {
  readonly host: string;
  readonly port: number;
}

/** A delivery rate limit: at most `count` messages per `perMs`. */
export interface Rate {
  readonly count: number;
  readonly perMs: number;
}

export interface RelayTarget {
  readonly secure: boolean; // smtps://
  readonly host: string;
  readonly port: number;
  readonly user?: string;
  readonly pass?: string;
}

export interface Config {
  readonly smtpPort: number;
  readonly smtpBind: string | undefined; // undefined: all interfaces
  readonly hostname: string;
  readonly banner: string;
  readonly debug: boolean;
  readonly healthHost: string | undefined; // undefined: all interfaces
  readonly healthPort: number;
  readonly healthDisable: boolean;
  readonly queuePath: string;
  readonly queueWorkers: number;
  readonly retentionDays: number;
  readonly authUsers: readonly AuthUser[];
  readonly authInsecure: boolean;
  readonly allowNetworks: readonly Network[];
  readonly allowHosts: readonly string[];
  readonly requireLocalDomain: boolean;
  readonly tlsDisable: boolean;
  readonly tlsCertPath: string | undefined;
  readonly tlsKeyPath: string | undefined;
  readonly dkim:
    | {
        readonly selector: string;
        readonly domain: string | undefined; // undefined: sender's domain
        readonly privateKeyPem: string;
        readonly keyPath: string | undefined;
      }
    | undefined;
  readonly maxMessageBytes: number;
  readonly maxRecipients: number;
  /** MAIL commands one connection may give (SMTP_MAX_MESSAGES_PER_CONNECTION; LIMITS MAILMAX). */
  readonly maxMessagesPerConnection: number;
  readonly commandTimeoutSeconds: number;
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
  readonly deliveryMode: DeliveryMode;
  readonly relay: RelayTarget | undefined;
  readonly outboundPort: number;
  readonly outboundTlsVerify: boolean;
  /** SMTP_OUTBOUND_CA_FILE: more CAs trusted outbound (SMTP certificates, MTA-STS policy hosts). */
  readonly outboundCa: { readonly path: string; readonly pem: string } | undefined;
  /** SMTP_TLS_POLICY: destination (`example.com`, `.example.com` for those below it) → level; empty: none. */
  readonly tlsPolicy: ReadonlyMap<string, TlsLevel>;
  /** SMTP_MTA_STS: apply recipients' MTA-STS policies (RFC 8461). */
  readonly mtaSts: boolean;
  /** SMTP_TLSRPT_ORGANIZATION and SMTP_TLSRPT_CONTACT: daily TLS reports (RFC 8460); undefined: none. */
  readonly tlsRpt: TlsRptConfig | undefined;
  readonly dnsServers: readonly DnsServer[]; // empty: system resolvers
  readonly retryBaseSeconds: number;
  readonly retryMaxSeconds: number;
  readonly queueLifetimeHours: number;
  readonly domainConcurrency: number;
  /** Most recipients in one outbound transaction (SMTP_DESTINATION_RECIPIENT_LIMIT). */
  readonly destinationRecipientLimit: number;
  /** Per-destination-domain rate limits (SMTP_DESTINATION_RATES); empty: none. */
  readonly destinationRates: ReadonlyMap<string, Rate>;
  /** Hours a recipient may stay deferred before its sender gets a delay notice (SMTP_DELAY_WARNING_HOURS); 0: off. */
  readonly delayWarningHours: number;
  /** Implicit-TLS listener port (SMTP_TLS_PORT); undefined: none. */
  readonly tlsPort: number | undefined;
  /** Submission listener port (SMTP_SUBMISSION_PORT), AUTH before MAIL; undefined: none. */
  readonly submissionPort: number | undefined;
  /** Peers whose connections start with a PROXY v1/v2 header (SMTP_PROXY_FROM); empty: none. */
  readonly proxyFrom: readonly Network[];
  /** A lone CR or LF in DATA: made CRLF, refused, or stored as received (SMTP_BARE_NEWLINE). */
  readonly bareNewline: BareNewline;
  readonly bounces: boolean;
  readonly verifyInbound: boolean;
  readonly queueBackend: QueueBackend;
  readonly redisUrl: string;
  readonly redisPrefix: string;
  readonly adminToken: string | undefined;
  readonly logLevel: LogLevel;
}
