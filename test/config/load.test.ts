import { hostname as systemHostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { CONFIG_EXIT_CODE, ConfigError } from '../../src/config/errors.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import { maskValue, unknownVariables } from '../../src/config/variables.js';
import { configError, load, soleProblem } from './helpers.js';

describe('loadConfig defaults', () => {
  it('matches SPEC §2 for an empty environment', () => {
    expect(load({})).toEqual({
      smtpPort: 2525,
      smtpBind: undefined,
      hostname: 'mx.example.test',
      banner: 'GopherPost ready',
      debug: false,
      healthHost: undefined,
      healthPort: 8080,
      healthDisable: false,
      queuePath: './data/spool',
      queueWorkers: 100,
      retentionDays: 7,
      authUsers: [],
      authInsecure: false,
      allowNetworks: [],
      allowHosts: [],
      requireLocalDomain: true,
      tlsDisable: false,
      tlsCertPath: undefined,
      tlsKeyPath: undefined,
      dkim: undefined,
      maxMessageBytes: 10_485_760,
      maxRecipients: 100,
      maxMessagesPerConnection: 1000,
      commandTimeoutSeconds: 300,
      maxConnections: 1000,
      maxConnectionsPerIp: 20,
      deliveryMode: 'mx',
      relay: undefined,
      outboundPort: 25,
      outboundTlsVerify: true,
      outboundCa: undefined,
      tlsPolicy: new Map(),
      mtaSts: true,
      tlsRpt: undefined,
      dnsServers: [],
      retryBaseSeconds: 60,
      retryMaxSeconds: 3840,
      queueLifetimeHours: 120,
      domainConcurrency: 20,
      destinationRecipientLimit: 50,
      destinationRates: new Map(),
      delayWarningHours: 4,
      tlsPort: undefined,
      submissionPort: undefined,
      proxyFrom: [],
      bareNewline: 'normalize',
      bounces: true,
      verifyInbound: false,
      queueBackend: 'file',
      redisUrl: 'redis://127.0.0.1:6379',
      redisPrefix: 'gopherpost:',
      adminToken: undefined,
      logLevel: 'info',
    } satisfies Config);
  });

  it('treats empty strings as unset', () => {
    expect(load({ SMTP_PORT: '', SMTP_DEBUG: '', SMTP_AUTH_USERS: '', LOG_LEVEL: '' })).toEqual(load({}));
  });

  it('uses the system hostname without facts', () => {
    const config = loadConfig({});
    expect(config.hostname).toBe(systemHostname().toLowerCase().replace(/\.$/, ''));
  });

  it('ignores unrelated variables', () => {
    expect(load({ PATH: '/usr/bin', HOME: '/root', SMTP_PROT: '25' })).toEqual(load({}));
  });
});

describe('loadConfig good values', () => {
  it.each<[Record<string, string>, Partial<Config>]>([
    [{ SMTP_PORT: '25' }, { smtpPort: 25 }],
    [{ SMTP_PORT: '65535' }, { smtpPort: 65535 }],
    [{ SMTP_PORT: '0' }, { smtpPort: 0 }], // listen on any free port
    [{ SMTP_HEALTH_ADDR: '127.0.0.1:0' }, { healthHost: '127.0.0.1', healthPort: 0 }],
    [{ SMTP_HEALTH_PORT: '0' }, { healthPort: 0 }],
    [{ SMTP_HOSTNAME: 'Mail.Example.COM.' }, { hostname: 'mail.example.com' }],
    [{ SMTP_BANNER: 'ESMTP ready: welcome' }, { banner: 'ESMTP ready: welcome' }],
    [{ SMTP_DEBUG: 'true' }, { debug: true }],
    [{ SMTP_HEALTH_ADDR: '127.0.0.1:9090' }, { healthHost: '127.0.0.1', healthPort: 9090 }],
    [{ SMTP_HEALTH_ADDR: ':9090' }, { healthHost: undefined, healthPort: 9090 }],
    [{ SMTP_HEALTH_ADDR: '[::1]:9090' }, { healthHost: '::1', healthPort: 9090 }],
    [{ SMTP_HEALTH_ADDR: 'LocalHost:80' }, { healthHost: 'localhost', healthPort: 80 }],
    [{ SMTP_HEALTH_PORT: '9100' }, { healthHost: undefined, healthPort: 9100 }],
    [
      { SMTP_HEALTH_ADDR: '[2001:DB8::1]:9090', SMTP_HEALTH_PORT: '9100' },
      { healthHost: '2001:db8::1', healthPort: 9100 },
    ],
    [{ SMTP_HEALTH_DISABLE: 'true' }, { healthDisable: true }],
    [{ SMTP_QUEUE_PATH: '/var/spool/gopherpost' }, { queuePath: '/var/spool/gopherpost' }],
    [{ SMTP_QUEUE_WORKERS: '16' }, { queueWorkers: 16 }],
    [{ SMTP_RETENTION_DAYS: '30' }, { retentionDays: 30 }],
    [
      { SMTP_AUTH_USERS: 'alice:secret, bob:pa:ss:word' },
      {
        authUsers: [
          { user: 'alice', secret: 'secret' },
          { user: 'bob', secret: 'pa:ss:word' },
        ],
      },
    ],
    [{ SMTP_AUTH_INSECURE: 'true' }, { authInsecure: true }],
    [
      { SMTP_ALLOW_NETWORKS: '10.1.2.3/8, 192.168.1.7,2001:DB8:0:0:1::1/33,::1,::ffff:10.0.0.1' },
      {
        allowNetworks: [
          { address: '10.0.0.0', prefix: 8, family: 4 },
          { address: '192.168.1.7', prefix: 32, family: 4 },
          { address: '2001:db8::', prefix: 33, family: 6 },
          { address: '::1', prefix: 128, family: 6 },
          { address: '::ffff:10.0.0.1', prefix: 128, family: 6 },
        ],
      },
    ],
    [
      { SMTP_ALLOW_NETWORKS: '0.0.0.0/0,::/0' },
      {
        allowNetworks: [
          { address: '0.0.0.0', prefix: 0, family: 4 },
          { address: '::', prefix: 0, family: 6 },
        ],
      },
    ],
    [
      { SMTP_ALLOW_NETWORKS: '10.0.0.1/8,10.0.0.0/8' },
      { allowNetworks: [{ address: '10.0.0.0', prefix: 8, family: 4 }] },
    ],
    [
      { SMTP_ALLOW_HOSTS: 'App1.Example.com., app2.example.com,app1.example.com' },
      { allowHosts: ['app1.example.com', 'app2.example.com'] },
    ],
    [{ SMTP_REQUIRE_LOCAL_DOMAIN: 'false' }, { requireLocalDomain: false }],
    [{ SMTP_TLS_DISABLE: 'true' }, { tlsDisable: true }],
    [{ SMTP_BIND: '127.0.0.1' }, { smtpBind: '127.0.0.1' }],
    [{ SMTP_BIND: '[::1]' }, { smtpBind: '::1' }],
    [{ SMTP_BIND: 'Mail.Example.com' }, { smtpBind: 'mail.example.com' }],
    [{ SMTP_MAX_MESSAGE_BYTES: '1024' }, { maxMessageBytes: 1024 }],
    [{ SMTP_MAX_RECIPIENTS: '1' }, { maxRecipients: 1 }],
    [{ SMTP_COMMAND_TIMEOUT: '30' }, { commandTimeoutSeconds: 30 }],
    [{ SMTP_MAX_CONNECTIONS: '50' }, { maxConnections: 50 }],
    [{ SMTP_MAX_CONNECTIONS_PER_IP: '5' }, { maxConnectionsPerIp: 5 }],
    [{ SMTP_DELIVERY_MODE: 'hold' }, { deliveryMode: 'hold' }],
    [
      { SMTP_DELIVERY_MODE: 'relay', SMTP_RELAY_URL: 'smtp://relay.example.net' },
      { deliveryMode: 'relay', relay: { secure: false, host: 'relay.example.net', port: 587 } },
    ],
    [
      { SMTP_RELAY_URL: 'smtps://us%40er:p%3Aa%2Fss@[2001:db8::25]' },
      { relay: { secure: true, host: '2001:db8::25', port: 465, user: 'us@er', pass: 'p:a/ss' } },
    ],
    [
      { SMTP_RELAY_URL: 'smtp://apikey@relay.example.net:2525/' },
      { relay: { secure: false, host: 'relay.example.net', port: 2525, user: 'apikey' } },
    ],
    [{ SMTP_OUTBOUND_PORT: '2526' }, { outboundPort: 2526 }],
    [{ SMTP_OUTBOUND_TLS_VERIFY: 'false' }, { outboundTlsVerify: false }],
    [
      { SMTP_DNS_SERVERS: '1.1.1.1, 10.0.0.53:5353,[2606:4700:4700:0:0:0:0:1111]:53,::1' },
      {
        dnsServers: [
          { host: '1.1.1.1', port: 53 },
          { host: '10.0.0.53', port: 5353 },
          { host: '2606:4700:4700::1111', port: 53 },
          { host: '::1', port: 53 },
        ],
      },
    ],
    [
      { SMTP_RETRY_BASE_SECONDS: '10', SMTP_RETRY_MAX_SECONDS: '10' },
      { retryBaseSeconds: 10, retryMaxSeconds: 10 },
    ],
    [{ SMTP_QUEUE_LIFETIME_HOURS: '48' }, { queueLifetimeHours: 48 }],
    [{ SMTP_DELAY_WARNING_HOURS: '0' }, { delayWarningHours: 0 }],
    [{ SMTP_DELAY_WARNING_HOURS: '24' }, { delayWarningHours: 24 }],
    [{ SMTP_DELAY_WARNING_HOURS: '0.0005' }, { delayWarningHours: 0.0005 }],
    [{ SMTP_DOMAIN_CONCURRENCY: '2' }, { domainConcurrency: 2 }],
    [{ SMTP_DESTINATION_RECIPIENT_LIMIT: '1' }, { destinationRecipientLimit: 1 }],
    [
      { SMTP_DESTINATION_RATES: 'Example.com=100/min, example.org = 5/s,slow.test=30/h' },
      {
        destinationRates: new Map([
          ['example.com', { count: 100, perMs: 60_000 }],
          ['example.org', { count: 5, perMs: 1_000 }],
          ['slow.test', { count: 30, perMs: 3_600_000 }],
        ]),
      },
    ],
    [
      { SMTP_TLS_POLICY: 'Example.com=verify, partner.test = ENCRYPT,.example.net=may,signed.test=DANE' },
      {
        tlsPolicy: new Map([
          ['example.com', 'verify'],
          ['partner.test', 'encrypt'],
          ['.example.net', 'may'],
          ['signed.test', 'dane'],
        ]),
      },
    ],
    [{ SMTP_MTA_STS: 'false' }, { mtaSts: false }],
    [
      { SMTP_TLSRPT_ORGANIZATION: 'Example Mail', SMTP_TLSRPT_CONTACT: 'mailto:tls@example.com' },
      { tlsRpt: { organization: 'Example Mail', contact: 'mailto:tls@example.com' } },
    ],
    [{ SMTP_BOUNCES: 'false' }, { bounces: false }],
    [{ SMTP_VERIFY_INBOUND: 'true' }, { verifyInbound: true }],
    [{ SMTP_QUEUE_BACKEND: 'redis' }, { queueBackend: 'redis' }],
    [{ SMTP_BARE_NEWLINE: 'reject' }, { bareNewline: 'reject' }],
    [{ SMTP_BARE_NEWLINE: 'keep' }, { bareNewline: 'keep' }],
    [{ SMTP_REDIS_URL: 'rediss://:pw@redis.internal:6380/2' }, { redisUrl: 'rediss://:pw@redis.internal:6380/2' }],
    [{ SMTP_REDIS_PREFIX: 'gp:test:' }, { redisPrefix: 'gp:test:' }],
    [{ SMTP_ADMIN_TOKEN: 'abcdef0123456789abcdef' }, { adminToken: 'abcdef0123456789abcdef' }],
    [{ LOG_LEVEL: 'silent' }, { logLevel: 'silent' }],
  ])('%j', (env, expected) => {
    expect(load(env)).toMatchObject(expected);
  });
});

describe('loadConfig bad values', () => {
  // variable, value, a fragment of what is expected
  it.each<[string, string, string]>([
    ['SMTP_PORT', 'abc', 'an integer port 0-65535 (0: any free port)'],
    ['SMTP_PORT', '65536', 'an integer port 0-65535'],
    ['SMTP_PORT', '-25', 'an integer port 0-65535'],
    ['SMTP_PORT', ' 25', 'an integer port 0-65535'],
    ['SMTP_PORT', '2.5e3', 'an integer port 0-65535'],
    ['SMTP_HOSTNAME', 'mail_host', 'a host name'],
    ['SMTP_HOSTNAME', 'bad..example', 'a host name'],
    ['SMTP_BANNER', 'hello\r\n250 fake', 'a single line of text'],
    ['SMTP_DEBUG', 'TRUE', 'true or false'],
    ['SMTP_DEBUG', '1', 'true or false'],
    ['SMTP_HEALTH_ADDR', '8080', 'host:port, :port or [IPv6]:port'],
    ['SMTP_HEALTH_ADDR', ':http', 'host:port, :port or [IPv6]:port'],
    ['SMTP_HEALTH_ADDR', '::1:8080', 'host:port, :port or [IPv6]:port'],
    ['SMTP_HEALTH_ADDR', '[::1]', 'host:port, :port or [IPv6]:port'],
    ['SMTP_HEALTH_ADDR', 'bad_host:80', 'is not an IP address or host name'],
    ['SMTP_HEALTH_ADDR', ':65536', 'host:port, :port or [IPv6]:port'],
    ['SMTP_HEALTH_PORT', '70000', 'an integer port 0-65535'],
    ['SMTP_HEALTH_DISABLE', 'yes', 'true or false'],
    ['SMTP_QUEUE_PATH', 'a\nb', 'a file-system path'],
    ['SMTP_QUEUE_WORKERS', '0', 'an integer 1-10000'],
    ['SMTP_QUEUE_WORKERS', 'four', 'an integer 1-10000'],
    ['SMTP_DESTINATION_RECIPIENT_LIMIT', '0', 'an integer 1-100000'],
    ['SMTP_DESTINATION_RATES', 'example.com=100', 'domain=N/s, domain=N/min or domain=N/h'],
    ['SMTP_DESTINATION_RATES', 'example.com=0/s', '"example.com=0/s" is not'],
    ['SMTP_DESTINATION_RATES', 'a.test=1/s,A.test=2/s', 'a.test is listed twice'],
    ['SMTP_TLS_POLICY', 'example.com', 'domain=may|encrypt|verify|dane'],
    ['SMTP_TLS_POLICY', 'example.com=secure', '"example.com=secure" is not'],
    ['SMTP_TLS_POLICY', 'bad_domain=verify', '"bad_domain=verify" is not'],
    ['SMTP_TLS_POLICY', 'a.test=may,A.test=verify', 'a.test is listed twice'],
    ['SMTP_TLS_POLICY', 'a.test=dane-only', '"a.test=dane-only" is not'],
    ['SMTP_MTA_STS', 'yes', 'true or false'],
    ['SMTP_TLSRPT_CONTACT', 'a\nb', 'a single line of text'],
    ['SMTP_RETENTION_DAYS', '0', 'a whole number of days 1-36500'],
    ['SMTP_AUTH_USERS', 'alice', 'entry 1 has no ":"'],
    ['SMTP_AUTH_USERS', 'alice:x,:pw', 'entry 2 has no valid user name'],
    ['SMTP_AUTH_USERS', 'alice:', 'the password of "alice" is empty'],
    ['SMTP_AUTH_USERS', 'alice:x,alice:y', 'user "alice" appears twice'],
    ['SMTP_AUTH_USERS', 'alice:$2b$10$short', 'the password hash of "alice" is malformed'],
    [
      'SMTP_AUTH_USERS',
      'alice:scrypt$3$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==',
      'the password hash of "alice" is malformed',
    ],
    ['SMTP_AUTH_USERS', ',', 'comma-separated user:password entries'],
    ['SMTP_AUTH_INSECURE', 'on', 'true or false'],
    ['SMTP_ALLOW_NETWORKS', '10.0.0.0/8,example.com', '"example.com" is not an IP address or CIDR'],
    ['SMTP_ALLOW_NETWORKS', '10.0.0.0/33', '"10.0.0.0/33" has a prefix outside /0-32'],
    ['SMTP_ALLOW_NETWORKS', '2001:db8::/129', 'has a prefix outside /0-128'],
    ['SMTP_ALLOW_NETWORKS', '10.0.0.0/', 'has a prefix outside /0-32'],
    ['SMTP_ALLOW_NETWORKS', '010.0.0.1', 'is not an IP address or CIDR'],
    ['SMTP_ALLOW_NETWORKS', 'fe80::1%eth0', 'is not an IP address or CIDR'],
    ['SMTP_ALLOW_HOSTS', 'ok.example.com,-bad.example.com', '"-bad.example.com" is not a host name'],
    ['SMTP_REQUIRE_LOCAL_DOMAIN', 'False', 'true or false'],
    ['SMTP_TLS_DISABLE', '0', 'true or false'],
    ['SMTP_BIND', '[1.2.3.4]', 'an IP address or host name to listen on'],
    ['SMTP_BIND', 'under_score', 'an IP address or host name to listen on'],
    ['SMTP_MAX_MESSAGE_BYTES', '100', 'a number of bytes 1024-10737418240'],
    ['SMTP_MAX_MESSAGE_BYTES', '10MB', 'a number of bytes 1024-10737418240'],
    ['SMTP_MAX_RECIPIENTS', '0', 'an integer 1-100000'],
    ['SMTP_COMMAND_TIMEOUT', '86401', 'a whole number of seconds 1-86400'],
    ['SMTP_MAX_CONNECTIONS', '1e3', 'an integer 1-1000000'],
    ['SMTP_MAX_CONNECTIONS_PER_IP', '0', 'an integer 1-1000000'],
    ['SMTP_DELIVERY_MODE', 'MX', 'one of mx, relay, hold'],
    ['SMTP_RELAY_URL', 'relay.example.net:587', 'smtp://[user[:password]@]host[:port]'],
    ['SMTP_RELAY_URL', 'http://relay.example.net', 'smtp://[user[:password]@]host[:port]'],
    ['SMTP_RELAY_URL', 'smtp://relay.example.net/path', 'without path, query or fragment'],
    ['SMTP_RELAY_URL', 'smtp://relay.example.net:0', 'smtp://[user[:password]@]host[:port]'],
    ['SMTP_RELAY_URL', 'smtp://:pw@relay.example.net', 'a password needs a user'],
    ['SMTP_RELAY_URL', 'smtp://u:%E0%A4%A@relay.example.net', 'bad %-escape'],
    ['SMTP_OUTBOUND_PORT', '0', 'an integer port 1-65535'],
    ['SMTP_OUTBOUND_PORT', 'smtp', 'an integer port 1-65535'],
    ['SMTP_OUTBOUND_TLS_VERIFY', 'no', 'true or false'],
    ['SMTP_DNS_SERVERS', 'dns.google', '"dns.google" is not one'],
    ['SMTP_DNS_SERVERS', '1.1.1.1:0', '"1.1.1.1:0" is not one'],
    ['SMTP_DNS_SERVERS', '[1.1.1.1]:53', 'is not one'],
    ['SMTP_RETRY_BASE_SECONDS', '0', 'a whole number of seconds 1-86400'],
    ['SMTP_RETRY_MAX_SECONDS', '604801', 'a whole number of seconds 1-604800'],
    ['SMTP_QUEUE_LIFETIME_HOURS', '8761', 'a whole number of hours 1-8760'],
    ['SMTP_DOMAIN_CONCURRENCY', '0', 'an integer 1-1000'],
    ['SMTP_DELAY_WARNING_HOURS', '-1', 'a number of hours (fractions allowed, 0: no delay notices) 0-8760'],
    ['SMTP_DELAY_WARNING_HOURS', '4h', 'a number of hours'],
    ['SMTP_DELAY_WARNING_HOURS', '1e3', 'a number of hours'],
    ['SMTP_DELAY_WARNING_HOURS', '.5', 'a number of hours'],
    ['SMTP_BARE_NEWLINE', 'strip', 'one of normalize, reject, keep'],
    ['SMTP_BARE_NEWLINE', 'Normalize', 'one of normalize, reject, keep'],
    ['SMTP_BOUNCES', 'off', 'true or false'],
    ['SMTP_VERIFY_INBOUND', 'yes', 'true or false'],
    ['SMTP_QUEUE_BACKEND', 'postgres', 'one of file, redis'],
    ['SMTP_REDIS_URL', 'http://127.0.0.1:6379', 'a redis:// or rediss:// URL'],
    ['SMTP_REDIS_URL', 'localhost:6379', 'a redis:// or rediss:// URL'],
    ['SMTP_REDIS_PREFIX', 'has space', 'a key prefix'],
    ['LOG_LEVEL', 'verbose', 'one of fatal, error, warn, info, debug, trace, silent'],
  ])('%s=%j', (variable, value, expected) => {
    const problem = soleProblem({ [variable]: value });
    expect(problem.variable).toBe(variable);
    expect(problem.value).toBe(maskValue(variable, value)); // secrets: see the masking tests
    expect(problem.expected).toContain(expected);
  });

  it('formats the message as VARIABLE="value": expected …', () => {
    expect(configError({ SMTP_OUTBOUND_PORT: 'abc' }).message).toBe(
      'SMTP_OUTBOUND_PORT="abc": expected an integer port 1-65535',
    );
  });

  it('lists every problem, one per line, in SPEC order', () => {
    const error = configError({ LOG_LEVEL: 'loud', SMTP_DEBUG: 'yes', SMTP_PORT: 'abc', SMTP_QUEUE_BACKEND: 'x' });
    expect(error.problems.map((p) => p.variable)).toEqual([
      'SMTP_PORT',
      'SMTP_DEBUG',
      'SMTP_QUEUE_BACKEND',
      'LOG_LEVEL',
    ]);
    expect(error.message.split('\n')).toEqual([
      'SMTP_PORT="abc": expected an integer port 0-65535 (0: any free port)',
      'SMTP_DEBUG="yes": expected true or false',
      'SMTP_QUEUE_BACKEND="x": expected one of file, redis',
      'LOG_LEVEL="loud": expected one of fatal, error, warn, info, debug, trace, silent',
    ]);
    expect(error.name).toBe('ConfigError');
    expect(CONFIG_EXIT_CODE).toBe(78);
  });

  it('quotes control characters and shortens very long values in the message', () => {
    const error = configError({ SMTP_BANNER: `a\nb${'x'.repeat(500)}` });
    expect(error.message).toMatch(/^SMTP_BANNER="a\\nbx+…": expected a single line/);
    expect(error.message.length).toBeLessThan(300);
  });

  it('has frozen problems', () => {
    const error = configError({ SMTP_PORT: 'x' });
    expect(Object.isFrozen(error.problems)).toBe(true);
    expect(Object.isFrozen(error.problems[0])).toBe(true);
  });
});

describe('loadConfig cross-field rules', () => {
  it('requires SMTP_RELAY_URL in relay mode, naming both variables', () => {
    const problem = soleProblem({ SMTP_DELIVERY_MODE: 'relay' });
    expect(problem).toMatchObject({ variable: 'SMTP_RELAY_URL', value: '' });
    expect(problem.expected).toContain('SMTP_DELIVERY_MODE is relay');
  });

  it('wants SMTP_TLSRPT_ORGANIZATION and SMTP_TLSRPT_CONTACT together, naming the one missing', () => {
    expect(soleProblem({ SMTP_TLSRPT_ORGANIZATION: 'Example Mail' })).toMatchObject({
      variable: 'SMTP_TLSRPT_CONTACT',
      value: '',
      expected: expect.stringContaining('because SMTP_TLSRPT_ORGANIZATION is set') as string,
    });
    expect(soleProblem({ SMTP_TLSRPT_CONTACT: 'mailto:tls@example.com' })).toMatchObject({
      variable: 'SMTP_TLSRPT_ORGANIZATION',
      expected: expect.stringContaining('because SMTP_TLSRPT_CONTACT is set') as string,
    });
    expect(load({}).tlsRpt).toBeUndefined();
  });

  it('accepts a relay URL outside relay mode (validated, unused)', () => {
    expect(load({ SMTP_RELAY_URL: 'smtp://relay.example.net' }).relay).toEqual({
      secure: false,
      host: 'relay.example.net',
      port: 587,
    });
  });

  it('requires SMTP_RETRY_MAX_SECONDS >= SMTP_RETRY_BASE_SECONDS, naming both', () => {
    const problem = soleProblem({ SMTP_RETRY_BASE_SECONDS: '120', SMTP_RETRY_MAX_SECONDS: '60' });
    expect(problem).toEqual({
      variable: 'SMTP_RETRY_MAX_SECONDS',
      value: '60',
      expected: 'a number of seconds >= SMTP_RETRY_BASE_SECONDS (120)',
    });
  });

  it('requires SMTP_DELAY_WARNING_HOURS below SMTP_QUEUE_LIFETIME_HOURS, naming both', () => {
    expect(soleProblem({ SMTP_QUEUE_LIFETIME_HOURS: '4', SMTP_DELAY_WARNING_HOURS: '4' })).toEqual({
      variable: 'SMTP_DELAY_WARNING_HOURS',
      value: '4',
      expected: 'a number of hours below SMTP_QUEUE_LIFETIME_HOURS (4), or 0 for no delay notices',
    });
    expect(soleProblem({ SMTP_DELAY_WARNING_HOURS: '130' }).expected).toContain('SMTP_QUEUE_LIFETIME_HOURS (120)');
    expect(load({ SMTP_QUEUE_LIFETIME_HOURS: '4', SMTP_DELAY_WARNING_HOURS: '0' }).delayWarningHours).toBe(0);
  });

  it('leaves delay notices off when SMTP_DELAY_WARNING_HOURS is unset and messages expire within 4 hours', () => {
    expect(load({ SMTP_QUEUE_LIFETIME_HOURS: '4' }).delayWarningHours).toBe(0);
    expect(load({ SMTP_QUEUE_LIFETIME_HOURS: '1' }).delayWarningHours).toBe(0);
    expect(load({ SMTP_QUEUE_LIFETIME_HOURS: '5' }).delayWarningHours).toBe(4);
  });

  it('compares the retry maximum with the default base', () => {
    expect(soleProblem({ SMTP_RETRY_MAX_SECONDS: '30' }).expected).toContain('SMTP_RETRY_BASE_SECONDS (60)');
  });

  it('skips the retry comparison when one side is already invalid', () => {
    expect(soleProblem({ SMTP_RETRY_BASE_SECONDS: 'x', SMTP_RETRY_MAX_SECONDS: '1' }).variable).toBe(
      'SMTP_RETRY_BASE_SECONDS',
    );
  });

  it('lets SMTP_HEALTH_PORT override only the port', () => {
    expect(load({ SMTP_HEALTH_ADDR: '10.0.0.1:8080', SMTP_HEALTH_PORT: '9000' })).toMatchObject({
      healthHost: '10.0.0.1',
      healthPort: 9000,
    });
  });
});

describe('loadConfig masks secrets in errors', () => {
  it.each<[string, string, string]>([
    ['SMTP_AUTH_USERS', 'alice:hunter2,bob', 'alice:****,****'],
    ['SMTP_AUTH_USERS', 'alice:hunter2,alice:hunter3', 'alice:****,alice:****'],
    ['SMTP_RELAY_URL', 'smtp://bob:hunter2@relay.example.net/x', 'smtp://bob:****@relay.example.net/x'],
    ['SMTP_RELAY_URL', 'smtp://bob:hun@ter2@relay.example.net:99999', 'smtp://bob:****@relay.example.net:99999'],
    ['SMTP_REDIS_URL', 'http://:hunter2@redis', 'http://:****@redis'],
    ['SMTP_ADMIN_TOKEN', 'hunter2', '****'],
    ['SMTP_DKIM_PRIVATE_KEY', 'hunter2', '****'],
  ])('%s', (variable, value, shown) => {
    const env: Record<string, string> = { [variable]: value };
    if (variable === 'SMTP_DKIM_PRIVATE_KEY') env['SMTP_DKIM_SELECTOR'] = 's1';
    const error = configError(env);
    const problem = error.problems.find((p) => p.variable === variable);
    expect(problem?.value).toBe(shown);
    expect(error.message).not.toContain('hunter');
    expect(JSON.stringify(error.problems)).not.toContain('hunter');
  });
});

describe('loadConfig result', () => {
  it('is deeply frozen', () => {
    const config = load({
      SMTP_AUTH_USERS: 'alice:pw',
      SMTP_ALLOW_NETWORKS: '10.0.0.0/8',
      SMTP_RELAY_URL: 'smtp://u:p@relay.example.net',
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { smtpPort: number }).smtpPort = 25;
    }).toThrow(TypeError);
    expect(() => {
      (config.authUsers as AuthUserArray).push({ user: 'eve', secret: 'x' });
    }).toThrow(TypeError);
    expect(() => {
      (config.authUsers[0] as { secret: string }).secret = 'changed';
    }).toThrow(TypeError);
    expect(() => {
      (config.allowNetworks[0] as { prefix: number }).prefix = 0;
    }).toThrow(TypeError);
    expect(() => {
      (config.relay as { host: string }).host = 'evil.example';
    }).toThrow(TypeError);
  });

  it('does not change the environment it read', () => {
    const env = Object.freeze({ SMTP_PORT: '25' });
    expect(load(env).smtpPort).toBe(25);
  });

  it('throws ConfigError, an Error', () => {
    expect(() => loadConfig({ SMTP_PORT: 'x' })).toThrow(ConfigError);
    expect(() => loadConfig({ SMTP_PORT: 'x' })).toThrow(Error);
  });
});

type AuthUserArray = { user: string; secret: string }[];

describe('unknownVariables', () => {
  it('lists unknown SMTP_* names, sorted, and ignores everything else', () => {
    expect(
      unknownVariables({
        SMTP_PROT: '25',
        SMTP_PORT: '25',
        SMTP_ALLOWED_HOSTS: 'x',
        PATH: '/bin',
        LOG_LEVEL: 'info',
        REDIS_URL: 'x',
      }),
    ).toEqual(['SMTP_ALLOWED_HOSTS', 'SMTP_PROT']);
  });
});
