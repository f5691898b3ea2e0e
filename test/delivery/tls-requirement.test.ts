/** The pure parts of outbound TLS policy: which requirement applies, MX patterns, and what an error stands for. */
import { describe, expect, it } from 'vitest';
import { SmtpClientError } from '../../src/delivery/smtp/errors.js';
import { decisionOfSession, tlsFailureOf } from '../../src/delivery/tls/decision.js';
import { createTlsPlanner } from '../../src/delivery/tls/planner.js';
import { levelFor, matchesMx, requirementFor } from '../../src/delivery/tls/requirement.js';
import type { TlsLevel } from '../../src/config/types.js';

const table = new Map<string, TlsLevel>([
  ['example.com', 'verify'],
  ['.example.com', 'encrypt'],
  ['partner.test', 'may'],
]);

describe('levelFor', () => {
  it.each<[string, TlsLevel | undefined]>([
    ['example.com', 'verify'],
    ['EXAMPLE.com.', 'verify'],
    ['mail.example.com', 'encrypt'],
    ['a.b.example.com', 'encrypt'],
    ['notexample.com', undefined],
    ['partner.test', 'may'],
    ['sub.partner.test', undefined],
    ['other.test', undefined],
  ])('%s → %s', (domain, level) => {
    expect(levelFor(domain, table)).toBe(level);
  });
});

describe('requirementFor', () => {
  const enforce = { mode: 'enforce', mx: ['mx.example.com'], maxAge: 600 } as const;
  const testing = { mode: 'testing', mx: ['*.sts.test'], maxAge: 600 } as const;

  it('takes SMTP_TLS_POLICY over MTA-STS', () => {
    expect(requirementFor('partner.test', table, enforce)).toEqual({
      policy: 'may',
      domain: 'partner.test',
      source: 'SMTP_TLS_POLICY',
      requireTls: false,
      verify: undefined,
    });
  });

  it.each([
    ['encrypt: STARTTLS required, any certificate', 'mail.example.com', { requireTls: true, verify: false }],
    ['verify: STARTTLS required, certificate checked', 'example.com', { requireTls: true, verify: true }],
  ])('%s', (_name, domain, flags) => {
    expect(requirementFor(domain, table, undefined)).toMatchObject({ source: 'SMTP_TLS_POLICY', ...flags });
  });

  it('enforce requires a verified certificate from a listed MX; testing requires nothing', () => {
    expect(requirementFor('sts.test', table, enforce)).toEqual({
      policy: 'mta-sts-enforce',
      domain: 'sts.test',
      source: 'MTA-STS',
      requireTls: true,
      verify: true,
      mx: ['mx.example.com'],
    });
    expect(requirementFor('sts.test', table, testing)).toMatchObject({
      policy: 'mta-sts-testing',
      requireTls: false,
      verify: undefined,
      mx: ['*.sts.test'],
    });
  });

  it('is opportunistic without either (mode none included)', () => {
    const none = { mode: 'none', mx: [], maxAge: 600 } as const;
    for (const sts of [undefined, none]) {
      expect(requirementFor('other.test', table, sts)).toMatchObject({ policy: 'may', source: 'default' });
    }
  });
});

describe('matchesMx (RFC 8461 §4.1)', () => {
  it.each<[string, string, boolean]>([
    ['mx.example.com', 'mx.example.com', true],
    ['MX.Example.COM.', 'mx.example.com', true],
    ['mail.example.com', '*.example.com', true],
    ['a.b.example.com', '*.example.com', false],
    ['example.com', '*.example.com', false],
    ['mx.example.com', 'mx2.example.com', false],
    ['mx.example.com.evil.test', '*.example.com', false],
  ])('%s against %s: %s', (host, pattern, expected) => {
    expect(matchesMx(host, pattern)).toBe(expected);
  });
});

describe('tlsFailureOf', () => {
  it.each<[string, unknown, string | undefined]>([
    [
      'STARTTLS required, not offered',
      new SmtpClientError('ETLS', 'the server does not offer STARTTLS, which this connection requires', 'STARTTLS'),
      'starttls-missing',
    ],
    [
      'STARTTLS refused',
      new SmtpClientError('EREPLY', 'STARTTLS refused: 454 4.7.0 no', 'STARTTLS', { code: 454, lines: ['4.7.0 no'] }),
      'starttls-failed',
    ],
    [
      'an expired certificate',
      new SmtpClientError('ETLS', 'certificate has expired', 'STARTTLS', undefined, {
        cause: Object.assign(new Error('certificate has expired'), { code: 'CERT_HAS_EXPIRED' }),
      }),
      'certificate-invalid',
    ],
    [
      'a handshake failure',
      new SmtpClientError('ETLS', 'wrong version number', 'STARTTLS', undefined, {
        cause: Object.assign(new Error('wrong version number'), { code: 'ERR_SSL_WRONG_VERSION_NUMBER' }),
      }),
      'starttls-failed',
    ],
    ['a refused connection', new SmtpClientError('ECONNECTION', 'connect ECONNREFUSED', 'CONN'), undefined],
    ['a timeout', new SmtpClientError('ETIMEDOUT', 'took too long', 'STARTTLS'), undefined],
    ['not an error', 'text', undefined],
  ])('%s', (_name, error, result) => {
    expect(tlsFailureOf(error)?.result).toBe(result);
  });

  it("keeps the TLS error's code as the reason", () => {
    const error = new SmtpClientError('ETLS', 'wrong version number', 'STARTTLS', undefined, {
      cause: Object.assign(new Error('certificate has expired'), { code: 'CERT_HAS_EXPIRED' }),
    });
    expect(tlsFailureOf(error)).toEqual({
      result: 'certificate-invalid',
      detail: 'wrong version number',
      reason: 'CERT_HAS_EXPIRED',
    });
  });
});

describe('decisionOfSession', () => {
  const host = { label: 'mx.sts.test[127.0.0.1]:25', name: 'mx.sts.test' };
  const may = requirementFor('d.test', new Map(), undefined);

  it.each([
    ['in clear', undefined, 'cleartext', undefined, undefined],
    ['verified', { protocol: 'TLSv1.3', authorized: true }, 'verified', 'TLSv1.3', undefined],
    [
      'not verified',
      { protocol: 'TLSv1.3', authorized: false, authorizationError: 'CERT_HAS_EXPIRED' },
      'encrypted',
      'TLSv1.3, CERT_HAS_EXPIRED',
      'CERT_HAS_EXPIRED',
    ],
  ])('%s', (_name, tls, result, detail, reason) => {
    expect(decisionOfSession(may, host, tls)).toEqual({
      policy: 'may',
      result,
      refused: false,
      host: host.label,
      ...(detail ? { detail } : {}),
      ...(reason ? { reason } : {}),
    });
  });

  it('reports an unlisted MX under MTA-STS testing first', () => {
    const testing = requirementFor('sts.test', new Map(), { mode: 'testing', mx: ['other.test'], maxAge: 1 });
    expect(decisionOfSession(testing, host, { protocol: 'TLSv1.3', authorized: true })).toMatchObject({
      result: 'mx-mismatch',
      refused: false,
    });
  });
});

describe('createTlsPlanner', () => {
  const enforce = { mode: 'enforce', mx: ['mx.sts.test'], maxAge: 600 } as const;

  it('asks the MTA-STS source only for domain names without an SMTP_TLS_POLICY entry', async () => {
    const asked: string[] = [];
    const planner = createTlsPlanner(table, {
      policyFor: (domain) => {
        asked.push(domain);
        return Promise.resolve(enforce);
      },
    });
    expect((await planner.requirement('sts.test')).policy).toBe('mta-sts-enforce');
    expect((await planner.requirement('example.com')).policy).toBe('verify');
    expect((await planner.requirement('[192.0.2.1]')).policy).toBe('may');
    expect(asked).toEqual(['sts.test']);
  });

  it('is opportunistic when the source fails', async () => {
    const planner = createTlsPlanner(new Map(), { policyFor: () => Promise.reject(new Error('broken')) });
    expect(await planner.requirement('sts.test')).toMatchObject({ policy: 'may', source: 'default' });
  });
});
