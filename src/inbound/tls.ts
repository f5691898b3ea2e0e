import { readFile } from 'node:fs/promises';
import { unwatchFile, watchFile } from 'node:fs';
import { generate } from 'selfsigned';

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

/** One ephemeral certificate per host name and process (RSA: selfsigned 5 cannot make EC ones). */
const ephemeral = new Map<string, Promise<TlsMaterial>>();

async function generateEphemeral(hostname: string): Promise<TlsMaterial> {
  const pems = await generate([{ name: 'commonName', value: hostname }], {
    keySize: 2048,
    notAfterDate: new Date(Date.now() + 365 * 86_400_000),
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: hostname }] }],
  });
  return { cert: pems.cert, key: pems.private, source: 'ephemeral' };
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
