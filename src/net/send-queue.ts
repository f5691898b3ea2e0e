/**
 * How far behind the peer of a TCP connection is: the bytes written to the
 * kernel for it that it has not taken in yet (its receive window closed
 * because it stopped reading, or still in flight).
 *
 * Why this exists: Node can neither cap a socket's send buffer nor report its
 * fill, and the kernel lets a peer that never reads tie up about 4 MB before
 * `write()` reports backpressure. A long-lived stream to a stalled client
 * (the audit stream) would keep formatting and writing for it all that
 * while. The kernel does report each connection's send queue (`tx_queue`)
 * in Linux's `/proc/net/tcp` and `/proc/net/tcp6`; this module reads it.
 *
 * In: a connected socket (its two ports name the connection). Out: the
 * bytes its peer has not taken, or undefined where the tables are not
 * available (not Linux) or the connection cannot be told apart. Callers
 * decide what counts as too far behind.
 */
import { readFile } from 'node:fs/promises';
import type { Socket } from 'node:net';

const TABLES = ['/proc/net/tcp', '/proc/net/tcp6'];

/**
 * The `tx_queue` of one TCP connection in a `/proc/net/tcp` or `tcp6` table.
 * Connections are matched by their two ports; undefined when none or more
 * than one matches.
 */
export function sendQueueBytes(table: string, localPort: number, remotePort: number): number | undefined {
  const local = `:${localPort.toString(16).toUpperCase().padStart(4, '0')}`;
  const remote = `:${remotePort.toString(16).toUpperCase().padStart(4, '0')}`;
  // "  sl: LOCAL:PORT REMOTE:PORT st TX:RX ...": only lines holding `local ` are split
  const needle = `${local} `;
  let found: number | undefined;
  let matches = 0;
  for (let at = table.indexOf(needle); at !== -1; at = table.indexOf(needle, at + needle.length)) {
    const start = table.lastIndexOf('\n', at) + 1;
    const end = table.indexOf('\n', at);
    const [, localField, remoteField, , queues] = table
      .slice(start, end === -1 ? undefined : end)
      .trim()
      .split(/\s+/);
    if (!localField?.endsWith(local) || !remoteField?.endsWith(remote) || queues === undefined) continue;
    const tx = Number.parseInt(queues.split(':')[0] ?? '', 16);
    if (!Number.isFinite(tx)) continue;
    found = tx;
    matches += 1;
  }
  return matches === 1 ? found : undefined;
}

/** How many bytes written to `socket` its peer has not taken yet; undefined where that cannot be known. */
export async function unsentBytes(socket: Socket): Promise<number | undefined> {
  const { localPort, remotePort } = socket;
  if (localPort === undefined || remotePort === undefined) return undefined;
  for (const table of TABLES) {
    const text = await readFile(table, 'latin1').catch(() => undefined);
    const bytes = text === undefined ? undefined : sendQueueBytes(text, localPort, remotePort);
    if (bytes !== undefined) return bytes;
  }
  return undefined;
}

/** A probe for the audit stream and its like: each call asks again how far behind `socket`'s peer is. */
export function sendQueueProbe(socket: Socket): () => Promise<number | undefined> {
  return () => unsentBytes(socket);
}
