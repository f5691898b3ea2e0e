import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { describeConfig } from '../../src/config/describe.js';
import { configError, soleProblem } from './helpers.js';

// Real files on disk, read with the default reader (no facts.readFile).
const facts = { hostname: 'mx.example.test' };
let dir = '';
const file = (name: string) => join(dir, name);

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();
const rsaPkcs1 = generateKeyPairSync('rsa', { modulusLength: 1024 })
  .privateKey.export({ type: 'pkcs1', format: 'pem' })
  .toString();
const rsaSmall = generateKeyPairSync('rsa', { modulusLength: 512 })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();
const ed25519 = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();
const encrypted = generateKeyPairSync('ed25519')
  .privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' })
  .toString();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gopherpost-config-'));
  const a = await generate([{ name: 'commonName', value: 'mx.example.test' }], { keySize: 2048, algorithm: 'sha256' });
  const b = await generate([{ name: 'commonName', value: 'other.example.test' }], {
    keySize: 2048,
    algorithm: 'sha256',
  });
  writeFileSync(file('cert.pem'), a.cert);
  writeFileSync(file('key.pem'), a.private);
  writeFileSync(file('other-key.pem'), b.private);
  writeFileSync(file('garbage.pem'), 'not a pem\n');
  writeFileSync(file('rsa.pem'), rsa);
  writeFileSync(file('ed25519.pem'), ed25519);
  writeFileSync(file('ec.pem'), ec);
  writeFileSync(file('unreadable.pem'), rsa);
  chmodSync(file('unreadable.pem'), 0o000);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('SMTP_TLS_CERT / SMTP_TLS_KEY', () => {
  it('accepts a certificate with its key', () => {
    const config = loadConfig({ SMTP_TLS_CERT: file('cert.pem'), SMTP_TLS_KEY: file('key.pem') }, facts);
    expect(config).toMatchObject({ tlsCertPath: file('cert.pem'), tlsKeyPath: file('key.pem') });
  });

  it.each([
    [{ SMTP_TLS_CERT: 'cert.pem' }, 'SMTP_TLS_KEY', 'because SMTP_TLS_CERT is set'],
    [{ SMTP_TLS_KEY: 'key.pem' }, 'SMTP_TLS_CERT', 'because SMTP_TLS_KEY is set'],
  ])('requires both: %j', (env, variable, expected) => {
    const problem = soleProblem(Object.fromEntries(Object.entries(env).map(([k, v]) => [k, file(v)])), facts);
    expect(problem).toMatchObject({ variable, value: '' });
    expect(problem.expected).toContain(expected);
  });

  it('names the variable of a missing file', () => {
    const problem = soleProblem({ SMTP_TLS_CERT: file('missing.pem'), SMTP_TLS_KEY: file('key.pem') }, facts);
    expect(problem).toEqual({
      variable: 'SMTP_TLS_CERT',
      value: file('missing.pem'),
      expected: 'a readable PEM certificate file (ENOENT)',
    });
  });

  const isRoot = process.getuid?.() === 0;
  const rootReason = isRoot ? ' (skipped: running as root, which reads a mode-000 file)' : '';
  it.skipIf(isRoot)(`names the variable of an unreadable file${rootReason}`, () => {
    const problem = soleProblem({ SMTP_TLS_CERT: file('cert.pem'), SMTP_TLS_KEY: file('unreadable.pem') }, facts);
    expect(problem).toMatchObject({ variable: 'SMTP_TLS_KEY', expected: 'a readable PEM private key file (EACCES)' });
  });

  it('names the variable of a directory given as a file', () => {
    const problem = soleProblem({ SMTP_TLS_CERT: file('cert.pem'), SMTP_TLS_KEY: dir }, facts);
    expect(problem).toEqual({
      variable: 'SMTP_TLS_KEY',
      value: dir,
      expected: 'a readable PEM private key file (EISDIR)',
    });
  });

  it('reports both unusable files at once', () => {
    const error = configError({ SMTP_TLS_CERT: file('garbage.pem'), SMTP_TLS_KEY: file('garbage.pem') }, facts);
    expect(error.problems.map((p) => [p.variable, p.expected])).toEqual([
      ['SMTP_TLS_CERT', 'a PEM certificate file; this file holds no certificate'],
      ['SMTP_TLS_KEY', 'an unencrypted PEM private key file; this file holds no such key'],
    ]);
  });

  it('refuses a key that does not belong to the certificate', () => {
    const problem = soleProblem({ SMTP_TLS_CERT: file('cert.pem'), SMTP_TLS_KEY: file('other-key.pem') }, facts);
    expect(problem.variable).toBe('SMTP_TLS_KEY');
    expect(problem.expected).toContain('they do not match');
  });

  it('reads through facts.readFile when given', () => {
    const read: string[] = [];
    const error = configError(
      { SMTP_TLS_CERT: '/virtual/cert.pem', SMTP_TLS_KEY: '/virtual/key.pem' },
      {
        readFile: (path) => {
          read.push(path);
          return 'nothing';
        },
      },
    );
    expect(read).toEqual(['/virtual/cert.pem', '/virtual/key.pem']);
    expect(error.problems.map((p) => p.variable)).toEqual(['SMTP_TLS_CERT', 'SMTP_TLS_KEY']);
  });
});

describe('SMTP_DKIM_*', () => {
  it.each([
    ['RSA 2048 (PKCS#8)', rsa],
    ['RSA 1024 (PKCS#1)', rsaPkcs1],
    ['Ed25519', ed25519],
  ])('accepts an inline %s key', (_name, pem) => {
    const config = loadConfig({ SMTP_DKIM_SELECTOR: 'Mail2024', SMTP_DKIM_PRIVATE_KEY: pem }, facts);
    expect(config.dkim).toEqual({ selector: 'mail2024', domain: undefined, privateKeyPem: pem, keyPath: undefined });
  });

  it('accepts an inline key with \\n escapes (one line in .env)', () => {
    const oneLine = ed25519.replaceAll('\n', '\\n');
    const config = loadConfig(
      { SMTP_DKIM_SELECTOR: 's1', SMTP_DKIM_PRIVATE_KEY: oneLine, SMTP_DKIM_DOMAIN: 'Example.COM' },
      facts,
    );
    expect(config.dkim).toMatchObject({ privateKeyPem: ed25519, domain: 'example.com' });
  });

  it('reads SMTP_DKIM_KEY_PATH', () => {
    const config = loadConfig({ SMTP_DKIM_SELECTOR: 's1', SMTP_DKIM_KEY_PATH: file('rsa.pem') }, facts);
    expect(config.dkim).toEqual({ selector: 's1', domain: undefined, privateKeyPem: rsa, keyPath: file('rsa.pem') });
    expect(describeConfig(config)).toMatchObject({ SMTP_DKIM_KEY_PATH: file('rsa.pem'), SMTP_DKIM_PRIVATE_KEY: '' });
  });

  it.each<[string, Record<string, string>, string, string]>([
    [
      'a missing key file',
      { SMTP_DKIM_KEY_PATH: 'missing.pem' },
      'SMTP_DKIM_KEY_PATH',
      'a readable DKIM private key file (ENOENT)',
    ],
    [
      'a file that is no key',
      { SMTP_DKIM_KEY_PATH: 'garbage.pem' },
      'SMTP_DKIM_KEY_PATH',
      'an unencrypted RSA (1024 bits or more) or Ed25519 private key in PEM',
    ],
    ['an EC key file', { SMTP_DKIM_KEY_PATH: 'ec.pem' }, 'SMTP_DKIM_KEY_PATH', 'this is a ec key'],
    ['a certificate instead of a key', { SMTP_DKIM_KEY_PATH: 'cert.pem' }, 'SMTP_DKIM_KEY_PATH', 'private key in PEM'],
  ])('names the variable for %s', (_name, env, variable, expected) => {
    const paths = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, file(v)]));
    const problem = soleProblem({ SMTP_DKIM_SELECTOR: 's1', ...paths }, facts);
    expect(problem.variable).toBe(variable);
    expect(problem.value).toBe(paths[variable]);
    expect(problem.expected).toContain(expected);
  });

  it.each<[string, string, string]>([
    ['garbage', 'not a key', 'private key in PEM'],
    ['an RSA key under 1024 bits', rsaSmall, 'this RSA key has 512 bits'],
    ['an encrypted key', encrypted, 'an unencrypted RSA'],
    ['an EC key', ec, 'this is a ec key'],
  ])('refuses inline %s, masking it', (_name, pem, expected) => {
    const problem = soleProblem({ SMTP_DKIM_SELECTOR: 's1', SMTP_DKIM_PRIVATE_KEY: pem }, facts);
    expect(problem).toMatchObject({ variable: 'SMTP_DKIM_PRIVATE_KEY', value: '****' });
    expect(problem.expected).toContain(expected);
  });

  it.each<[string, Record<string, string>, string, string]>([
    [
      'a key path without selector',
      { SMTP_DKIM_KEY_PATH: 'x.pem' },
      'SMTP_DKIM_SELECTOR',
      'a selector, because SMTP_DKIM_KEY_PATH is set',
    ],
    [
      'an inline key without selector',
      { SMTP_DKIM_PRIVATE_KEY: 'x' },
      'SMTP_DKIM_SELECTOR',
      'a selector, because SMTP_DKIM_PRIVATE_KEY is set',
    ],
    [
      'a selector without key',
      { SMTP_DKIM_SELECTOR: 's1' },
      'SMTP_DKIM_SELECTOR',
      'SMTP_DKIM_KEY_PATH or SMTP_DKIM_PRIVATE_KEY to be set as well',
    ],
    [
      'a domain alone',
      { SMTP_DKIM_DOMAIN: 'example.com' },
      'SMTP_DKIM_DOMAIN',
      'unless SMTP_DKIM_SELECTOR and a key are set',
    ],
  ])('refuses %s', (_name, env, variable, expected) => {
    const problem = soleProblem(env, facts);
    expect(problem.variable).toBe(variable);
    expect(problem.expected).toContain(expected);
  });

  it('refuses both a key path and an inline key', () => {
    const problem = soleProblem(
      { SMTP_DKIM_SELECTOR: 's1', SMTP_DKIM_KEY_PATH: file('rsa.pem'), SMTP_DKIM_PRIVATE_KEY: rsa },
      facts,
    );
    expect(problem).toMatchObject({ variable: 'SMTP_DKIM_PRIVATE_KEY', value: '****' });
    expect(problem.expected).toContain('SMTP_DKIM_KEY_PATH');
  });

  it('reports a bad selector, a bad domain and a bad key together', () => {
    const error = configError(
      { SMTP_DKIM_SELECTOR: 'bad_selector', SMTP_DKIM_DOMAIN: 'not a domain', SMTP_DKIM_PRIVATE_KEY: 'x' },
      facts,
    );
    expect(error.problems.map((p) => p.variable)).toEqual([
      'SMTP_DKIM_SELECTOR',
      'SMTP_DKIM_PRIVATE_KEY',
      'SMTP_DKIM_DOMAIN',
    ]);
    expect(error.message).not.toContain('="x"');
  });
});

describe('SMTP_OUTBOUND_CA_FILE', () => {
  it('reads a bundle of CA certificates and shows its path', () => {
    const bundle = file('bundle.pem');
    writeFileSync(
      bundle,
      `# two CAs\n${readFileSync(file('cert.pem'), 'utf8')}\n${readFileSync(file('cert.pem'), 'utf8')}`,
    );
    const config = loadConfig({ SMTP_OUTBOUND_CA_FILE: bundle }, facts);
    expect(config.outboundCa?.path).toBe(bundle);
    expect(config.outboundCa?.pem.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect(config.outboundCa?.pem).not.toContain('# two CAs');
    expect(describeConfig(config).SMTP_OUTBOUND_CA_FILE).toBe(bundle);
  });

  it.each<[string, () => string, string]>([
    ['a missing file', () => file('missing-ca.pem'), 'a readable PEM CA certificate file (ENOENT)'],
    ['a file without certificates', () => file('garbage.pem'), 'a file of PEM CA certificates; this file holds none'],
    ['a key instead of a certificate', () => file('rsa.pem'), 'this file holds none'],
    [
      'a broken certificate',
      () => {
        writeFileSync(file('broken-ca.pem'), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
        return file('broken-ca.pem');
      },
      'certificate 1 does not parse',
    ],
  ])('refuses %s, naming the variable', (_name, path, expected) => {
    const problem = soleProblem({ SMTP_OUTBOUND_CA_FILE: path() }, facts);
    expect(problem.variable).toBe('SMTP_OUTBOUND_CA_FILE');
    expect(problem.expected).toContain(expected);
  });
});
