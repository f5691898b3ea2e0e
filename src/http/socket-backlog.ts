import { readFile } from 'node:fs/promises';
import type { Socket } from 'node:net';

/**
 * The `tx_queue` of one TCP connection in a `/proc/net/tcp` or `tcp6` table:
 * bytes written to the kernel that the peer has not yet taken in (its window
 * closed because it stopped reading, or still in flight). Connections are
 * matched by their two ports; undefined when none or more than one matches.
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
    const [, localField, remoteField, , queues] = table.slice(start, end === -1 ? undefined : end).trim().split(/\s+/);
    if (!localField?.endsWith(local) || !remoteField?.endsWith(remote) || queues === undefined) continue;
    const tx = Number.parseInt(queues.split(':')[0] ?? '', 16);
    if (!Number.isFinite(tx)) continue;
    found = tx;
    matches += 1;
  }
  return matches === 1 ? found : undefined;
}

/**
 * How many bytes written to `socket` its peer has not taken yet, read from
 * Linux's `/proc/net/tcp{,6}`; undefined where that is not available. Node
 * can neither cap a socket's send buffer nor report its fill, and the kernel
 * lets a peer that never reads tie up about 4 MB before `write()` reports
 * backpressure.
 */
export function socketBacklog(socket: Socket): () => Promise<number | undefined> {
  return async () => {
    const { localPort, remotePort } = socket;
    if (localPort === undefined || remotePort === undefined) return undefined;
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
      const text = await readFile(table, 'latin1').catch(() => undefined);
      const bytes = text === undefined ? undefined : sendQueueBytes(text, localPort, remotePort);
      if (bytes !== undefined) return bytes;
    }
    return undefined;
  };
}
