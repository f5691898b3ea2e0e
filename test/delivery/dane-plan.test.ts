/**
 * The DANE decision table (SPEC §5, RFC 7672 §2.2), pure: per MX host under
 * `dane`, how it is dialled (TLS required and TLSA authentication, TLS
 * required only, or `may`) and how its decision is reported; hosts whose
 * TLSA look-up failed are not tried; the planner looks DANE up only for
 * `dane` entries.
 */
import { firstValueFrom, of } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { TlsLevel } from '../../src/config/types.js';
import type { DaneHost, DaneState } from '../../src/delivery/tls/dane-lookup.js';
import { daneHosts, danePlan } from '../../src/delivery/tls/dane-plan.js';
import { TlsGuard } from '../../src/delivery/tls/guard.js';
import { createTlsPlanner } from '../../src/delivery/tls/planner.js';
import { requirementFor, type TlsRequirement } from '../../src/delivery/tls/requirement.js';
import type { DialTarget } from '../../src/delivery/attempt.js';
import type { Destination } from '../../src/delivery/mx.js';
import type { TlsDecision } from '../../src/domain/tls.js';

const EE = { usage: 3, selector: 1, mtype: 1, data: Buffer.alloc(32, 1) };
const HOSTS: Readonly<Record<string, DaneHost>> = {
  'tlsa.example.test': { kind: 'tlsa', base: '_25._tcp.tlsa.example.test', records: [EE] },
  'unusable.example.test': { kind: 'unusable', base: '_25._tcp.unusable.example.test' },
  'insecure.example.test': { kind: 'insecure', why: 'no TLSA records at _25._tcp.insecure.example.test' },
  'failed.example.test': { kind: 'failed', why: 'TLSA look-up of _25._tcp.failed.example.test failed: SERVFAIL' },
};
const table = new Map<string, TlsLevel>([['example.test', 'dane']]);
const state: DaneState = { hosts: new Map(Object.entries(HOSTS)) };
const req: TlsRequirement = { ...requirementFor('example.test', table, undefined), dane: state };

const decision = (result: TlsDecision['result'], detail?: string): TlsDecision => ({
  policy: 'dane',
  result,
  refused: false,
  host: 'h[127.0.0.2]:25',
  ...(detail === undefined ? {} : { detail }),
});

describe('danePlan', () => {
  it('DANE host with usable records: TLS required, no CA check, authenticated by the records', () => {
    const plan = danePlan(req, 'TLSA.example.test.');
    expect(plan.requirement).toMatchObject({ policy: 'dane', requireTls: true, verify: false });
    expect(plan.tlsa).toEqual({
      base: '_25._tcp.tlsa.example.test',
      records: [EE],
      names: ['tlsa.example.test', 'example.test'],
    });
    const records = [`${EE.usage} ${EE.selector} ${EE.mtype} ${EE.data.toString('hex')}`];
    expect(plan.report(decision('encrypted', 'TLSv1.3, CERT_HAS_EXPIRED'))).toEqual({
      ...decision('dane-verified', 'TLSv1.3, by the TLSA records at _25._tcp.tlsa.example.test'),
      tlsa: records,
    });
    expect(plan.report(decision('certificate-invalid', 'DANE: no match')).result).toBe('dane-failed');
    expect(plan.report(decision('verified', 'TLSv1.2'))).toMatchObject({
      result: 'dane-verified',
      detail: 'TLSv1.2, by the TLSA records at _25._tcp.tlsa.example.test',
    });
    expect(plan.report(decision('starttls-missing')).result).toBe('starttls-missing');
  });

  it('validated but unusable records: TLS required, not authenticated', () => {
    const plan = danePlan(req, 'unusable.example.test');
    expect(plan.requirement).toMatchObject({ requireTls: true, verify: false });
    expect(plan.tlsa).toBeUndefined();
    expect(plan.report(decision('encrypted', 'TLSv1.3')).detail).toBe(
      'TLSv1.3; no usable TLSA record at _25._tcp.unusable.example.test',
    );
  });

  it.each([
    ['insecure.example.test', 'no DANE: no TLSA records at _25._tcp.insecure.example.test'],
    ['unknown.example.test', 'no DANE: unknown.example.test is not a DNSSEC-validated MX host of example.test'],
  ])('no validated TLSA (%s): as may, saying why', (name, why) => {
    const plan = danePlan(req, name);
    expect(plan.requirement).toMatchObject({ requireTls: false, verify: undefined });
    expect(plan.tlsa).toBeUndefined();
    expect(plan.report(decision('cleartext'))).toEqual(decision('cleartext', why));
  });

  it('an MX answer without AD: every host as may, with the reason', () => {
    const unsigned = { ...req, dane: { hosts: new Map(), why: 'the MX records are not DNSSEC-validated' } };
    expect(danePlan(unsigned, 'tlsa.example.test').report(decision('encrypted', 'TLSv1.3')).detail).toBe(
      'TLSv1.3; no DANE: the MX records are not DNSSEC-validated',
    );
  });

  it('other policies are left as they are', () => {
    const verify = requirementFor('other.test', new Map([['other.test', 'verify']]), undefined);
    const plan = danePlan(verify, 'tlsa.example.test');
    expect(plan.requirement).toBe(verify);
    expect(plan.tlsa).toBeUndefined();
    expect(plan.report(decision('verified'))).toEqual(decision('verified'));
  });
});

describe('daneHosts', () => {
  const hostsOf = (...names: string[]): Destination => ({
    kind: 'hosts',
    domain: 'example.test',
    implicit: false,
    hosts: names.map((name, i) => ({ name, priority: i, addresses: ['127.0.0.2'] })),
  });

  it('skips a host whose TLSA look-up failed, reporting it refused', () => {
    const decided: TlsDecision[] = [];
    const out = daneHosts(req, hostsOf('failed.example.test', 'tlsa.example.test'), (d) => decided.push(d));
    expect(out.kind === 'hosts' ? out.hosts.map((h) => h.name) : out).toEqual(['tlsa.example.test']);
    expect(decided).toEqual([
      {
        policy: 'dane',
        result: 'dane-failed',
        refused: true,
        host: 'failed.example.test',
        detail: 'TLSA look-up of _25._tcp.failed.example.test failed: SERVFAIL',
      },
    ]);
  });

  it('defers with 4.4.3 when the MX look-up through the validating resolver failed', () => {
    const decided: TlsDecision[] = [];
    const failed = { ...req, dane: { hosts: new Map(), why: 'MX: SERVFAIL', failed: 'MX: SERVFAIL' } };
    expect(daneHosts(failed, hostsOf('tlsa.example.test'), (d) => decided.push(d))).toEqual({
      kind: 'deferred',
      domain: 'example.test',
      response: '4.4.3 TLS required for example.test by SMTP_TLS_POLICY (dane): MX: SERVFAIL',
    });
    expect(decided.map((d) => [d.result, d.refused])).toEqual([['dane-failed', true]]);
  });

  it('leaves a destination that is not a list of hosts as it is', () => {
    const deferred: Destination = { kind: 'deferred', domain: 'example.test', response: '4.4.3 no MX answer' };
    expect(daneHosts(req, deferred, () => undefined)).toBe(deferred);
  });

  it('a dane entry whose DANE was not looked up: every host as may, saying so', () => {
    const bare: TlsRequirement = requirementFor('example.test', table, undefined);
    const plan = danePlan(bare, 'mx.example.test');
    expect(plan.requirement).toBe(bare);
    expect(plan.report(decision('cleartext')).detail).toBe(
      'no DANE: mx.example.test is not a DNSSEC-validated MX host of example.test',
    );
    expect(daneHosts(bare, hostsOf('mx.example.test'), () => undefined)).toEqual(hostsOf('mx.example.test'));
  });

  it('the guard under dane drops the failed hosts too, and reports decisions made outside a try', () => {
    const decided: TlsDecision[] = [];
    const guard = new TlsGuard(req, (d) => decided.push(d));
    const out = guard.hosts(hostsOf('failed.example.test', 'tlsa.example.test'));
    expect(out.kind === 'hosts' ? out.hosts.map((h) => h.name) : out).toEqual(['tlsa.example.test']);
    expect(decided.map((d) => d.host)).toEqual(['failed.example.test']);
    const outside = decision('requiretls-unmet', 'no REQUIRETLS');
    guard.report(outside);
    expect(decided.at(-1)).toBe(outside);
    expect(guard.last).toBe(outside);
  });

  it('the guard dials a DANE host with TLS required, no CA check of its own, and the TLSA records of the host', async () => {
    const guard = new TlsGuard(req, () => undefined);
    const dialled: DialTarget[] = [];
    const target: DialTarget = {
      host: '127.0.0.2',
      port: 25,
      servername: 'tlsa.example.test',
      label: 'h[127.0.0.2]:25',
    };
    await firstValueFrom(
      guard.send(target, (t) => {
        dialled.push(t);
        return of({ recipients: [], reused: false });
      }),
    );
    expect(dialled).toEqual([
      {
        ...target,
        requireTls: true,
        tlsVerify: false,
        tlsa: { base: '_25._tcp.tlsa.example.test', records: [EE], names: ['tlsa.example.test', 'example.test'] },
      },
    ]);
  });

  it('defers with 4.7.5 when no host is left, naming each one', () => {
    const two: TlsRequirement = {
      ...req,
      dane: {
        hosts: new Map([
          ...state.hosts,
          ['failed2.example.test', { kind: 'failed', why: 'TLSA look-up of b failed: SERVFAIL' }],
        ]),
      },
    };
    expect(daneHosts(two, hostsOf('failed.example.test', 'failed2.example.test'), () => undefined)).toMatchObject({
      response:
        '4.7.5 TLS required for example.test by SMTP_TLS_POLICY (dane): ' +
        'TLSA look-up of _25._tcp.failed.example.test failed: SERVFAIL; TLSA look-up of b failed: SERVFAIL',
    });
  });

  it('defers with 4.7.5 when no host is left', () => {
    expect(daneHosts(req, hostsOf('failed.example.test'), () => undefined)).toEqual({
      kind: 'deferred',
      domain: 'example.test',
      response:
        '4.7.5 TLS required for example.test by SMTP_TLS_POLICY (dane): ' +
        'TLSA look-up of _25._tcp.failed.example.test failed: SERVFAIL',
    });
  });
});

describe('createTlsPlanner with DANE', () => {
  it('looks DANE up for dane entries only, never for address literals', async () => {
    const asked: string[] = [];
    const planner = createTlsPlanner(
      new Map<string, TlsLevel>([
        ['example.test', 'dane'],
        ['verify.test', 'verify'],
      ]),
      undefined,
      (domain) => {
        asked.push(domain);
        return Promise.resolve(state);
      },
    );
    expect(await planner.requirement('example.test')).toMatchObject({ policy: 'dane', dane: state });
    expect((await planner.requirement('verify.test')).dane).toBeUndefined();
    expect((await planner.requirement('other.test')).policy).toBe('may');
    expect(asked).toEqual(['example.test']);
  });
});
