/**
 * TLS material for the listener.
 *
 * Owns: where the certificate and key come from (SMTP_TLS_CERT/KEY, or an
 *       ephemeral self-signed pair made once per host name and process).
 * In:   the TLS settings. Out: the PEM pair; a watch that reports file changes.
 */
import { readFile } from 'node:fs/promises';
import { unwatchFile, watchFile } from 'node:fs';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';

export interface TlsMaterial {
  readonly key: string;
  readonly cert: string;
  /** Where it came from: the configured files, or generated at start-up. */
  readonly source: 'files' | 'ephemeral';
}

export interface TlsSettings {
  readonly certPath: string | undefined;
  readonly keyPath: string | undefined;
  readonly hostname: string;
}

/** Reads SMTP_TLS_CERT/KEY, or makes an ephemeral self-signed certificate for development. */
export async function loadTlsMaterial(settings: TlsSettings): Promise<TlsMaterial> {
  if (settings.certPath && settings.keyPath) {
    const [cert, key] = await Promise.all([readFile(settings.certPath, 'utf8'), readFile(settings.keyPath, 'utf8')]);
    return { cert, key, source: 'files' };
  }
  let pending = ephemeral.get(settings.hostname);
  if (!pending) {
    pending = generateEphemeral(settings.hostname);
    ephemeral.set(settings.hostname, pending);
  }
  return pending;
}

/** One ephemeral certificate per host name and process. */
const ephemeral = new Map<string, Promise<TlsMaterial>>();

/**
 * Makes the certificate in a short-lived child process: the X.509 libraries
 * behind `selfsigned` would otherwise stay in the daemon's memory (~18 MiB)
 * for a job done once. (RSA: selfsigned 5 cannot make EC keys here.)
 */
function generateEphemeral(hostname: string): Promise<TlsMaterial> {
  const library = createRequire(import.meta.url).resolve('selfsigned');
  const script = `
    const { generate } = require(${JSON.stringify(library)});
    const name = process.argv[1];
    generate([{ name: 'commonName', value: name }], {
      keySize: 2048,
      notAfterDate: new Date(Date.now() + 365 * 86400000),
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: name }] }],
    }).then((pems) => process.stdout.write(JSON.stringify({ cert: pems.cert, key: pems.private })));`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', script, hostname], { timeout: 60_000, maxBuffer: 1 << 20 }, (error, stdout) => {
      if (error) {
        reject(new Error(`could not generate an ephemeral TLS certificate: ${error.message}`));
        return;
      }
      const pems = JSON.parse(stdout) as { cert: string; key: string };
      resolve({ cert: pems.cert, key: pems.key, source: 'ephemeral' });
    });
  });
}
/**
 * Calls `onChange` when the certificate or key file changes on disk (polled,
 * so it also sees files replaced by rename, as certbot does). Returns a stop function.
 */
export function watchTlsFiles(settings: TlsSettings, onChange: () => void, intervalMs = 2000): () => void {
  const paths = [settings.certPath, settings.keyPath].filter((p): p is string => p !== undefined);
  const listener = (current: { mtimeMs: number }, previous: { mtimeMs: number }): void => {
    if (current.mtimeMs !== previous.mtimeMs) onChange();
  };
  for (const path of paths) watchFile(path, { interval: intervalMs, persistent: false }, listener);
  return () => {
    for (const path of paths) unwatchFile(path, listener);
  };
}
