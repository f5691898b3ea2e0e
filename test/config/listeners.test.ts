import { describe, expect, it } from 'vitest';
import { describeConfig } from '../../src/config/describe.js';
import { load, soleProblem } from './helpers.js';

// SMTP_TLS_PORT, SMTP_SUBMISSION_PORT, SMTP_PROXY_FROM and SMTP_MAX_MESSAGES_PER_CONNECTION (SPEC §2, §3).

const USERS = { SMTP_AUTH_USERS: 'alice:secret' };

describe('listener variables', () => {
  it('reads the ports, the PROXY peers and MAILMAX', () => {
    const config = load({
      ...USERS,
      SMTP_TLS_PORT: '465',
      SMTP_SUBMISSION_PORT: '587',
      SMTP_PROXY_FROM: '10.0.0.7/8, 2001:DB8::/32',
      SMTP_MAX_MESSAGES_PER_CONNECTION: '5',
    });
    expect(config.tlsPort).toBe(465);
    expect(config.submissionPort).toBe(587);
    expect(config.proxyFrom).toEqual([
      { address: '10.0.0.0', prefix: 8, family: 4 },
      { address: '2001:db8::', prefix: 32, family: 6 },
    ]);
    expect(config.maxMessagesPerConnection).toBe(5);
    expect(describeConfig(config)).toMatchObject({
      SMTP_TLS_PORT: '465',
      SMTP_SUBMISSION_PORT: '587',
      SMTP_PROXY_FROM: '10.0.0.0/8,2001:db8::/32',
      SMTP_MAX_MESSAGES_PER_CONNECTION: '5',
    });
  });

  it('lets several listeners pick free ports (0) at once', () => {
    const config = load({ ...USERS, SMTP_PORT: '0', SMTP_TLS_PORT: '0', SMTP_SUBMISSION_PORT: '0' });
    expect([config.smtpPort, config.tlsPort, config.submissionPort]).toEqual([0, 0, 0]);
  });

  it('leaves the extra listeners off when unset', () => {
    expect(describeConfig(load({}))).toMatchObject({
      SMTP_TLS_PORT: '',
      SMTP_SUBMISSION_PORT: '',
      SMTP_PROXY_FROM: '',
    });
  });

  // variable named, environment, a fragment of what is expected
  it.each<[string, Record<string, string>, string]>([
    ['SMTP_TLS_PORT', { SMTP_TLS_PORT: 'smtps' }, 'an integer port 0-65535'],
    ['SMTP_TLS_PORT', { SMTP_TLS_PORT: '2525' }, 'a port other than SMTP_PORT (2525)'],
    ['SMTP_TLS_PORT', { SMTP_TLS_PORT: '465', SMTP_TLS_DISABLE: 'true' }, 'unset while SMTP_TLS_DISABLE is true'],
    ['SMTP_SUBMISSION_PORT', { ...USERS, SMTP_SUBMISSION_PORT: '70000' }, 'an integer port 0-65535'],
    ['SMTP_SUBMISSION_PORT', { ...USERS, SMTP_SUBMISSION_PORT: '2525' }, 'a port other than SMTP_PORT (2525)'],
    [
      'SMTP_SUBMISSION_PORT',
      { ...USERS, SMTP_TLS_PORT: '465', SMTP_SUBMISSION_PORT: '465' },
      'a port other than SMTP_TLS_PORT (465)',
    ],
    ['SMTP_SUBMISSION_PORT', { SMTP_SUBMISSION_PORT: '587' }, 'unless SMTP_AUTH_USERS is set'],
    [
      'SMTP_SUBMISSION_PORT',
      { ...USERS, SMTP_SUBMISSION_PORT: '587', SMTP_TLS_DISABLE: 'true' },
      'unless SMTP_AUTH_INSECURE is true',
    ],
    ['SMTP_PROXY_FROM', { SMTP_PROXY_FROM: '10.0.0.0/33' }, 'has a prefix outside /0-32'],
    ['SMTP_PROXY_FROM', { SMTP_PROXY_FROM: 'lb.example.com' }, 'is not an IP address or CIDR'],
    ['SMTP_MAX_MESSAGES_PER_CONNECTION', { SMTP_MAX_MESSAGES_PER_CONNECTION: '0' }, 'an integer 1-1000000'],
  ])('%s: %j', (variable, env, expected) => {
    const problem = soleProblem(env);
    expect(problem.variable).toBe(variable);
    expect(problem.expected).toContain(expected);
  });

  it('accepts submission without TLS when insecure AUTH is allowed', () => {
    const env = { ...USERS, SMTP_SUBMISSION_PORT: '587', SMTP_TLS_DISABLE: 'true', SMTP_AUTH_INSECURE: 'true' };
    expect(load(env).submissionPort).toBe(587);
  });
});
