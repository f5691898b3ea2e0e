/**
 * DKIM keys and their DNS records: generating a key pair, the TXT record to
 * publish (RFC 6376 §3.6.1; Ed25519 as the raw 32-byte key, RFC 8463 §4),
 * zone-file formatting, and reading a published record back to compare it
 * with a private key.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

export type DkimKeyType = 'rsa' | 'ed25519';

export interface GeneratedKey {
  /** PKCS#8 PEM, unencrypted (what SMTP_DKIM_KEY_PATH reads). */
  readonly privateKeyPem: string;
  readonly publicKey: KeyObject;
}

/** The 2048-bit default RSA size; 1024 is the least the configuration and verifiers accept. */
export const DEFAULT_RSA_BITS = 2048;
export const MIN_RSA_BITS = 1024;
export const MAX_RSA_BITS = 8192;

export function generateDkimKey(type: DkimKeyType, bits = DEFAULT_RSA_BITS): GeneratedKey {
  const pair = type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: bits }) : generateKeyPairSync('ed25519');
  return {
    privateKeyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: pair.publicKey,
  };
}

/** `selector._domainkey.domain`. */
export function dkimRecordName(selector: string, domain: string): string {
  return `${selector}._domainkey.${domain}`;
}

function keyTypeOf(key: KeyObject): DkimKeyType {
  const type = key.asymmetricKeyType;
  if (type === 'rsa' || type === 'ed25519') return type;
  throw new Error(`a DKIM key is RSA or Ed25519, not ${type ?? 'symmetric'}`);
}

/** p= for a public key: SubjectPublicKeyInfo for RSA, the raw key for Ed25519. */
export function publicKeyValue(publicKey: KeyObject): string {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return (keyTypeOf(publicKey) === 'ed25519' ? spki.subarray(spki.length - 32) : spki).toString('base64');
}

/** The TXT record value: `v=DKIM1; k=rsa; p=…`. */
export function dkimRecordValue(publicKey: KeyObject): string {
  return `v=DKIM1; k=${keyTypeOf(publicKey)}; p=${publicKeyValue(publicKey)}`;
}

/** Character-strings of at most 255 bytes (a TXT record's limit per string; resolvers join them). */
export function splitTxt(value: string, size = 255): string[] {
  const parts: string[] = [];
  for (let at = 0; at < value.length; at += size) parts.push(value.slice(at, at + size));
  return parts.length > 0 ? parts : [''];
}

/** A zone-file line for the record, its value split into quoted 255-character strings. */
export function zoneFileRecord(name: string, value: string): string {
  const strings = splitTxt(value).map((part) => `"${part}"`);
  return `${name}. IN TXT ( ${strings.join('\n\t')} )\n`;
}

export interface DkimRecord {
  readonly version: string | undefined;
  /** k=, 'rsa' when absent. */
  readonly keyType: string;
  /** p= without whitespace; '' means the key was revoked. */
  readonly publicKey: string;
}

/** Tag list of a DKIM key record (RFC 6376 §3.6.1); undefined when it is not one (no p=, or v= other than DKIM1). */
export function parseDkimRecord(text: string): DkimRecord | undefined {
  const tags = new Map<string, string>();
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) tags.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  const version = tags.get('v');
  const p = tags.get('p');
  if (p === undefined || (version !== undefined && version.toUpperCase() !== 'DKIM1')) return undefined;
  return { version, keyType: (tags.get('k') ?? 'rsa').toLowerCase(), publicKey: p.replace(/\s+/g, '') };
}

function tryKey(make: () => KeyObject): KeyObject | undefined {
  try {
    return make();
  } catch {
    return undefined;
  }
}

/** The public key a record publishes, or undefined (revoked, malformed, or k= that does not fit). */
export function recordPublicKey(record: DkimRecord): KeyObject | undefined {
  if (record.publicKey === '') return undefined;
  const der = Buffer.from(record.publicKey, 'base64');
  if (record.keyType === 'ed25519') {
    if (der.length !== 32) return undefined;
    const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), der]);
    return tryKey(() => createPublicKey({ key: spki, format: 'der', type: 'spki' }));
  }
  if (record.keyType !== 'rsa') return undefined;
  const key =
    tryKey(() => createPublicKey({ key: der, format: 'der', type: 'spki' })) ??
    tryKey(() => createPublicKey({ key: der, format: 'der', type: 'pkcs1' }));
  return key?.asymmetricKeyType === 'rsa' ? key : undefined;
}

/** The public half of a private key PEM. */
export function publicKeyOf(privateKeyPem: string): KeyObject {
  return createPublicKey(createPrivateKey(privateKeyPem));
}

export function sameKey(a: KeyObject, b: KeyObject): boolean {
  return (
    a.asymmetricKeyType === b.asymmetricKeyType &&
    a.export({ type: 'spki', format: 'der' }).equals(b.export({ type: 'spki', format: 'der' }))
  );
}
