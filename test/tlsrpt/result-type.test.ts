/** TLS decisions as RFC 8460 §4.3 counts them (pure). */
import { describe, expect, it } from 'vitest';
import type { TlsDecision } from '../../src/domain/tls.js';
import { certificateResult, hostParts, outcomeOf, policyTypeOf } from '../../src/tlsrpt/result-type.js';

const host = 'mx.example.test[192.0.2.1]:25';

function decision(fields: Partial<TlsDecision>): TlsDecision {
  return { policy: 'mta-sts-enforce', result: 'verified', refused: false, host, ...fields };
}

describe('outcomeOf', () => {
  it.each<[string, Partial<TlsDecision>, string | undefined, string | undefined]>([
    ['verified', { result: 'verified' }, undefined, undefined],
    ['authenticated by DANE', { policy: 'dane', result: 'dane-verified' }, undefined, undefined],
    [
      'a certificate no TLSA record matched',
      { policy: 'dane', result: 'dane-failed', detail: 'the certificate matches no TLSA record of _25._tcp.mx' },
      'tlsa-invalid',
      undefined,
    ],
    [
      'a failed TLSA look-up',
      { policy: 'dane', result: 'dane-failed', detail: 'the TLSA look-up of _25._tcp.mx failed: SERVFAIL' },
      'dnssec-invalid',
      undefined,
    ],
    ['encrypted where no verification is asked', { policy: 'may', result: 'encrypted' }, undefined, undefined],
    ['encrypted under encrypt', { policy: 'encrypt', result: 'encrypted' }, undefined, undefined],
    [
      'encrypted, expired, under MTA-STS testing',
      { policy: 'mta-sts-testing', result: 'encrypted', reason: 'CERT_HAS_EXPIRED' },
      'certificate-expired',
      'CERT_HAS_EXPIRED',
    ],
    ['in clear', { policy: 'may', result: 'cleartext' }, 'starttls-not-supported', undefined],
    ['no STARTTLS where required', { result: 'starttls-missing' }, 'starttls-not-supported', undefined],
    [
      'a name mismatch',
      { result: 'certificate-invalid', reason: 'ERR_TLS_CERT_ALTNAME_INVALID' },
      'certificate-host-mismatch',
      'ERR_TLS_CERT_ALTNAME_INVALID',
    ],
    [
      'an unknown issuer',
      { result: 'certificate-invalid', reason: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' },
      'certificate-not-trusted',
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    ],
    [
      'a self-signed certificate',
      { result: 'certificate-invalid', reason: 'DEPTH_ZERO_SELF_SIGNED_CERT' },
      'certificate-not-trusted',
      'DEPTH_ZERO_SELF_SIGNED_CERT',
    ],
    [
      'a certificate failure known by its message only',
      { result: 'certificate-invalid', detail: 'certificate has expired' },
      'certificate-expired',
      undefined,
    ],
    [
      'a failed handshake',
      { result: 'starttls-failed', reason: 'ERR_SSL_WRONG_VERSION_NUMBER' },
      'validation-failure',
      'ERR_SSL_WRONG_VERSION_NUMBER',
    ],
    ['an MX host the policy does not list', { result: 'mx-mismatch' }, 'validation-failure', 'mx-mismatch'],
  ])('%s', (_name, fields, type, code) => {
    const outcome = outcomeOf(decision(fields));
    if (type === undefined) {
      expect(outcome).toEqual({ ok: true });
      return;
    }
    expect(outcome).toEqual({
      ok: false,
      failure: {
        resultType: type,
        receivingMx: 'mx.example.test',
        receivingIp: '192.0.2.1',
        ...(code === undefined ? {} : { reasonCode: code }),
      },
    });
  });

  it('names the MX host alone when the host was refused before it was dialled', () => {
    expect(outcomeOf(decision({ result: 'mx-mismatch', refused: true, host: 'mx.other.test' }))).toEqual({
      ok: false,
      failure: { resultType: 'validation-failure', receivingMx: 'mx.other.test', reasonCode: 'mx-mismatch' },
    });
  });
});

describe('hostParts', () => {
  it.each([
    ['mx.example.test[192.0.2.1]:25', { name: 'mx.example.test', ip: '192.0.2.1' }],
    ['[2001:db8::1]:25', { ip: '2001:db8::1' }],
    ['mx.example.test', { name: 'mx.example.test' }],
    ['', {}],
  ])('%s', (label, parts) => {
    expect(hostParts(label)).toEqual(parts);
  });
});

describe('certificateResult', () => {
  it('falls back to validation-failure for what it does not know', () => {
    expect(certificateResult('ERR_SOMETHING_ELSE', undefined)).toBe('validation-failure');
    expect(certificateResult(undefined, undefined)).toBe('validation-failure');
  });
});

describe('policyTypeOf', () => {
  it('reports MTA-STS policies as sts and everything else as no-policy-found', () => {
    expect(policyTypeOf('mta-sts-enforce')).toBe('sts');
    expect(policyTypeOf('mta-sts-testing')).toBe('sts');
    expect(policyTypeOf('may')).toBe('no-policy-found');
    expect(policyTypeOf('verify')).toBe('no-policy-found');
  });
});
