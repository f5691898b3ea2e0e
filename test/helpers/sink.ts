/**
 * Local SMTP sinks for delivery tests: real smtp-server instances on
 * 127.0.0.1 (ephemeral port unless `port` is given) that record every
 * envelope and the exact message bytes, with switchable behaviours:
 *
 *   startSink()                                  accept everything
 *   startSink({ tempFailFirst: 1 })              451 at end of DATA once, then accept
 *   startSink({ rcpt: (a) => a.startsWith('bad') ? { code: 550, message: '5.1.1 No such user' } : undefined })
 *   startSink({ tls: 'starttls' })               STARTTLS with a self-signed certificate
 *   startSink({ tls: 'implicit', auth: { user, pass } })  smtps:// with AUTH required
 *   startSink({ hang: true })                    accepts TCP and never says a word
 *   startSink({ recordWire: true })              also keeps every byte clients send (`wire()`), before any parsing
 *   startSink({ dsn: false })                    does not offer DSN in EHLO (offered by default)
 *   startSink({ limits: { rcptMax: 2, mailMax: 3 } })  advertises LIMITS (RFC 9422) and enforces it
 *   startSink({ tls: 'starttls', requiretls: true })  advertises REQUIRETLS (RFC 8689) once the session is TLS
 *   startSink({ tls: 'starttls', certificate, host: '127.0.0.2', port })  this certificate, on that address
 *
 * Without `tls`, STARTTLS is not offered at all.
 */
import { connect, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { generate } from 'selfsigned';
import { SMTPServer } from 'smtp-server';
import type { SMTPServerOptions, SMTPServerSession } from 'smtp-server';
import { patchSmtpServer } from '../../src/inbound/patches.js';

export interface SinkReply {
  readonly code: number;
  readonly message: string;
}

export interface SinkMessage {
  readonly from: string;
  readonly to: readonly string[];
  /** Exactly the bytes received (after SMTP dot-unstuffing). */
  readonly raw: Buffer;
  /** smtp-server's session id: one per TCP connection. */
  readonly connectionId: string;
  readonly secure: boolean;
  readonly user: string | undefined;
  readonly heloName: string;
  /** The transaction's command lines as the sink read them: MAIL FROM, each RCPT TO, DATA. */
  readonly commands: readonly string[];
}

export interface SinkOptions {
  /** Listen on this port (e.g. a port a test reserved while the sink was "down"). */
  readonly port?: number;
  /** Listen on this loopback address (127.0.0.2 …) instead of 127.0.0.1: several sinks on one port. */
  readonly host?: string;
  /** The certificate for `tls` instead of the self-signed one for localhost. */
  readonly certificate?: { readonly key: string; readonly cert: string };
  /** Reply to RCPT TO per address; `undefined` accepts. */
  readonly rcpt?: (address: string, session: SMTPServerSession) => SinkReply | undefined;
  /** Reply at end of DATA; `undefined` accepts (after `tempFailFirst`). */
  readonly data?: (transaction: number) => SinkReply | undefined;
  /** Answer `451 4.3.0` at end of DATA for the first N transactions. */
  readonly tempFailFirst?: number;
  /** `starttls`: offer STARTTLS with a self-signed cert; `implicit`: TLS from the first byte (smtps). */
  readonly tls?: 'starttls' | 'implicit';
  /** Require AUTH PLAIN/LOGIN with these credentials before MAIL. */
  readonly auth?: { readonly user: string; readonly pass: string };
  /** Accept connections and never reply (greeting timeouts). */
  readonly hang?: boolean;
  /** Accept RCPT/DATA only after this many ms (slow server). */
  readonly delayMs?: number;
  /** `false`: count bytes but keep no message bodies (`raw` is empty), for big messages. */
  readonly keepBodies?: boolean;
  /**
   * Advertise `LIMITS RCPTMAX=… MAILMAX=…` in EHLO (RFC 9422) and enforce it: the RCPT past RCPTMAX gets
   * `452 4.5.3`, the MAIL past MAILMAX on a connection `451 4.5.3`.
   */
  readonly limits?: { readonly rcptMax?: number; readonly mailMax?: number };
  /** Holds the end-of-DATA answer of transaction `n` (1-based) until the promise settles. */
  readonly beforeDataReply?: (transaction: number) => Promise<void>;
  /** Keep the exact bytes each client connection sent (a TCP relay in front of the server records them). */
  readonly recordWire?: boolean;
  /** `false`: DSN is not offered in EHLO (smtp-server offers it by default). */
  readonly dsn?: boolean;
  /** Offer REQUIRETLS (RFC 8689) in the EHLO after STARTTLS (smtp-server hides it by default). */
  readonly requiretls?: boolean;
}

export interface Sink {
  readonly host: string;
  readonly port: number;
  readonly messages: SinkMessage[];
  /** TCP connections accepted so far. */
  readonly connections: () => number;
  /** SMTP sessions that have ended (client QUIT or hung up) so far. */
  readonly sessionsClosed: () => number;
  /** MAIL commands answered so far, refused ones too. */
  readonly mailCommands: () => number;
  /** Transactions that reached the end of DATA (accepted or not). */
  readonly transactions: () => number;
  /** Message bytes received so far over all transactions (counted while streaming). */
  readonly bytesReceived: () => number;
  /** Transactions open now per recipient domain: from their first accepted RCPT until the end-of-DATA answer. */
  readonly activeByDomain: (domain: string) => number;
  /** The most transactions ever open at once per recipient domain. */
  readonly peakByDomain: (domain: string) => number;
  /** With `recordWire`: the bytes each connection sent, as they came off the socket (commands, DATA, dots). */
  readonly wire: () => Buffer[];
  /** Resolves when at least `count` messages were accepted; rejects after `timeoutMs`. */
  waitForMessages(count: number, timeoutMs?: number): Promise<SinkMessage[]>;
  close(): Promise<void>;
}

let certificate: Promise<{ key: string; cert: string }> | undefined;

/**
 * One self-signed certificate per test process (RSA: generating keys is slow;
 * EC fails here because npm installed several copies of @peculiar/asn1-schema).
 */
export function sinkCertificate(): Promise<{ key: string; cert: string }> {
  certificate ??= generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  }).then((pems) => ({ key: pems.private, cert: pems.cert }));
  return certificate;
}

function smtpError(reply: SinkReply): Error {
  return Object.assign(new Error(reply.message), { responseCode: reply.code });
}

function waitUntil<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = (): void => {
      const value = check();
      if (value !== undefined) return resolve(value);
      if (Date.now() - started > timeoutMs)
        return reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      setTimeout(poll, 10);
    };
    poll();
  });
}

async function startHangingSink(port: number): Promise<Sink> {
  const sockets = new Set<Socket>();
  let connections = 0;
  let closed = 0;
  const server: Server = createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed += 1;
      sockets.delete(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return {
    host: '127.0.0.1',
    port: address.port,
    messages: [],
    connections: () => connections,
    sessionsClosed: () => closed,
    mailCommands: () => 0,
    transactions: () => 0,
    bytesReceived: () => 0,
    activeByDomain: () => 0,
    peakByDomain: () => 0,
    wire: () => [],
    waitForMessages: () => Promise.reject(new Error('a hanging sink never receives messages')),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export async function startSink(options: SinkOptions = {}): Promise<Sink> {
  if (options.hang) return startHangingSink(options.port ?? 0);
  const messages: SinkMessage[] = [];
  let connections = 0;
  let sessionsClosed = 0;
  let transactions = 0;
  let bytes = 0;
  const active = new Map<string, number>();
  const peak = new Map<string, number>();
  /** The domain each session's open transaction counts against (one per transaction: its first recipient's). */
  const openIn = new Map<string, string>();
  const open = (session: SMTPServerSession, address: string): void => {
    if (openIn.has(session.id)) return;
    const domain = address.slice(address.lastIndexOf('@') + 1).toLowerCase();
    openIn.set(session.id, domain);
    const now = (active.get(domain) ?? 0) + 1;
    active.set(domain, now);
    peak.set(domain, Math.max(peak.get(domain) ?? 0, now));
  };
  const shut = (session: SMTPServerSession): void => {
    const domain = openIn.get(session.id);
    if (domain === undefined) return;
    openIn.delete(session.id);
    active.set(domain, (active.get(domain) ?? 1) - 1);
  };
  const delay = (): Promise<void> =>
    options.delayMs ? new Promise((resolve) => setTimeout(resolve, options.delayMs)) : Promise.resolve();

  /** Per session: the command lines of its current transaction (from MAIL FROM on). */
  const lines = new Map<string, string[]>();
  const logLine = (entry: { tnx?: string; cid?: string }, _message: unknown, line: unknown): void => {
    if (entry.tnx !== 'command' || entry.cid === undefined || typeof line !== 'string') return;
    if (/^MAIL /i.test(line)) lines.set(entry.cid, []);
    lines.get(entry.cid)?.push(line);
  };
  const quiet = (): void => undefined;
  const tls = options.tls ? (options.certificate ?? (await sinkCertificate())) : undefined;
  const mails = new Map<string, number>(); // MAIL commands per connection (session id)
  let mailCommands = 0;
  const { limits } = options;
  // the daemon's smtp-server patches add the `ehloExtensions` lines (LIMITS, which smtp-server does not know)
  if (limits) patchSmtpServer();
  const advertised = limits
    ? [
        `LIMITS${limits.rcptMax ? ` RCPTMAX=${limits.rcptMax}` : ''}${limits.mailMax ? ` MAILMAX=${limits.mailMax}` : ''}`,
      ]
    : [];
  const serverOptions: SMTPServerOptions & { ehloExtensions: string[] } = {
    ehloExtensions: advertised,
    hideDSN: options.dsn === false,
    hideREQUIRETLS: options.requiretls !== true,
    secure: options.tls === 'implicit',
    ...(tls ? { key: tls.key, cert: tls.cert } : {}),
    disabledCommands: [...(options.tls ? [] : ['STARTTLS']), ...(options.auth ? [] : ['AUTH'])],
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: !options.auth,
    allowInsecureAuth: false,
    logger: { debug: logLine, info: quiet, warn: quiet, error: quiet, trace: quiet, fatal: quiet },
    closeTimeout: 200,
    size: 50 * 1024 * 1024,
    onConnect(_session, callback) {
      connections += 1;
      callback();
    },
    onClose(session) {
      sessionsClosed += 1;
      lines.delete(session.id);
      shut(session);
    },
    onAuth(auth, _session, callback) {
      if (options.auth && auth.username === options.auth.user && auth.password === options.auth.pass) {
        callback(null, { user: auth.username });
      } else {
        callback(smtpError({ code: 535, message: '5.7.8 Authentication credentials invalid' }));
      }
    },
    onMailFrom(_address, session, callback) {
      mailCommands += 1;
      const count = (mails.get(session.id) ?? 0) + 1;
      mails.set(session.id, count);
      const over = limits?.mailMax !== undefined && count > limits.mailMax;
      callback(over ? smtpError({ code: 451, message: '4.5.3 Too many messages on this connection' }) : undefined);
    },
    onRcptTo(address, session, callback) {
      void delay().then(() => {
        const tooMany = limits?.rcptMax !== undefined && session.envelope.rcptTo.length >= limits.rcptMax;
        const reply = tooMany
          ? { code: 452, message: '4.5.3 Too many recipients' }
          : options.rcpt?.(address.address, session);
        if (!reply) open(session, address.address);
        callback(reply ? smtpError(reply) : undefined);
      });
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (options.keepBodies !== false) chunks.push(chunk);
      });
      stream.on('end', () => {
        void delay().then(async () => {
          transactions += 1;
          const n = transactions;
          await options.beforeDataReply?.(n);
          shut(session);
          if (n <= (options.tempFailFirst ?? 0)) {
            callback(smtpError({ code: 451, message: '4.3.0 Try again later' }));
            return;
          }
          const reply = options.data?.(n);
          if (reply) {
            callback(smtpError(reply));
            return;
          }
          const from = session.envelope.mailFrom;
          messages.push({
            from: from === false ? '' : from.address,
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks),
            connectionId: session.id,
            secure: session.secure,
            user: typeof session.user === 'string' ? session.user : undefined,
            heloName: session.hostNameAppearsAs,
            commands: [...(lines.get(session.id) ?? [])],
          });
          callback(null, `2.0.0 Ok: queued as sink-${n}`);
        });
      });
    },
  };
  const server = new SMTPServer(serverOptions);
  server.on('error', () => undefined);
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, host, () => resolve()));
  const address = server.server.address() as AddressInfo;
  const relay = options.recordWire ? await recordingRelay(address.port, host) : undefined;
  return {
    host: relay ? '127.0.0.1' : host,
    port: relay?.port ?? address.port,
    messages,
    connections: () => connections,
    sessionsClosed: () => sessionsClosed,
    mailCommands: () => mailCommands,
    transactions: () => transactions,
    bytesReceived: () => bytes,
    activeByDomain: (domain) => active.get(domain) ?? 0,
    peakByDomain: (domain) => peak.get(domain) ?? 0,
    wire: () => relay?.wire() ?? [],
    waitForMessages: (count, timeoutMs = 10_000) =>
      waitUntil(() => (messages.length >= count ? messages : undefined), timeoutMs, `${count} message(s) at the sink`),
    close: async () => {
      await relay?.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface RecordingRelay {
  readonly port: number;
  readonly wire: () => Buffer[];
  close(): Promise<void>;
}

/** A TCP relay on an ephemeral port to `port` that keeps what each client sends, byte for byte. */
async function recordingRelay(port: number, host: string): Promise<RecordingRelay> {
  const received: Buffer[][] = [];
  const sockets = new Set<Socket>();
  const relay = createServer((client) => {
    const chunks: Buffer[] = [];
    received.push(chunks);
    const upstream = connect(port, host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (chunk: Buffer) => chunks.push(chunk));
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  return {
    port: (relay.address() as AddressInfo).port,
    wire: () => received.map((chunks) => Buffer.concat(chunks)),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        relay.close(() => resolve());
      }),
  };
}

/** A port nobody listens on right now (to start a sink on later). */
export async function reservePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
