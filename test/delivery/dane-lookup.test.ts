/**
 * DANE look-ups against a real local DNS server (SPEC §5, RFC 7672 §2.2):
 * TLSA is only looked for when the MX answer and the host's addresses carry
 * the AD bit; validated usable records, validated unusable ones, records
 * without AD, none at all and a failed TLSA look-up are each told apart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lookupDane } from '../../src/delivery/tls/dane-lookup.js';
import { createSecureDns, type SecureDns } from '../../src/dns/secure-query.js';
import { startDnsServer, type RunningDnsServer } from '../helpers/dns-server.js';

const EE = { usage: 3, selector: 1, mtype: 1, data: 'ab'.repeat(32) };
const PKIX = { usage: 1, selector: 1, mtype: 1, data: 'cd'.repeat(32) };
let server: RunningDnsServer;
let dns: SecureDns;

beforeAll(async () => {
  server = await startDnsServer({
    'signed.test': {
      MX: ['tlsa', 'unusable', 'unsigned-tlsa', 'none', 'bogus', 'unsigned-host'].map((name, i) => ({
        exchange: `${name}.signed.test`,
        priority: i,
      })),
      ad: true,
    },
    'tlsa.signed.test': { A: ['127.0.0.2'], ad: true },
    '_2525._tcp.tlsa.signed.test': { TLSA: [EE, PKIX], ad: true },
    'unusable.signed.test': { A: ['127.0.0.2'], ad: true },
    '_2525._tcp.unusable.signed.test': { TLSA: [PKIX], ad: true },
    'unsigned-tlsa.signed.test': { A: ['127.0.0.2'], ad: true },
    '_2525._tcp.unsigned-tlsa.signed.test': { TLSA: [EE] },
    'none.signed.test': { A: ['127.0.0.2'], ad: true },
    'bogus.signed.test': { A: ['127.0.0.2'], ad: true },
    '_2525._tcp.bogus.signed.test': { servfail: true },
    'unsigned-host.signed.test': { A: ['127.0.0.2'] },
    '_2525._tcp.unsigned-host.signed.test': { TLSA: [EE], ad: true },
    'unsigned.test': { MX: [{ exchange: 'tlsa.signed.test', priority: 10 }] },
    'implicit.test': { A: ['127.0.0.2'], ad: true },
    '_2525._tcp.implicit.test': { TLSA: [EE], ad: true },
    'bogus-mx.test': { servfail: true },
  });
  dns = createSecureDns([{ host: server.address, port: server.port }], { timeoutMs: 300, tries: 1 });
});

afterAll(async () => {
  await server.close();
});

describe('lookupDane', () => {
  it('tells each MX host of a validated MX answer apart', async () => {
    const state = await lookupDane('signed.test', 2525, dns);
    expect(state.why).toBeUndefined();
    expect(Object.fromEntries(state.hosts)).toEqual({
      'tlsa.signed.test': {
        kind: 'tlsa',
        base: '_2525._tcp.tlsa.signed.test',
        records: [{ usage: 3, selector: 1, mtype: 1, data: Buffer.from(EE.data, 'hex') }],
      },
      'unusable.signed.test': { kind: 'unusable', base: '_2525._tcp.unusable.signed.test' },
      'unsigned-tlsa.signed.test': {
        kind: 'insecure',
        why: 'the TLSA records of _2525._tcp.unsigned-tlsa.signed.test are not DNSSEC-validated',
      },
      'none.signed.test': { kind: 'insecure', why: 'no TLSA records at _2525._tcp.none.signed.test' },
      'bogus.signed.test': {
        kind: 'failed',
        why: 'TLSA look-up of _2525._tcp.bogus.signed.test failed: _2525._tcp.bogus.signed.test TLSA: SERVFAIL',
      },
      'unsigned-host.signed.test': {
        kind: 'insecure',
        why: 'the addresses of unsigned-host.signed.test are not DNSSEC-validated',
      },
    });
  });

  it('looks for no TLSA when the MX answer is not validated', async () => {
    const before = server.queries.length;
    const state = await lookupDane('unsigned.test', 2525, dns);
    expect(state).toEqual({ hosts: new Map(), why: 'the MX records of unsigned.test are not DNSSEC-validated' });
    expect(server.queries.slice(before)).toEqual(['unsigned.test MX']);
  });

  it('takes the domain itself as the host when it has no MX records (implicit MX)', async () => {
    const state = await lookupDane('implicit.test', 2525, dns);
    expect(state.hosts.get('implicit.test')?.kind).toBe('tlsa');
  });

  it('fails the destination when the MX look-up fails (it waits rather than going without DANE)', async () => {
    const why = 'the MX look-up of bogus-mx.test failed: bogus-mx.test MX: SERVFAIL';
    expect(await lookupDane('bogus-mx.test', 2525, dns)).toEqual({ hosts: new Map(), why, failed: why });
  });

  it('says why when the domain does not exist', async () => {
    expect((await lookupDane('nowhere.test', 25, dns)).why).toBe(
      'the MX records of nowhere.test are not DNSSEC-validated',
    );
  });
});
