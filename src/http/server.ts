import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';
import type { Logger } from '../log/logger.js';

export interface HttpServerHandle {
  readonly server: Server;
  /** The bound port (useful with port 0). */
  readonly port: number;
  /** `http://host:port`, with a loopback host when bound to all interfaces. */
  readonly url: string;
  /**
   * Stops accepting, lets plain requests finish for up to `graceMs`, then cuts
   * what is left (audit streams never end by themselves).
   */
  close(graceMs?: number): Promise<void>;
}

function urlHost(address: AddressInfo): string {
  if (address.address === '0.0.0.0' || address.address === '::') return '127.0.0.1';
  return address.family === 'IPv6' ? `[${address.address}]` : address.address;
}

/**
 * Binds `app` on `host` (undefined: all interfaces) and `port`. A failure to
 * listen (port in use, no permission) rejects with the listen error: the
 * daemon does not start half-observable (SMTP_HEALTH_DISABLE=true runs it
 * without HTTP on purpose).
 */
export function startHttpServer(
  app: Koa,
  host: string | undefined,
  port: number,
  logger: Logger,
): Promise<HttpServerHandle> {
  const handle = app.callback();
  const server = createServer((req, res) => void handle(req, res));
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.close();
      reject(err);
    };
    server.once('error', onError);
    server.listen({ host, port }, () => {
      server.off('error', onError);
      server.on('error', (err) => logger.error({ err }, 'HTTP server error'));
      const address = server.address() as AddressInfo;
      const url = `http://${urlHost(address)}:${address.port}`;
      logger.info({ host: address.address, port: address.port }, 'HTTP server listening');
      resolve({ server, port: address.port, url, close: (graceMs) => closeServer(server, graceMs) });
    });
  });
}

function closeServer(server: Server, graceMs = 1000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
