/**
 * Getting a socket for an outbound session (src/delivery/smtp/dial.ts)
 * against real servers on ephemeral ports: a TLS server with a certificate
 * from the test CA, and a TCP server that accepts and never says a word (so
 * a TLS handshake never ends). Each failure has its own code, step and
 * words; a socket handed out carries none of dial's listeners.
 */
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dial, upgradeToTls, type DialOptions } from '../../src/delivery/smtp/dial.js';
import { testCa, type TestCa } from '../helpers/pki.js';
import { freePort } from '../helpers/ports.js';

let ca: TestCa;
let tlsPort: number;
let silentPort: number;
let closedPort: number;
const servers: Server[] = [];
/** Every connection any of them took, hung up after the tests. */
const connections = new Set<Socket>();
/** Server-side sockets of the silent server, in order of arrival. */
const silentSockets: Socket[] = [];

async function listen(server: Server): Promise<number> {
  servers.push(server);
  server.on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

beforeAll(async () => {
  ca = await testCa();
  const pem = await ca.issue('mx.good.test');
  tlsPort = await listen(
    createTlsServer({ key: pem.key, cert: pem.cert }, (socket) => {
      socket.on('error', () => undefined);
      socket.end('220 mx.good.test ESMTP\r\n');
    }),
  );
  silentPort = await listen(
    createTcpServer((socket) => {
      socket.on('error', () => undefined);
      socket.resume();
      silentSockets.push(socket);
    }),
  );
  closedPort = await freePort(); // connecting to it is refused
});

afterAll(async () => {
  for (const s of connections) s.destroy();
  for (const s of servers) await new Promise<void>((resolve) => s.close(() => resolve()));
});

function options(port: number, extra: Partial<DialOptions> = {}): DialOptions {
  return { host: '127.0.0.1', port, tlsVerify: true, connectTimeoutMs: 2_000, ...extra };
}

const closedByPeer = (socket: Socket): Promise<void> =>
  new Promise((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));

describe('dial', () => {
  it('checks the certificate against the name and CAs given, not the address dialled', async () => {
    const socket = (await dial(
      options(tlsPort, { secure: true, servername: 'mx.good.test', ca: [ca.cert] }),
    )) as TLSSocket;
    expect(socket.authorized).toBe(true);
    expect(socket.listenerCount('error')).toBe(0);
    socket.destroy();

    // without the test CA the same certificate does not verify
    await expect(dial(options(tlsPort, { secure: true, servername: 'mx.good.test' }))).rejects.toMatchObject({
      code: 'ETLS',
      command: 'CONN',
    });
    // the name defaults to the host: 127.0.0.1 is not the certificate's name
    await expect(dial(options(tlsPort, { secure: true, ca: [ca.cert] }))).rejects.toMatchObject({
      code: 'ETLS',
      command: 'CONN',
      message: expect.stringMatching(/127\.0\.0\.1/),
    });
  });

  it('refuses an implicit-TLS certificate that no TLSA record names (DANE), before the session starts', async () => {
    const error = await dial(
      options(tlsPort, {
        secure: true,
        servername: 'mx.good.test',
        ca: [ca.cert],
        tlsa: {
          base: `_${tlsPort}._tcp.mx.good.test`,
          names: ['mx.good.test'],
          records: [{ usage: 3, selector: 1, mtype: 1, data: Buffer.alloc(32, 7) }],
        },
      }),
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ETLS', command: 'CONN', message: expect.stringMatching(/^DANE: /) });
    expect((error as Error).cause).toMatchObject({ code: 'ERR_DANE_CERTIFICATE_MISMATCH' });
  });

  it('gives up connecting after the connect timeout, hanging up', async () => {
    const before = silentSockets.length;
    const error = await dial(options(silentPort, { secure: true, connectTimeoutMs: 150 })).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'ETIMEDOUT',
      command: 'CONN',
      message: `connecting to 127.0.0.1:${silentPort} took longer than 150 ms`,
    });
    const serverSide = silentSockets[before];
    expect(serverSide).toBeDefined();
    if (serverSide) await closedByPeer(serverSide);
  });

  it('names a refused connection ECONNECTION, and a TLS handshake with a server speaking clear text ETLS', async () => {
    await expect(dial(options(closedPort))).rejects.toMatchObject({ code: 'ECONNECTION', command: 'CONN' });
    await expect(dial(options(closedPort, { secure: true }))).rejects.toMatchObject({
      code: 'ECONNECTION',
      command: 'CONN',
    });
    const clear = createTcpServer((socket) => {
      socket.on('error', () => undefined);
      socket.end('220 mx.test ESMTP in clear\r\n');
    });
    const port = await listen(clear);
    await expect(dial(options(port, { secure: true }))).rejects.toMatchObject({ code: 'ETLS', command: 'CONN' });
  });

  it('does not connect once shut down, and hangs up when shut down while connecting', async () => {
    const aborted = new AbortController();
    aborted.abort();
    const before = silentSockets.length;
    await expect(dial(options(silentPort, { signal: aborted.signal }))).rejects.toMatchObject({
      code: 'ECONNECTION',
      command: 'CONN',
      message: 'delivery aborted (shutdown)',
    });

    const shutdown = new AbortController();
    const dialling = dial(options(silentPort, { secure: true, signal: shutdown.signal })).catch((e: unknown) => e);
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (silentSockets.length > before) resolve();
        else setImmediate(check);
      };
      check();
    });
    // only the second dial reached the server: the first never connected
    expect(silentSockets.length).toBe(before + 1);
    shutdown.abort();
    expect(await dialling).toMatchObject({
      code: 'ECONNECTION',
      command: 'CONN',
      message: 'delivery aborted (shutdown)',
    });
    const serverSide = silentSockets[before];
    if (serverSide) await closedByPeer(serverSide);
  });

  it('lets go of the shutdown signal once connected: a later shutdown does not touch the socket', async () => {
    const shutdown = new AbortController();
    const socket = await dial(options(silentPort, { signal: shutdown.signal }));
    shutdown.abort();
    expect(socket.destroyed).toBe(false);
    expect(socket.listenerCount('error')).toBe(0);
    socket.destroy();
  });
});

describe('upgradeToTls', () => {
  it('gives up a handshake that does not finish in time', async () => {
    const plain = await dial(options(silentPort));
    await expect(upgradeToTls(plain, { host: '127.0.0.1', tlsVerify: false }, 150)).rejects.toMatchObject({
      code: 'ETIMEDOUT',
      command: 'STARTTLS',
      message: 'TLS handshake took longer than 150 ms',
    });
    expect(plain.destroyed).toBe(true);
  });

  it('names a failed handshake ETLS at STARTTLS, and hands out a verified socket with none of its listeners', async () => {
    const refused = await dial(options(tlsPort));
    await expect(upgradeToTls(refused, { host: '127.0.0.1', tlsVerify: true }, 2_000)).rejects.toMatchObject({
      code: 'ETLS',
      command: 'STARTTLS',
    });
    const plain = await dial(options(tlsPort));
    const secure = (await upgradeToTls(
      plain,
      { host: '127.0.0.1', servername: 'mx.good.test', tlsVerify: true, ca: [ca.cert] },
      2_000,
    )) as TLSSocket;
    expect(secure.authorized).toBe(true);
    expect(secure.listenerCount('error')).toBe(0);
    secure.destroy();
  });
});
