/**
 * A test certificate authority and server certificates it signs, for
 * outbound TLS tests: a good one for a host name, an expired one and one for
 * another name. One RSA key pair serves every certificate of a process
 * (generating RSA keys is slow; EC fails here, see sink.ts).
 *
 *   const ca = await testCa();
 *   const good = await ca.issue('mx.good.test');
 *   const expired = await ca.issue('mx.expired.test', { expired: true });
 *   writeFileSync(caFile, ca.cert); // SMTP_OUTBOUND_CA_FILE
 */
import { generateKeyPairSync } from 'node:crypto';
import { generate } from 'selfsigned';

export interface Pem {
  readonly key: string;
  readonly cert: string;
}

export interface TestCa extends Pem {
  /** A server certificate for `name` (and `altNames`) signed by this CA (expired a day ago when asked). */
  issue(name: string, options?: { readonly expired?: boolean; readonly altNames?: readonly string[] }): Promise<Pem>;
}

const DAY = 86_400_000;
let pair: { privateKey: string; publicKey: string } | undefined;

function keyPair(): { privateKey: string; publicKey: string } {
  pair ??= generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return pair;
}

export async function testCa(): Promise<TestCa> {
  const keys = keyPair();
  const root = await generate([{ name: 'commonName', value: 'GopherPost Test CA' }], {
    keyPair: keys,
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const ca: Pem = { key: root.private, cert: root.cert };
  return {
    ...ca,
    issue: async (name, options = {}) => {
      const now = Date.now();
      const leaf = await generate([{ name: 'commonName', value: name }], {
        keyPair: keys,
        algorithm: 'sha256',
        ca,
        ...(options.expired ? { notBeforeDate: new Date(now - 30 * DAY), notAfterDate: new Date(now - DAY) } : {}),
        extensions: [
          { name: 'basicConstraints', cA: false },
          { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
          { name: 'extKeyUsage', serverAuth: true },
          {
            name: 'subjectAltName',
            altNames: [name, ...(options.altNames ?? [])].map((value) => ({ type: 2 as const, value })),
          },
        ],
      });
      return { key: leaf.private, cert: leaf.cert };
    },
  };
}
