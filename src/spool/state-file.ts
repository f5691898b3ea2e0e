/**
 * Small state files beside the spool (held destinations, cached MTA-STS
 * policies, TLS-RPT day counts): written whole to `<path>.tmp`, fsynced, then renamed over the
 * old one, so a reader or a crash sees the old file or the new, never half.
 */
import { mkdir, open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

export async function writeStateFile(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp`;
  const file = await open(tmp, 'w', 0o600);
  try {
    await file.writeFile(text);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(tmp, path);
}
