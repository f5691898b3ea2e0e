import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { describeConfig } from '../../src/config/describe.js';
import { VARIABLES } from '../../src/config/variables.js';
import { load } from './helpers.js';

const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

describe('describeConfig', () => {
  it('lists every variable in SPEC order with its default', () => {
    const described = describeConfig(load({}));
    expect(Object.keys(described)).toEqual([...VARIABLES]);
    expect(described).toEqual({
      SMTP_PORT: '2525',
      SMTP_HOSTNAME: 'mx.example.test',
      SMTP_BANNER: 'GopherPost ready',
      SMTP_DEBUG: 'false',
      SMTP_HEALTH_ADDR: ':8080',
      SMTP_HEALTH_PORT: '8080',
      SMTP_HEALTH_DISABLE: 'false',
      SMTP_QUEUE_PATH: './data/spool',
      SMTP_QUEUE_WORKERS: '100',
      SMTP_RETENTION_DAYS: '7',
      SMTP_AUTH_USERS: '',
      SMTP_AUTH_INSECURE: 'false',
      SMTP_ALLOW_NETWORKS: '',
      SMTP_ALLOW_HOSTS: '',
      SMTP_REQUIRE_LOCAL_DOMAIN: 'true',
      SMTP_TLS_DISABLE: 'false',
      SMTP_TLS_CERT: '',
      SMTP_TLS_KEY: '',
      SMTP_DKIM_SELECTOR: '',
      SMTP_DKIM_KEY_PATH: '',
      SMTP_DKIM_PRIVATE_KEY: '',
      SMTP_DKIM_DOMAIN: '',
      SMTP_BIND: '',
      SMTP_MAX_MESSAGE_BYTES: '10485760',
      SMTP_MAX_RECIPIENTS: '100',
      SMTP_MAX_MESSAGES_PER_CONNECTION: '1000',
      SMTP_COMMAND_TIMEOUT: '300',
      SMTP_MAX_CONNECTIONS: '1000',
      SMTP_MAX_CONNECTIONS_PER_IP: '20',
      SMTP_DELIVERY_MODE: 'mx',
      SMTP_RELAY_URL: '',
      SMTP_OUTBOUND_PORT: '25',
      SMTP_OUTBOUND_TLS_VERIFY: 'true',
      SMTP_OUTBOUND_CA_FILE: '',
      SMTP_DNS_SERVERS: '',
      SMTP_RETRY_BASE_SECONDS: '60',
      SMTP_RETRY_MAX_SECONDS: '3840',
      SMTP_QUEUE_LIFETIME_HOURS: '120',
      SMTP_DOMAIN_CONCURRENCY: '20',
      SMTP_DESTINATION_RECIPIENT_LIMIT: '50',
      SMTP_DESTINATION_RATES: '',
      SMTP_DELAY_WARNING_HOURS: '4',
      SMTP_TLS_PORT: '',
      SMTP_SUBMISSION_PORT: '',
      SMTP_PROXY_FROM: '',
      SMTP_BARE_NEWLINE: 'normalize',
      SMTP_MTA_STS: 'true',
      SMTP_TLS_POLICY: '',
      SMTP_TLSRPT_ORGANIZATION: '',
      SMTP_TLSRPT_CONTACT: '',
      SMTP_BOUNCES: 'true',
      SMTP_VERIFY_INBOUND: 'false',
      SMTP_QUEUE_BACKEND: 'file',
      SMTP_REDIS_URL: 'redis://127.0.0.1:6379',
      SMTP_REDIS_PREFIX: 'gopherpost:',
      SMTP_ADMIN_TOKEN: '',
      LOG_LEVEL: 'info',
    });
  });

  it('shows normalised values that load back to the same config', () => {
    const env = {
      SMTP_HEALTH_ADDR: '[2001:DB8::1]:9000',
      SMTP_ALLOW_NETWORKS: '10.1.1.1/8,::1',
      SMTP_ALLOW_HOSTS: 'A.example.',
      SMTP_DNS_SERVERS: '1.1.1.1,[::1]:5353',
      SMTP_BIND: '::1',
      SMTP_DELIVERY_MODE: 'relay',
      SMTP_RELAY_URL: 'smtps://relay.example.net',
      SMTP_TLS_POLICY: 'Example.COM=verify, .partner.test=ENCRYPT,signed.test=Dane',
    };
    const described = describeConfig(load(env));
    expect(described).toMatchObject({
      SMTP_HEALTH_ADDR: '[2001:db8::1]:9000',
      SMTP_HEALTH_PORT: '9000',
      SMTP_ALLOW_NETWORKS: '10.0.0.0/8,::1/128',
      SMTP_ALLOW_HOSTS: 'a.example',
      SMTP_DNS_SERVERS: '1.1.1.1:53,[::1]:5353',
      SMTP_BIND: '::1',
      SMTP_RELAY_URL: 'smtps://relay.example.net:465',
      SMTP_TLS_POLICY: 'example.com=verify,.partner.test=encrypt,signed.test=dane',
    });
    expect(load(Object.fromEntries(Object.entries(described).filter(([, v]) => v !== '')))).toEqual(load(env));
  });

  it('masks every secret', () => {
    const config = load({
      SMTP_AUTH_USERS: `alice:hunter2,bob:${bcrypt.hashSync('pw', 4)}`,
      SMTP_RELAY_URL: 'smtp://us%40er:hunter2@[2001:db8::25]:2525',
      SMTP_REDIS_URL: 'redis://default:hunter2@redis.internal:6379/1',
      SMTP_ADMIN_TOKEN: 'hunter2hunter2hunter2',
      SMTP_DKIM_SELECTOR: 's1',
      SMTP_DKIM_PRIVATE_KEY: pem,
    });
    const described = describeConfig(config);
    expect(described).toMatchObject({
      SMTP_AUTH_USERS: 'alice:****,bob:****',
      SMTP_RELAY_URL: 'smtp://us%40er:****@[2001:db8::25]:2525',
      SMTP_REDIS_URL: 'redis://default:****@redis.internal:6379/1',
      SMTP_ADMIN_TOKEN: '****',
      SMTP_DKIM_PRIVATE_KEY: `<pem, ${Buffer.byteLength(pem)} bytes>`,
    });
    const text = JSON.stringify(described);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('$2b$');
    expect(text).not.toContain('PRIVATE KEY');
  });

  it('shows a relay user without password unmasked', () => {
    expect(describeConfig(load({ SMTP_RELAY_URL: 'smtp://apikey@relay.example.net' })).SMTP_RELAY_URL).toBe(
      'smtp://apikey@relay.example.net:587',
    );
  });
});

describe('.env.example', () => {
  const example = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');

  it.each([...VARIABLES])('documents %s, commented out', (name) => {
    expect(example).toMatch(new RegExp(`^# ${name}=`, 'm'));
  });

  it('shows the defaults', () => {
    const described = describeConfig(load({}));
    const fixed = VARIABLES.filter((name) => !['SMTP_HOSTNAME', 'SMTP_HEALTH_PORT'].includes(name));
    for (const name of fixed) {
      if (described[name] === '') continue; // unset by default: an example value may be shown
      expect(example, name).toMatch(
        new RegExp(`^# ${name}=${described[name]?.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'),
      );
    }
  });

  it('sets nothing', () => {
    expect(example.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#'))).toEqual([]);
  });
});
