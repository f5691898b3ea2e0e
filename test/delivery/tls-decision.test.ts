/**
 * From what a host did to a TLS decision and, when the policy requires TLS,
 * the deferral that replaces the client's classification
 * (src/delivery/tls/decision.ts): every field and every reply text exactly,
 * since operators and TLS-RPT reports read them.
 */
import { describe, expect, it } from 'vitest';
import { SmtpClientError } from '../../src/delivery/smtp/errors.js';
import {
  decisionOfSession,
  failureDecision,
  mxRefusal,
  noMatchingMx,
  tlsFailureOf,
} from '../../src/delivery/tls/decision.js';
import { requirementFor } from '../../src/delivery/tls/requirement.js';

const host = { label: 'mx.d.test[192.0.2.1]:25', name: 'mx.d.test' };
const none = new Map();
const may = requirementFor('d.test', none, undefined);
const encrypt = requirementFor('d.test', new Map([['d.test', 'encrypt']]), undefined);
const enforce = requirementFor('d.test', none, { mode: 'enforce', mx: ['mx.d.test', '*.d.test'], maxAge: 600 });
const tlsError = (command: string, code?: string, message = 'handshake failed'): SmtpClientError =>
  new SmtpClientError('ETLS', message, command, undefined, {
    cause: Object.assign(new Error(message), code === undefined ? {} : { code }),
  });

describe('decisionOfSession', () => {
  it('says "not verified" and gives no reason when TLS names no error', () => {
    expect(decisionOfSession(may, host, { protocol: 'TLSv1.2', authorized: false })).toEqual({
      policy: 'may',
      result: 'encrypted',
      refused: false,
      host: host.label,
      detail: 'TLSv1.2, not verified',
    });
  });
});

describe('tlsFailureOf', () => {
  it('is nothing for what is not an error object', () => {
    for (const value of [undefined, null, 'ETLS', 42]) expect(tlsFailureOf(value)).toBeUndefined();
    expect(tlsFailureOf({ code: 'ECONNECTION', command: 'CONN' })).toBeUndefined();
    expect(tlsFailureOf(new SmtpClientError('EREPLY', 'MAIL FROM refused', 'MAIL FROM'))).toBeUndefined();
  });

  it('reads REQUIRETLS refusals before MAIL FROM, and only there', () => {
    expect(tlsFailureOf(new SmtpClientError('EREQUIRETLS', 'no REQUIRETLS', 'MAIL FROM'))).toEqual({
      result: 'requiretls-unmet',
      detail: 'no REQUIRETLS',
    });
    expect(tlsFailureOf(new SmtpClientError('ETLS', 'not authenticated', 'MAIL FROM'))).toEqual({
      result: 'requiretls-unmet',
      detail: 'not authenticated',
    });
    expect(tlsFailureOf(tlsError('CONN', 'ERR_SSL_WRONG_VERSION_NUMBER'))?.result).toBe('starttls-failed');
  });

  it('tells a refused STARTTLS, a missing one and a failed handshake apart', () => {
    const refused = new SmtpClientError('EREPLY', 'STARTTLS refused: 454 4.7.0 no', 'STARTTLS', {
      code: 454,
      lines: ['4.7.0 no'],
    });
    expect(tlsFailureOf(refused)).toEqual({ result: 'starttls-failed', detail: 'STARTTLS refused: 454 4.7.0 no' });
    expect(tlsFailureOf(new SmtpClientError('ETLS', 'not offered', 'STARTTLS'))).toEqual({
      result: 'starttls-missing',
      detail: 'not offered',
    });
    // an ETLS without a cause elsewhere than STARTTLS is a failed handshake (implicit TLS), with no reason
    expect(tlsFailureOf(new SmtpClientError('ETLS', 'socket hang up', 'CONN'))).toEqual({
      result: 'starttls-failed',
      detail: 'socket hang up',
    });
    expect(tlsFailureOf(tlsError('STARTTLS', 'CERT_HAS_EXPIRED', 'certificate has expired'))).toEqual({
      result: 'certificate-invalid',
      detail: 'certificate has expired',
      reason: 'CERT_HAS_EXPIRED',
    });
    expect(tlsFailureOf({ code: 'ETLS', command: 'STARTTLS', cause: { code: 7 } })).toEqual({
      result: 'starttls-failed',
      detail: '',
    });
  });
});

describe('MTA-STS MX texts', () => {
  it('names the host, the domain and the policy patterns', () => {
    expect(mxRefusal(enforce, 'other.test')).toEqual({
      policy: 'mta-sts-enforce',
      result: 'mx-mismatch',
      refused: true,
      host: 'other.test',
      detail: 'other.test is not an MX host of the MTA-STS policy of d.test (mx: mx.d.test, *.d.test)',
    });
    expect(noMatchingMx(enforce, ['a.test', 'b.test'])).toBe(
      '4.7.5 TLS required for d.test by its MTA-STS policy: no MX host of d.test (a.test, b.test) ' +
        'matches the policy (mx: mx.d.test, *.d.test)',
    );
    expect(noMatchingMx(encrypt, ['a.test'])).toBe(
      '4.7.5 TLS required for d.test by SMTP_TLS_POLICY (encrypt): no MX host of d.test (a.test) matches the policy (mx: )',
    );
    expect(decisionOfSession(enforce, { label: 'x', name: 'mx.other.test' }, undefined)).toMatchObject({
      result: 'mx-mismatch',
      detail: 'mx.other.test is not an MX host of the MTA-STS policy of d.test (mx: mx.d.test, *.d.test)',
    });
  });
});

describe('failureDecision', () => {
  it('under may: a decision that refuses nothing, no deferral, no reason when none was given', () => {
    expect(failureDecision(may, host, { result: 'starttls-failed', detail: 'x' })).toEqual({
      decision: { policy: 'may', result: 'starttls-failed', refused: false, host: host.label, detail: 'x' },
    });
  });

  it('under a policy that requires TLS: a 4.7.x deferral naming the policy, the detail after it', () => {
    expect(failureDecision(encrypt, host, { result: 'starttls-missing', detail: 'not offered' })).toEqual({
      decision: {
        policy: 'encrypt',
        result: 'starttls-missing',
        refused: true,
        host: host.label,
        detail: 'not offered',
      },
      classification: {
        kind: 'deferred',
        scope: 'host',
        response: '4.7.4 TLS required for d.test by SMTP_TLS_POLICY (encrypt): the server does not offer STARTTLS',
      },
    });
    expect(
      failureDecision(enforce, host, { result: 'certificate-invalid', detail: 'expired', reason: 'CERT_HAS_EXPIRED' }),
    ).toMatchObject({
      decision: { reason: 'CERT_HAS_EXPIRED', refused: true },
      classification: {
        response: '4.7.5 TLS required for d.test by its MTA-STS policy: the certificate did not verify: expired',
      },
    });
    expect(failureDecision(enforce, host, { result: 'starttls-failed', detail: 'bad' }).classification).toMatchObject({
      response: '4.7.5 TLS required for d.test by its MTA-STS policy: STARTTLS failed: bad',
    });
    expect(failureDecision(enforce, host, { result: 'dane-failed', detail: 'no match' }).classification).toMatchObject({
      response: '4.7.5 TLS required for d.test by its MTA-STS policy: no match',
    });
  });

  it('leaves a REQUIRETLS refusal its own reply', () => {
    expect(failureDecision(enforce, host, { result: 'requiretls-unmet', detail: 'x' })).toEqual({
      decision: { policy: 'mta-sts-enforce', result: 'requiretls-unmet', refused: true, host: host.label, detail: 'x' },
    });
  });
});
