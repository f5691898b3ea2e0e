/**
 * Reads the PROXY header off a socket before smtp-server sees the connection.
 *
 * Owns: the bounded, timed read of the header's bytes (proxy-header.ts
 *       judges them) and putting back whatever came after it.
 * In:   a fresh socket from a SMTP_PROXY_FROM peer; a time limit.
 * Out:  the header, with the socket left paused at the first byte after it;
 *       or a `ProxyRefusal` (no header in time, the peer left, a bad header)
 *       and the socket answered `554 5.7.0` and closed.
 */
import type { Socket } from 'node:net';
import { parseProxyHeader, type ProxyHeader } from './proxy-header.js';

/** A connection refused for its PROXY header, or for lack of one. */
export class ProxyRefusal extends Error {
  override readonly name = 'ProxyRefusal';

  constructor(
    message: string,
    /** The peer connected and left without a byte: a TCP health check, not worth a warning. */
    readonly probe = false,
  ) {
    super(message);
  }
}

/** What the client is told before the connection closes (nothing more: the reason goes to the log). */
export const PROXY_REFUSED = '554 5.7.0 PROXY protocol header required from this peer\r\n';
/** What a peer outside SMTP_PROXY_FROM is told when it sends a PROXY header. */
export const PROXY_NOT_ALLOWED = '554 5.7.0 PROXY protocol not allowed from this peer\r\n';

/** Reads the header; rejects with a ProxyRefusal (having answered and closed) when there is none. */
export function readProxyHeader(socket: Socket, timeoutMs: number): Promise<ProxyHeader> {
  return new Promise<ProxyHeader>((resolve, reject) => {
    let received = Buffer.alloc(0);
    const finish = (error: ProxyRefusal | undefined, header?: ProxyHeader): void => {
      clearTimeout(timer);
      socket.off('readable', onReadable);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
      if (error) {
        refuse(socket, PROXY_REFUSED);
        reject(error);
      } else if (header) resolve(header);
    };
    const onReadable = (): void => {
      for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) {
        received = Buffer.concat([received, chunk]);
        const parsed = parseProxyHeader(received);
        if (parsed.kind === 'incomplete') continue;
        if (parsed.kind === 'invalid') return finish(new ProxyRefusal(parsed.reason));
        const rest = received.subarray(parsed.length);
        if (rest.length > 0) socket.unshift(rest);
        return finish(undefined, parsed.header);
      }
    };
    const onEnd = (): void =>
      finish(new ProxyRefusal('the peer closed before its PROXY header', received.length === 0));
    const onError = (error: Error): void =>
      finish(new ProxyRefusal(`socket error before the PROXY header: ${error.message}`));
    const timer = setTimeout(() => finish(new ProxyRefusal(`no PROXY header within ${timeoutMs} ms`)), timeoutMs);
    socket.on('readable', onReadable);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.on('error', onError);
  });
}

/** Answers `reply` and closes; late socket errors (the peer already gone) are ignored. */
export function refuse(socket: Socket, reply: string): void {
  socket.on('error', () => undefined);
  if (socket.destroyed) return;
  socket.end(reply);
  // a peer that keeps its side open does not hold the socket: it goes once the reply had a moment to leave
  setTimeout(() => socket.destroy(), 1_000).unref();
}
