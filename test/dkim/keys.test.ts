import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  dkimRecordValue,
  generateDkimKey,
  parseDkimRecord,
  publicKeyOf,
  publicKeyValue,
  recordPublicKey,
  sameKey,
  splitTxt,
  zoneFileRecord,
} from '../../src/dkim/keys.js';

describe('DKIM keys and records', () => {
  it('publishes RSA as SubjectPublicKeyInfo and Ed25519 as the raw 32-byte key (RFC 8463)', () => {
    const rsa = generateDkimKey('rsa', 1024);
    const ed = generateDkimKey('ed25519');
    expect(dkimRecordValue(rsa.publicKey)).toMatch(/^v=DKIM1; k=rsa; p=MI[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(publicKeyValue(ed.publicKey), 'base64')).toHaveLength(32);
    for (const key of [rsa, ed]) {
      const record = parseDkimRecord(dkimRecordValue(key.publicKey));
      const published = record ? recordPublicKey(record) : undefined;
      expect(published && sameKey(published, publicKeyOf(key.privateKeyPem))).toBe(true);
    }
  });

  it.each([
    ['v=DKIM1; k=rsa; p=ABC', { version: 'DKIM1', keyType: 'rsa', publicKey: 'ABC' }],
    ['p=AB C\t D', { version: undefined, keyType: 'rsa', publicKey: 'ABCD' }],
    ['v=DKIM1; K=Ed25519; h=sha256; p=', { version: 'DKIM1', keyType: 'ed25519', publicKey: '' }],
    ['v=spf1 -all', undefined],
    ['v=DKIM2; p=ABC', undefined],
  ])('parseDkimRecord(%j)', (text, expected) => {
    expect(parseDkimRecord(text)).toEqual(expected);
  });

  it('reads a PKCS#1 RSA key some publishers use, rejects k= that does not fit and revoked keys', () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const pkcs1 = publicKey.export({ type: 'pkcs1', format: 'der' }).toString('base64');
    const read = recordPublicKey({ version: 'DKIM1', keyType: 'rsa', publicKey: pkcs1 });
    expect(read && sameKey(read, publicKey)).toBe(true);
    expect(recordPublicKey({ version: 'DKIM1', keyType: 'ed25519', publicKey: pkcs1 })).toBeUndefined();
    expect(recordPublicKey({ version: 'DKIM1', keyType: 'rsa', publicKey: '' })).toBeUndefined();
  });

  it('splits TXT values into 255-character strings for zone files', () => {
    const value = 'x'.repeat(600);
    expect(splitTxt(value).map((s) => s.length)).toEqual([255, 255, 90]);
    expect(zoneFileRecord('s._domainkey.example.com', value)).toBe(
      `s._domainkey.example.com. IN TXT ( "${'x'.repeat(255)}"\n\t"${'x'.repeat(255)}"\n\t"${'x'.repeat(90)}" )\n`,
    );
  });
});
