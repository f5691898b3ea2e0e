/**
 * A target's label (logs, errors) and its connection-pool key
 * (src/delivery/target-key.ts): a parked session is reused only for the same
 * host, port, TLS mode, certificate check, credentials, SNI name and DANE
 * records, so a session opened under a weaker policy never carries mail
 * that asked for a stronger one.
 */
import { describe, expect, it } from 'vitest';
import { keyOf, targetLabel } from '../../src/delivery/target-key.js';

const base = { host: '192.0.2.1', port: 25 };
const tlsa = {
  base: '_25._tcp.mx.d.test',
  records: [{ usage: 3, selector: 1, mtype: 1, data: Buffer.alloc(32, 1) }],
  names: ['mx.d.test'],
};

describe('targetLabel', () => {
  it('names the host by its SNI name and address, or the address alone', () => {
    expect(targetLabel({ ...base, servername: 'mx.d.test' })).toBe('mx.d.test[192.0.2.1]:25');
    expect(targetLabel(base)).toBe('192.0.2.1:25');
    expect(targetLabel({ ...base, servername: '192.0.2.1' })).toBe('192.0.2.1:25');
    expect(targetLabel({ ...base, servername: '' })).toBe('192.0.2.1:25');
  });
});

describe('keyOf', () => {
  it('spells out every part that decides whether a session may be reused', () => {
    expect(keyOf(base)).toBe('smtp://@192.0.2.1:25/');
    expect(
      keyOf({ ...base, secure: true, tlsVerify: true, servername: 'mx.d.test', auth: { user: 'u', pass: 'p' } }),
    ).toBe('smtps+verify://u@192.0.2.1:25/mx.d.test');
    expect(keyOf({ ...base, requireTls: true, tlsVerify: false })).toBe('smtp+tls+any://@192.0.2.1:25/');
    expect(keyOf({ ...base, requireTls: true, tlsa })).toMatch(/^smtp\+tls\+dane:[0-9a-f]{16}:\/\/@192\.0\.2\.1:25\/$/);
  });

  it('never lets two targets that differ in any of them share a key', () => {
    const targets = [
      base,
      { ...base, port: 587 },
      { ...base, host: '192.0.2.2' },
      { ...base, secure: true },
      { ...base, requireTls: true },
      { ...base, tlsVerify: true },
      { ...base, tlsVerify: false },
      { ...base, servername: 'mx.d.test' },
      { ...base, auth: { user: 'u', pass: 'p' } },
      { ...base, tlsa },
      { ...base, tlsa: { ...tlsa, names: ['other.test'] } },
    ];
    expect(new Set(targets.map(keyOf)).size).toBe(targets.length);
  });
});
