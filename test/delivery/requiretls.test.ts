/**
 * The pure parts of REQUIRETLS (RFC 8689): the MAIL FROM parameter inbound,
 * what counts as an authenticated next hop, the plan of an attempt, the
 * session's last check before MAIL FROM, and the TLS-Required header.
 */
import { describe, expect, it } from 'vitest';
import { requireTlsParams } from '../../src/delivery/smtp/requiretls.js';
import type { TlsInfo } from '../../src/delivery/smtp/wire.js';
import { requirementFor } from '../../src/delivery/tls/requirement.js';
import {
  authenticatedForRequireTls,
  requireTlsCheck,
  requireTlsRelay,
  unauthenticatedDestination,
} from '../../src/delivery/tls/requiretls.js';
import { tlsRequiredNo } from '../../src/mail/tls-required.js';
import { checkRequireTls } from '../../src/policy/requiretls-param.js';
import { requireTlsPlan } from '../../src/queue/requiretls-plan.js';

const none = new Map();
const enforce = requirementFor('a.test', none, { mode: 'enforce', mx: ['mx.a.test'], maxAge: 86_400 });
const testing = requirementFor('a.test', none, { mode: 'testing', mx: ['mx.a.test'], maxAge: 86_400 });
const verified: TlsInfo = { protocol: 'TLSv1.3', authorized: true };
const unverified: TlsInfo = { protocol: 'TLSv1.3', authorized: false, authorizationError: 'CERT_HAS_EXPIRED' };
const target = { host: '192.0.2.1', port: 25, label: 'mx.a.test[192.0.2.1]:25', servername: 'mx.a.test' };

describe('REQUIRETLS (RFC 8689)', () => {
  it('takes the bare keyword only in a TLS session', () => {
    expect(checkRequireTls(undefined, false)).toEqual({ kind: 'accept', value: false });
    expect(checkRequireTls({ REQUIRETLS: true }, true)).toEqual({ kind: 'accept', value: true });
    expect(checkRequireTls({ REQUIRETLS: true }, false)).toMatchObject({ code: 530, enhanced: '5.7.10' });
    expect(checkRequireTls({ REQUIRETLS: 'yes' }, true)).toMatchObject({ code: 501, enhanced: '5.5.4' });
  });

  it('counts only a verified host under an MTA-STS enforce policy as authenticated', () => {
    const decision = { policy: 'mta-sts-enforce', result: 'verified', refused: false, host: 'mx' } as const;
    expect(authenticatedForRequireTls(decision)).toBe(true);
    expect(authenticatedForRequireTls({ ...decision, result: 'encrypted' })).toBe(false);
    expect(authenticatedForRequireTls({ ...decision, policy: 'verify' })).toBe(false);
    expect(authenticatedForRequireTls({ ...decision, policy: 'mta-sts-testing' })).toBe(false);
    expect(authenticatedForRequireTls({ ...decision, refused: true })).toBe(false);
    expect(requireTlsCheck(enforce, target)(verified)).toBe(true);
    expect(requireTlsCheck(enforce, target)(unverified)).toBe(false);
    expect(requireTlsCheck(enforce, { ...target, servername: 'mx.b.test' })(verified)).toBe(false);
    expect(requireTlsCheck(testing, target)(verified)).toBe(false);
    // DANE: the session was authenticated by TLSA records when it was dialled with them
    const dane = requirementFor('a.test', new Map([['a.test', 'dane']]), undefined);
    const tlsa = { base: '_25._tcp.mx.a.test', records: [], names: ['mx.a.test'] };
    expect(requireTlsCheck(dane, { ...target, tlsa })(unverified)).toBe(true);
    expect(requireTlsCheck(dane, target)(unverified)).toBe(false);
    expect(requireTlsCheck(dane, { ...target, tlsa })(undefined)).toBe(false);
    // relay: the configured host, certificate verified
    expect(requireTlsCheck(undefined, target)(verified)).toBe(true);
    expect(requireTlsCheck(undefined, target)(unverified)).toBe(false);
  });

  it('says which policy could not authenticate the hosts', () => {
    expect(unauthenticatedDestination(requirementFor('a.test', none, undefined))).toBe(
      '4.7.10 REQUIRETLS: the MX hosts of a.test cannot be authenticated ' +
        '(no MTA-STS policy; an MTA-STS policy in enforce mode or DANE is needed)',
    );
    expect(unauthenticatedDestination(requirementFor('a.test', new Map([['a.test', 'verify']]), undefined))).toBe(
      '4.7.10 REQUIRETLS: the MX hosts of a.test cannot be authenticated ' +
        '(SMTP_TLS_POLICY (verify); an MTA-STS policy in enforce mode or DANE is needed)',
    );
  });

  it('plans an attempt: nothing without the flag or with <>, a deferral without an authenticating policy', () => {
    const flagged = { sender: 'a@b.test', requireTls: true } as const;
    expect(requireTlsPlan({ sender: 'a@b.test' }, enforce, undefined)).toEqual({ kind: 'none' });
    expect(requireTlsPlan({ sender: '', requireTls: true }, enforce, undefined)).toEqual({ kind: 'none' });
    expect(requireTlsPlan(flagged, enforce, undefined)).toEqual({ kind: 'required' });
    expect(requireTlsPlan(flagged, testing, undefined)).toMatchObject({
      kind: 'refused',
      outcome: { kind: 'deferred', response: expect.stringMatching(/^4\.7\.10 REQUIRETLS: /) as unknown },
    });
    expect(
      requireTlsPlan(flagged, requirementFor('a.test', new Map([['a.test', 'verify']]), undefined), undefined),
    ).toMatchObject({ kind: 'refused' });
    const relay = { host: 'relay.test', port: 25 };
    expect(requireTlsPlan(flagged, undefined, relay)).toEqual({
      kind: 'required',
      relay: { ...relay, requireTls: true, tlsVerify: true },
    });
    expect(requireTlsRelay({ ...relay, secure: true })).toEqual({ ...relay, secure: true, tlsVerify: true });
  });

  it('adds REQUIRETLS to MAIL FROM only over authenticated TLS to a server that offers it', () => {
    const offers = new Map([['REQUIRETLS', '']]);
    const ok = (): boolean => true;
    expect(requireTlsParams(undefined, none, undefined)).toEqual([]);
    expect(requireTlsParams(ok, offers, verified)).toEqual(['REQUIRETLS']);
    expect(() => requireTlsParams(ok, offers, undefined)).toThrow(
      expect.objectContaining({
        code: 'ETLS',
        command: 'MAIL FROM',
        message: 'REQUIRETLS: the connection is not encrypted; nothing was sent',
      }),
    );
    expect(() => requireTlsParams(() => false, offers, verified)).toThrow(
      expect.objectContaining({
        code: 'ETLS',
        command: 'MAIL FROM',
        message: 'REQUIRETLS: the TLS of this connection does not authenticate the host; nothing was sent',
      }),
    );
    expect(() => requireTlsParams(ok, none, verified)).toThrow(
      expect.objectContaining({
        code: 'EREQUIRETLS',
        command: 'MAIL FROM',
        message: 'REQUIRETLS support required: the server does not offer REQUIRETLS (RFC 8689)',
      }),
    );
  });

  it('reads TLS-Required: No in any case, folded too, and nothing else', () => {
    expect(tlsRequiredNo(Buffer.from('Subject: x\r\nTLS-Required: No\r\n'))).toBe(true);
    expect(tlsRequiredNo(Buffer.from('tls-required:\r\n  no \r\nSubject: x\r\n'))).toBe(true);
    expect(tlsRequiredNo(Buffer.from('TLS-Required: Yes\r\n'))).toBe(false);
    expect(tlsRequiredNo(Buffer.from('X-TLS-Required: No\r\n'))).toBe(false);
    expect(tlsRequiredNo(Buffer.from('Subject: TLS-Required: No\r\n'))).toBe(false);
  });
});
