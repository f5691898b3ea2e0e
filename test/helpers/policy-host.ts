/**
 * A local HTTPS server standing in for `mta-sts.<domain>` hosts (RFC 8461
 * §3.3): on 127.0.0.1 (ephemeral port), with a certificate from the test CA
 * for every name it serves, answering `/.well-known/mta-sts.txt` per Host
 * header from a mutable table:
 *
 *   const host = await startPolicyHost(await ca.issue('mta-sts.a.test', { altNames: ['mta-sts.b.test'] }));
 *   host.policies['mta-sts.a.test'] = { body: 'version: STSv1\nmode: enforce\n…' };
 *   host.policies['mta-sts.b.test'] = { status: 302, headers: { location: 'https://elsewhere/' } };
 *   host.policies['mta-sts.c.test'] = { hang: true };   // never answers
 *   host.fetches                                         // Host headers fetched so far
 *
 * Unknown hosts answer 404.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Pem } from './pki.js';

export interface PolicyAnswer {
  readonly status?: number;
  readonly body?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Accept the request and never answer. */
  readonly hang?: boolean;
  /** Announce this body's length, send half of it, then drop the connection. */
  readonly cut?: boolean;
}

export interface PolicyHost {
  readonly port: number;
  readonly policies: Record<string, PolicyAnswer>;
  readonly fetches: string[];
  close(): Promise<void>;
}

export async function startPolicyHost(certificate: Pem): Promise<PolicyHost> {
  const policies: Record<string, PolicyAnswer> = {};
  const fetches: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer({ key: certificate.key, cert: certificate.cert }, (req, res) => {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    fetches.push(host);
    const answer = req.url === '/.well-known/mta-sts.txt' ? policies[host] : undefined;
    if (answer?.hang) return;
    if (answer?.cut) {
      const body = answer.body ?? '';
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(body.length) });
      res.write(body.slice(0, body.length >> 1), () => res.socket?.destroy());
      return;
    }
    res.writeHead(answer?.status ?? (answer ? 200 : 404), { 'content-type': 'text/plain', ...answer?.headers });
    res.end(answer?.body ?? '');
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    policies,
    fetches,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
