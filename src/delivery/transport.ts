/**
 * The outbound SMTP client: nodemailer's SMTPConnection with our own
 * connection cache (keyed by address, port, TLS mode and credentials), so
 * consecutive messages to one host reuse a session and idle sessions QUIT
 * after a few seconds.
 *
 * - EHLO name is SMTP_HOSTNAME; STARTTLS is used when offered
 *   (`opportunisticTLS`: a refused STARTTLS continues in clear); the
 *   certificate is checked against the MX host name when
 *   SMTP_OUTBOUND_TLS_VERIFY is true (a failed check defers, never falls
 *   back to clear text).
 * - Relay: `smtps://` is implicit TLS; `smtp://` with credentials REQUIRES
 *   STARTTLS (we never send a password in clear), without credentials it is
 *   opportunistic.
 * - Timeouts on every step: connect, greeting, and socket inactivity (which
 *   covers every command and the DATA stream).
 * - The body is piped as a stream (nodemailer dot-stuffs on the fly); it is
 *   never buffered whole.
 *
 * `sendEnvelope` resolves with a verdict per recipient whenever the server
 * judged the transaction (RCPT replies, the DATA reply, a MAIL FROM refusal)
 * and rejects with a `TransportError` when this host gave no verdict
 * (connection refused, timeout, TLS failure, 421 …): the caller tries the
 * next host.
 */
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import type { Config } from '../config/types.js';
import type { DeliveryOutcome } from '../domain/delivery.js';
import { asSmtpError, classifyError, classifyRcptError, stageOf } from './classify.js';
import type { Classification } from './classify.js';
import { IdlePool } from './idle-pool.js';

export interface SmtpTarget {
  /** Address (or host name) to dial. */
  readonly host: string;
  readonly port: number;
  /** Name for TLS SNI and the certificate check (the MX host name); defaults to `host`. */
  readonly servername?: string;
  /** Implicit TLS from the first byte (smtps://). */
  readonly secure?: boolean;
  /** Refuse to send unless STARTTLS succeeds. */
  readonly requireTls?: boolean;
  readonly auth?: { readonly user: string; readonly pass: string };
}

export interface SendRequest extends SmtpTarget {
  /** Envelope sender; '' is the null sender `<>`. */
  readonly from: string;
  readonly to: readonly string[];
  /** The message bytes, streamed. The transport consumes or destroys it. */
  readonly body: Readable;
  /** Aborting closes the connection (shutdown). */
  readonly signal?: AbortSignal;
}

export interface RecipientResult {
  readonly recipient: string;
  readonly outcome: DeliveryOutcome;
}

export interface SendResult {
  readonly recipients: readonly RecipientResult[];
  /** The session was reused from the connection cache. */
  readonly reused: boolean;
}

/** This host gave no verdict on the message; `classification.scope` is 'host' (or the body failed). */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    readonly classification: Classification,
    readonly target: string,
    override readonly cause?: unknown,
  ) {
    super(`${target}: ${classification.response}`);
  }
}

export interface Transport {
  sendEnvelope(request: SendRequest): Promise<SendResult>;
  /** QUITs idle sessions; sessions in use close when their transaction ends. */
  close(): Promise<void>;
}

export interface TransportOptions {
  /** EHLO name (SMTP_HOSTNAME). */
  readonly hostname: string;
  /** SMTP_OUTBOUND_TLS_VERIFY. */
  readonly tlsVerify: boolean;
  readonly connectionTimeoutMs?: number;
  readonly greetingTimeoutMs?: number;
  /** Inactivity limit on an open session (each command, the DATA stream). */
  readonly socketTimeoutMs?: number;
  /** Idle sessions QUIT after this. */
  readonly idleTimeoutMs?: number;
  readonly maxIdlePerHost?: number;
  /** Sessions QUIT after this many messages. */
  readonly maxMessagesPerConnection?: number;
}

export function transportOptionsFromConfig(config: Config): TransportOptions {
  // keep as many idle connections per host as workers may use at once, so they are reused, not re-dialled
  return { hostname: config.hostname, tlsVerify: config.outboundTlsVerify, maxIdlePerHost: Math.max(10, config.queueWorkers) };
}

/** The relay target from SMTP_RELAY_URL as an `SmtpTarget`. */
export function relayTarget(relay: NonNullable<Config['relay']>): SmtpTarget {
  const auth = relay.user !== undefined ? { user: relay.user, pass: relay.pass ?? '' } : undefined;
  return {
    host: relay.host,
    port: relay.port,
    secure: relay.secure,
    requireTls: !relay.secure && auth !== undefined,
    ...(auth ? { auth } : {}),
  };
}

interface Session {
  readonly conn: SMTPConnection;
  readonly key: string;
  messages: number;
  closed: boolean;
}

type ConnectionOptions = SMTPConnection.Options & { servername?: string };

function describe(target: SmtpTarget): string {
  const name = target.servername && target.servername !== target.host ? `${target.servername}[${target.host}]` : target.host;
  return `${name}:${target.port}`;
}

function keyOf(target: SmtpTarget): string {
  const scheme = target.secure ? 'smtps' : target.requireTls ? 'smtp+tls' : 'smtp';
  return `${scheme}://${target.auth?.user ?? ''}@${target.host}:${target.port}/${target.servername ?? ''}`;
}

function closedError(): Error {
  return Object.assign(new Error('Connection closed'), { code: 'ECONNECTION', command: 'CONN' });
}

function allowsAuth(conn: SMTPConnection): boolean {
  return (conn as unknown as { allowsAuth?: unknown }).allowsAuth === true;
}

function rejectedErrorsOf(err: unknown): readonly unknown[] | undefined {
  if (typeof err !== 'object' || err === null || !('rejectedErrors' in err)) return undefined;
  const list = err.rejectedErrors;
  return Array.isArray(list) ? (list as unknown[]) : undefined;
}

function recipientOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('recipient' in err)) return undefined;
  const r = err.recipient;
  return typeof r === 'string' ? r : undefined;
}

/** Per-recipient outcomes from nodemailer's accepted list, DATA reply and RCPT errors. */
function recipientResults(
  to: readonly string[],
  accepted: readonly string[],
  dataResponse: DeliveryOutcome | undefined,
  rejectedErrors: readonly unknown[],
): RecipientResult[] {
  const rejected = new Map<string, DeliveryOutcome>();
  for (const err of rejectedErrors) {
    const recipient = recipientOf(err);
    if (recipient !== undefined) {
      const c = classifyRcptError(err);
      rejected.set(recipient, { kind: c.kind, response: c.response });
    }
  }
  const acceptedSet = new Set(accepted);
  return to.map((recipient) => {
    const trimmed = recipient.trim();
    const outcome =
      rejected.get(trimmed) ??
      (acceptedSet.has(trimmed) && dataResponse ? dataResponse : undefined) ??
      ({ kind: 'deferred', response: '4.0.0 no reply for this recipient' } satisfies DeliveryOutcome);
    return { recipient, outcome };
  });
}

/** After a failed transaction: is the session still usable (server answered, no 421, body fully sent or never started)? */
function reusableAfter(err: unknown): boolean {
  const e = asSmtpError(err);
  if (e.responseCode === undefined || e.responseCode === 421) return false;
  const stage = stageOf(e.command);
  return stage === 'MAIL' || stage === 'RCPT' || stage === 'DATA';
}

export function createSmtpTransport(options: TransportOptions): Transport {
  const idle = new IdlePool<Session>(
    { idleTimeoutMs: options.idleTimeoutMs ?? 5_000, maxIdlePerKey: options.maxIdlePerHost ?? 10 },
    (session) => quit(session),
  );
  const maxMessages = options.maxMessagesPerConnection ?? 100;
  const busy = new Set<Session>();
  let closing = false;

  function quit(session: Session): void {
    if (session.closed) return;
    session.closed = true;
    try {
      session.conn.quit();
    } catch {
      session.conn.close();
    }
    // QUIT's reply closes it; make sure it goes even if the server never answers.
    setTimeout(() => session.conn.close(), 2_000).unref();
  }

  async function open(target: SmtpTarget & { readonly signal?: AbortSignal }): Promise<Session> {
    const connectionOptions: ConnectionOptions = {
      host: target.host,
      port: target.port,
      secure: target.secure === true,
      requireTLS: target.requireTls === true,
      opportunisticTLS: true,
      name: options.hostname,
      connectionTimeout: options.connectionTimeoutMs ?? 30_000,
      greetingTimeout: options.greetingTimeoutMs ?? 60_000,
      socketTimeout: options.socketTimeoutMs ?? 300_000,
      logger: false,
      tls: {
        rejectUnauthorized: options.tlsVerify,
        ...(target.servername ? { servername: target.servername } : {}),
      },
      ...(target.servername ? { servername: target.servername } : {}),
    };
    const conn = new SMTPConnection(connectionOptions);
    const session: Session = { conn, key: keyOf(target), messages: 0, closed: false };
    // nodemailer emits 'error' as an event; an unhandled one would crash the daemon.
    conn.on('error', () => undefined);
    conn.once('end', () => {
      session.closed = true;
      idle.forget(session);
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        conn.off('end', onEnd);
        reject(err);
      };
      const onEnd = (): void => {
        conn.off('error', onError);
        reject(closedError());
      };
      // shutdown while still connecting or waiting for the greeting: hang up now
      const onAbort = (): void => conn.close();
      target.signal?.addEventListener('abort', onAbort, { once: true });
      conn.once('error', onError);
      conn.once('end', onEnd);
      conn.connect(() => {
        noDelay(conn);
        target.signal?.removeEventListener('abort', onAbort);
        conn.off('error', onError);
        conn.off('end', onEnd);
        resolve();
      });
    });
    if (target.auth) {
      if (!allowsAuth(conn)) {
        conn.close();
        throw Object.assign(new Error('the server does not offer AUTH'), { code: 'EAUTH', command: 'AUTH' });
      }
      const credentials = { user: target.auth.user, pass: target.auth.pass };
      await new Promise<void>((resolve, reject) => {
        conn.login({ credentials }, (err) => (err ? reject(err) : resolve()));
      }).catch((err: unknown) => {
        conn.close();
        throw err;
      });
    }
    return session;
  }

  function transfer(session: Session, request: SendRequest): Promise<SMTPConnection.SentMessageInfo> {
    const { conn } = session;
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (err: Error | undefined, info?: SMTPConnection.SentMessageInfo): void => {
        if (settled) return;
        settled = true;
        conn.off('error', onError);
        conn.off('end', onEnd);
        request.signal?.removeEventListener('abort', onAbort);
        if (info) resolve(info);
        else reject(err ?? new Error('send failed'));
      };
      const onError = (err: Error): void => finish(err);
      const onEnd = (): void => finish(closedError());
      const onAbort = (): void => {
        conn.close();
        finish(Object.assign(new Error('delivery aborted (shutdown)'), { code: 'ECONNECTION', command: 'CONN' }));
      };
      conn.on('error', onError);
      conn.once('end', onEnd);
      request.signal?.addEventListener('abort', onAbort, { once: true });
      noDelay(conn); // the socket may have been replaced by STARTTLS
      conn.send({ from: request.from, to: [...request.to] }, request.body, (err, info) =>
        err ? finish(err) : finish(undefined, info),
      );
    });
  }

  async function sendEnvelope(request: SendRequest): Promise<SendResult> {
    const target = describe(request);
    const key = keyOf(request);
    let session: Session | undefined;
    let reused = false;
    try {
      if (request.signal?.aborted) throw Object.assign(new Error('delivery aborted (shutdown)'), { code: 'ECONNECTION' });
      session = closing ? undefined : idle.take(key);
      while (session?.closed) session = idle.take(key);
      reused = session !== undefined;
      session ??= await open(request);
      busy.add(session);
      session.messages += 1;
      const info = await transfer(session, request);
      release(session, true);
      const delivered: DeliveryOutcome = { kind: 'delivered', response: info.response.trim() };
      return { reused, recipients: recipientResults(request.to, info.accepted, delivered, info.rejectedErrors ?? []) };
    } catch (err) {
      if (session) release(session, reusableAfter(err));
      const perRecipient = rejectedErrorsOf(err);
      if (perRecipient && perRecipient.length > 0) {
        // Every recipient was refused at RCPT: each keeps its own reply.
        return { reused, recipients: recipientResults(request.to, [], undefined, perRecipient) };
      }
      const classification = classifyError(err);
      if (classification.scope === 'host' || asSmtpError(err).code === 'ESTREAM') {
        throw new TransportError(classification, target, err);
      }
      const outcome: DeliveryOutcome = { kind: classification.kind, response: classification.response };
      return { reused, recipients: request.to.map((recipient) => ({ recipient, outcome })) };
    } finally {
      request.body.destroy();
    }
  }

  function release(session: Session, reusable: boolean): void {
    busy.delete(session);
    if (!reusable || session.closed || closing || session.messages >= maxMessages) {
      if (reusable && !session.closed) quit(session);
      else {
        session.closed = true;
        session.conn.close();
      }
      return;
    }
    if (session.conn.lastServerResponse !== false && reusableNeedsReset(session)) {
      // After a refused transaction: RSET before parking, as RFC 5321 §4.1.1.5 suggests.
      session.conn.reset((err) => {
        if (err) {
          session.closed = true;
          session.conn.close();
        } else if (!session.closed && !closing) {
          idle.put(session.key, session);
        }
      });
      return;
    }
    idle.put(session.key, session);
  }

  // A session whose last transaction ended without a 2xx DATA reply gets RSET.
  function reusableNeedsReset(session: Session): boolean {
    const last = session.conn.lastServerResponse;
    return typeof last === 'string' && !/^2/.test(last.trim());
  }

  return {
    sendEnvelope,
    close: async () => {
      closing = true;
      idle.clear();
      await Promise.resolve();
    },
  };
}

/**
 * Turns Nagle's algorithm off on a connection's socket. nodemailer writes the
 * message and the final "." separately; with Nagle on, the dot waits for the
 * peer's delayed ACK (~40 ms), which capped each connection at ~20 messages/s.
 */
function noDelay(conn: SMTPConnection): void {
  const socket = (conn as unknown as { _socket?: Socket })._socket;
  socket?.setNoDelay?.(true);
}
