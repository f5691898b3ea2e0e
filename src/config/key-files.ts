/** TLS certificate/key and DKIM key variables: present together, readable, parseable. */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import type { Config } from './types.js';
import type { EnvReader } from './env-reader.js';
import { normaliseHostname } from './addresses.js';

export type ReadFile = (path: string) => string;

type Tls = Pick<Config, 'tlsCertPath' | 'tlsKeyPath'>;

function reason(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return error instanceof Error ? error.message : String(error);
}

type FileVariable = 'SMTP_TLS_CERT' | 'SMTP_TLS_KEY' | 'SMTP_DKIM_KEY_PATH' | 'SMTP_OUTBOUND_CA_FILE';

function tryRead(r: EnvReader, name: FileVariable, path: string, readFile: ReadFile, what: string): string | undefined {
  try {
    return readFile(path);
  } catch (error) {
    r.problem(name, `a readable ${what} file (${reason(error)})`);
    return undefined;
  }
}

function tryPrivateKey(pem: string): KeyObject | undefined {
  try {
    return createPrivateKey(pem);
  } catch {
    return undefined;
  }
}

function tryCertificate(pem: string): X509Certificate | undefined {
  try {
    return new X509Certificate(pem);
  } catch {
    return undefined;
  }
}

/** SMTP_TLS_CERT and SMTP_TLS_KEY: both or neither; a certificate and its matching key. */
export function readTls(r: EnvReader, readFile: ReadFile): Tls {
  const certPath = r.raw('SMTP_TLS_CERT');
  const keyPath = r.raw('SMTP_TLS_KEY');
  if (certPath === undefined && keyPath !== undefined) {
    r.problem('SMTP_TLS_CERT', 'a PEM certificate file, because SMTP_TLS_KEY is set');
  }
  if (keyPath === undefined && certPath !== undefined) {
    r.problem('SMTP_TLS_KEY', 'a PEM private key file, because SMTP_TLS_CERT is set');
  }
  if (certPath === undefined || keyPath === undefined) return { tlsCertPath: undefined, tlsKeyPath: undefined };

  const certPem = tryRead(r, 'SMTP_TLS_CERT', certPath, readFile, 'PEM certificate');
  const keyPem = tryRead(r, 'SMTP_TLS_KEY', keyPath, readFile, 'PEM private key');
  const cert = certPem === undefined ? undefined : tryCertificate(certPem);
  const key = keyPem === undefined ? undefined : tryPrivateKey(keyPem);
  if (certPem !== undefined && cert === undefined) {
    r.problem('SMTP_TLS_CERT', 'a PEM certificate file; this file holds no certificate');
  }
  if (keyPem !== undefined && key === undefined) {
    r.problem('SMTP_TLS_KEY', 'an unencrypted PEM private key file; this file holds no such key');
  }
  if (cert !== undefined && key !== undefined && !cert.checkPrivateKey(key)) {
    r.problem('SMTP_TLS_KEY', 'the private key of the certificate in SMTP_TLS_CERT; they do not match');
  }
  return { tlsCertPath: certPath, tlsKeyPath: keyPath };
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** SMTP_OUTBOUND_CA_FILE: a PEM bundle of one or more CA certificates, each of them parseable. */
export function readOutboundCa(r: EnvReader, readFile: ReadFile): Config['outboundCa'] {
  const path = r.raw('SMTP_OUTBOUND_CA_FILE');
  if (path === undefined) return undefined;
  const pem = tryRead(r, 'SMTP_OUTBOUND_CA_FILE', path, readFile, 'PEM CA certificate');
  if (pem === undefined) return undefined;
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  const bad = blocks.findIndex((block) => tryCertificate(block) === undefined);
  if (blocks.length === 0 || bad >= 0) {
    const why = blocks.length === 0 ? 'this file holds none' : `certificate ${bad + 1} does not parse`;
    r.problem('SMTP_OUTBOUND_CA_FILE', `a file of PEM CA certificates; ${why}`);
    return undefined;
  }
  return { path, pem: blocks.join('\n') };
}

const DKIM_KEY = 'an unencrypted RSA (1024 bits or more) or Ed25519 private key in PEM';

/** Why `key` cannot sign DKIM, or undefined if it can. */
function dkimKeyFault(key: KeyObject): string | undefined {
  const type = key.asymmetricKeyType;
  if (type === 'ed25519') return undefined;
  if (type !== 'rsa') return `${DKIM_KEY}; this is a ${type ?? 'symmetric'} key`;
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  return bits >= 1024 ? undefined : `${DKIM_KEY}; this RSA key has ${bits} bits`;
}

/** SMTP_DKIM_*: a selector with exactly one key (file or inline PEM with `\n` escapes). */
export function readDkim(r: EnvReader, readFile: ReadFile): Config['dkim'] {
  const selectorText = r.raw('SMTP_DKIM_SELECTOR');
  const keyPath = r.raw('SMTP_DKIM_KEY_PATH');
  const inline = r.raw('SMTP_DKIM_PRIVATE_KEY');
  const domainText = r.raw('SMTP_DKIM_DOMAIN');
  const keyVariable = keyPath !== undefined ? 'SMTP_DKIM_KEY_PATH' : 'SMTP_DKIM_PRIVATE_KEY';
  if (selectorText === undefined) {
    if (keyPath !== undefined || inline !== undefined) {
      r.problem('SMTP_DKIM_SELECTOR', `a selector, because ${keyVariable} is set`);
    } else if (domainText !== undefined) {
      r.problem('SMTP_DKIM_DOMAIN', 'to be unset unless SMTP_DKIM_SELECTOR and a key are set');
    }
    return undefined;
  }
  const selector = normaliseHostname(selectorText);
  if (selector === undefined) {
    r.problem('SMTP_DKIM_SELECTOR', 'a DKIM selector: DNS labels (letters, digits, hyphens) joined by dots');
  }
  const domain = domainText === undefined ? undefined : normaliseHostname(domainText);
  if (domainText !== undefined && domain === undefined) r.problem('SMTP_DKIM_DOMAIN', 'a domain name (example.com)');

  if (keyPath === undefined && inline === undefined) {
    r.problem('SMTP_DKIM_SELECTOR', 'SMTP_DKIM_KEY_PATH or SMTP_DKIM_PRIVATE_KEY to be set as well');
    return undefined;
  }
  if (keyPath !== undefined && inline !== undefined) {
    r.problem('SMTP_DKIM_PRIVATE_KEY', 'to be unset when SMTP_DKIM_KEY_PATH is set (use one of them)');
    return undefined;
  }
  const pem =
    keyPath !== undefined
      ? tryRead(r, 'SMTP_DKIM_KEY_PATH', keyPath, readFile, 'DKIM private key')
      : inline?.replaceAll('\\n', '\n');
  if (pem === undefined) return undefined;
  const key = tryPrivateKey(pem);
  const fault = key === undefined ? DKIM_KEY : dkimKeyFault(key);
  if (fault !== undefined) r.problem(keyVariable, fault);
  if (fault !== undefined || selector === undefined) return undefined;
  return { selector, domain, privateKeyPem: pem, keyPath };
}
