/**
 * The outbound SMTP transport: sends one envelope to one host over a session
 * from the connection pool (connection-pool.ts), opening one (smtp/session.ts)
 * when none is parked for the host, its port, TLS mode and credentials.
 *
 * In: a `SendRequest` (where, as whom, the envelope, the body stream, a
 * shutdown signal). Out: a verdict per recipient whenever the server judged
 * the transaction (RCPT replies, the DATA reply, a MAIL FROM refusal), or a
 * `TransportError` when this host gave no verdict (connection refused,
 * timeout, TLS failure, 421 …): the caller tries the next host.
 *
 * - EHLO name is SMTP_HOSTNAME; STARTTLS is used when offered (a refused
 *   STARTTLS continues in clear); the certificate is checked against the MX
 *   host name when SMTP_OUTBOUND_TLS_VERIFY is true (a failed check defers,
 *   never falls back to clear text).
 * - Relay: `smtps://` is implicit TLS; `smtp://` with credentials REQUIRES
 *   STARTTLS (we never send a password in clear), without credentials it is
 *   opportunistic.
 * - Timeouts on every step: connect, greeting, and socket inactivity (which
 *   covers every command and the DATA stream).
 * - PIPELINING when offered: a small message costs two writes.
 *
 * (nodemailer's SMTPConnection did this before; it writes every command
 * separately and never pipelines MAIL, RCPT and DATA, which cost a socket
 * write and a read per command on every message.)
 */
import type { Config } from '../config/types.js';
import type { DeliveryOutcome } from '../domain/delivery.js';
import type { EnvelopeDsn } from '../domain/dsn.js';
import { classifyError } from './classify.js';
import type { Classification } from './classify.js';
import { ConnectionPool, type PooledSession } from './connection-pool.js';
import { SmtpClientError } from './smtp/errors.js';
import { replyText } from './smtp/reply.js';
import { SmtpSession, type TransactionResult } from './smtp/session.js';
import { hangUpOf, recipientResults, type RecipientResult } from './transaction-verdict.js';

export type { RecipientResult } from './transaction-verdict.js';

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
  /** The message bytes, streamed (read once). */
  readonly body: AsyncIterable<Buffer>;
  /** The message's size, announced with SIZE when the server takes it. */
  readonly size?: number;
  /** DSN parameters (RFC 3461), passed on when the server offers DSN. */
  readonly dsn?: EnvelopeDsn;
  /** Aborting closes the connection (shutdown). */
  readonly signal?: AbortSignal;
}

export interface SendResult {
  readonly recipients: readonly RecipientResult[];
  /** The session was reused from the connection cache. */
  readonly reused: boolean;
  /** How long the transaction took (MAIL FROM to the DATA reply), ms; absent when it never ran. */
  readonly transmitMs?: number;
  /** The server offers DSN (so it took over any notices the recipients asked for). */
  readonly dsn?: boolean;
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
  /** Sessions QUIT after this many messages (default 1,000) … */
  readonly maxMessagesPerConnection?: number;
  /** … or once they are this old (default 300 s, Postfix's smtp_connection_reuse_time_limit). */
  readonly maxConnectionAgeMs?: number;
}

export function transportOptionsFromConfig(config: Config): TransportOptions {
  // keep as many idle connections per host as workers may use at once, so they are reused, not re-dialled
  return {
    hostname: config.hostname,
    tlsVerify: config.outboundTlsVerify,
    maxIdlePerHost: Math.max(10, config.queueWorkers),
  };
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

function describe(target: SmtpTarget): string {
  const name =
    target.servername && target.servername !== target.host ? `${target.servername}[${target.host}]` : target.host;
  return `${name}:${target.port}`;
}

function keyOf(target: SmtpTarget): string {
  const scheme = target.secure ? 'smtps' : target.requireTls ? 'smtp+tls' : 'smtp';
  return `${scheme}://${target.auth?.user ?? ''}@${target.host}:${target.port}/${target.servername ?? ''}`;
}

export function createSmtpTransport(options: TransportOptions): Transport {
  return new SmtpTransport(options);
}

/** The transport over its connection pool; each step below is one stage of sending an envelope. */
export class SmtpTransport implements Transport {
  private readonly pool: ConnectionPool;

  constructor(private readonly options: TransportOptions) {
    this.pool = new ConnectionPool({
      idleTimeoutMs: options.idleTimeoutMs ?? 5_000,
      maxIdlePerKey: options.maxIdlePerHost ?? 10,
      maxMessages: options.maxMessagesPerConnection ?? 1_000,
      maxAgeMs: options.maxConnectionAgeMs ?? 300_000,
    });
  }

  async sendEnvelope(request: SendRequest): Promise<SendResult> {
    const key = keyOf(request);
    let pooled: PooledSession | undefined;
    try {
      if (request.signal?.aborted) throw new SmtpClientError('ECONNECTION', 'delivery aborted (shutdown)', 'CONN');
      pooled = this.pool.take(key);
      const reused = pooled !== undefined;
      pooled ??= this.pool.adopt(key, await this.open(request));
      const began = performance.now();
      const result = await this.transact(pooled.session, request);
      const transmitMs = Math.round(performance.now() - began);
      const hangUp = hangUpOf(result);
      if (hangUp)
        throw new SmtpClientError(
          'EREPLY',
          `the server is closing: ${replyText(hangUp)}`,
          hangUp === result.data ? 'DATA' : 'RCPT TO',
          hangUp,
        );
      this.pool.release(pooled, result.data ? 'done' : 'reset');
      return { reused, recipients: recipientResults(request.to, result), transmitMs, dsn: result.dsn };
    } catch (err) {
      return this.noVerdict(err, pooled, request);
    }
  }

  /** QUITs idle sessions; sessions in use close when their transaction ends. */
  /** Sessions parked for the next message (after a transaction, or once its RSET was answered). */
  get parkedSessions(): number {
    return this.pool.parked;
  }

  async close(): Promise<void> {
    this.pool.close();
    await Promise.resolve();
  }

  /** A new session to the request's host, ready for transactions. */
  private open(request: SendRequest): Promise<SmtpSession> {
    const o = this.options;
    return SmtpSession.open({
      host: request.host,
      port: request.port,
      ...(request.servername ? { servername: request.servername } : {}),
      secure: request.secure === true,
      requireTls: request.requireTls === true,
      tlsVerify: o.tlsVerify,
      ...(request.auth ? { auth: request.auth } : {}),
      name: o.hostname,
      connectTimeoutMs: o.connectionTimeoutMs ?? 30_000,
      greetingTimeoutMs: o.greetingTimeoutMs ?? 60_000,
      socketTimeoutMs: o.socketTimeoutMs ?? 300_000,
      ...(request.signal ? { signal: request.signal } : {}),
    });
  }

  /** The transaction on `session`; aborting the request closes the session. */
  private async transact(session: SmtpSession, request: SendRequest): Promise<TransactionResult> {
    const onAbort = (): void => session.close();
    request.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const { from, to, size, dsn } = request;
      return await session.send(
        { from, to, ...(size === undefined ? {} : { size }), ...(dsn === undefined ? {} : { dsn }) },
        request.body,
      );
    } finally {
      request.signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * The transaction failed: a failure of the host (or of the body) is a
   * `TransportError`, for the next host; a refusal of the whole transaction
   * (MAIL FROM, or an envelope we would not send) is every recipient's outcome.
   */
  private noVerdict(err: unknown, pooled: PooledSession | undefined, request: SendRequest): SendResult {
    const classification = classifyError(err);
    const host = classification.scope === 'host' || (err instanceof SmtpClientError && err.code === 'ESTREAM');
    if (pooled) this.pool.release(pooled, host ? 'broken' : 'reset');
    if (host) throw new TransportError(classification, describe(request), err);
    const outcome: DeliveryOutcome = { kind: classification.kind, response: classification.response };
    return { reused: false, recipients: request.to.map((recipient) => ({ recipient, outcome })) };
  }
}
