/** MTA-STS look-up failures as TLS-RPT result types (RFC 8460 §4.3.2.2). */
import { describe, expect, it } from 'vitest';
import { createStsFailures, stsFailureType } from '../../src/tlsrpt/sts-failures.js';

const policy = { mode: 'enforce', mx: ['mx.example.com'], maxAge: 86_400 } as const;

describe('stsFailureType', () => {
  it.each([
    ['the policy of example.com is invalid: mode is not enforce, testing or none (x)', 'sts-policy-invalid'],
    ['_mta-sts.example.com TXT: 2 v=STSv1 TXT records; exactly one is allowed', 'sts-policy-invalid'],
    ['_mta-sts.example.com TXT: Error: queryTxt ESERVFAIL _mta-sts.example.com', 'sts-policy-fetch-error'],
    ['https://mta-sts.example.com/.well-known/mta-sts.txt answered HTTP 404', 'sts-policy-fetch-error'],
    ['fetching the policy from mta-sts.example.com took longer than 10000 ms', 'sts-policy-fetch-error'],
    ['fetching the policy from mta-sts.example.com failed: certificate has expired', 'sts-webpki-invalid'],
    [
      "fetching the policy from mta-sts.example.com failed: Hostname/IP does not match certificate's altnames",
      'sts-webpki-invalid',
    ],
  ])('%s', (why, type) => {
    expect(stsFailureType(why)).toBe(type);
  });
});

describe('createStsFailures', () => {
  it('remembers a failure that left no policy, for a while, until a fetch succeeds', () => {
    let now = 0;
    const failures = createStsFailures({ clock: () => now, ttlMs: 1000 });
    failures.note({ kind: 'failed', domain: 'a.test', why: 'answered HTTP 404' });
    failures.note({ kind: 'failed', domain: 'kept.test', why: 'answered HTTP 404', kept: policy });
    expect(failures.failureOf('a.test')).toBe('sts-policy-fetch-error');
    expect(failures.failureOf('kept.test')).toBeUndefined();
    failures.note({ kind: 'fetched', domain: 'a.test', id: '1', policy });
    expect(failures.failureOf('a.test')).toBeUndefined();
    failures.note({ kind: 'failed', domain: 'a.test', why: 'answered HTTP 404' });
    now = 1001;
    expect(failures.failureOf('a.test')).toBeUndefined();
  });

  it('holds at most `max` domains, forgetting the oldest', () => {
    const failures = createStsFailures({ clock: () => 0, max: 2 });
    for (const domain of ['a.test', 'b.test', 'c.test']) failures.note({ kind: 'failed', domain, why: 'x' });
    expect(['a.test', 'b.test', 'c.test'].map((d) => failures.failureOf(d))).toEqual([
      undefined,
      'sts-policy-fetch-error',
      'sts-policy-fetch-error',
    ]);
  });
});
