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
 *   STARTTLS (never a password in clear), without them it is opportunistic.
 * - Timeouts on every step: connect, greeting, and socket inactivity (which
 *   covers every command and the DATA stream).
 * - PIPELINING when offered: a small message costs two writes.
 * - LIMITS (RFC 9422) when offered: recipients split by RCPTMAX into
 *   transactions on the session, a new session after MAILMAX; recipients
 *   refused with `452 4.5.3` go in a new transaction at once.
 * (Not nodemailer's SMTPConnection: it never pipelines MAIL, RCPT and DATA.)
 */
import { Readable } from 'node:stream';
import type { EnvelopeDsn } from '../domain/dsn.js';
import type { TlsaAuthentication } from './tls/tlsa.js';
import { keyOf, targetLabel } from './target-key.js';
import { classifyError, type Classification } from './classify.js';
import { ConnectionPool, type PooledSession } from './connection-pool.js';
import { SmtpClientError } from './smtp/errors.js';
import { replyText } from './smtp/reply.js';
import { SmtpSession, type TransactionResult } from './smtp/session.js';
import type { TlsInfo } from './smtp/wire.js';
import { nextBatch, recipientsToResend } from './recipient-batches.js';
import {
  hangUpOf,
  isHostFailure,
  laterFailure,
  recipientResults,
  type RecipientResult,
  type Transaction,
} from './transaction-verdict.js';

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
  /** Check the certificate (true) or take any (false); SMTP_OUTBOUND_TLS_VERIFY when absent. */
  readonly tlsVerify?: boolean;
  /** DANE: authenticate the certificate by these TLSA records instead of by certificate authorities. */
  readonly tlsa?: TlsaAuthentication;
  readonly auth?: { readonly user: string; readonly pass: string };
}

export interface SendRequest extends SmtpTarget {
  /** Envelope sender; '' is the null sender `<>`. */
  readonly from: string;
  readonly to: readonly string[];
  /** The message bytes, streamed (read once, by the first transaction). */
  readonly body: AsyncIterable<Buffer>;
  /** The message again for a further transaction (RCPTMAX split, `452 4.5.3`); without it those wait. */
  readonly reopenBody?: () => Promise<AsyncIterable<Buffer>>;
  /** The message's size, announced with SIZE when the server takes it. */
  readonly size?: number;
  /** DSN parameters (RFC 3461), passed on when the server offers DSN. */
  readonly dsn?: EnvelopeDsn;
  /** MAIL FROM's REQUIRETLS (RFC 8689): the check the session's TLS must pass; the server must offer it. */
  readonly requiretls?: (tls: TlsInfo | undefined) => boolean;
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
  /** The session's TLS (protocol, whether the certificate verified); absent in clear. */
  readonly tls?: TlsInfo;
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
  /** Trusted CAs: the system's plus SMTP_OUTBOUND_CA_FILE's; node's own when absent. */
  readonly ca?: readonly string[];
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

export { relayTarget, transportOptionsFromConfig, trustedCas } from './transport-config.js';

/** Lets go of a body left unread (refused before DATA, broken off), so a spool file's descriptor is closed. */
function letGo(body: AsyncIterable<Buffer>): void {
  if (body instanceof Readable) body.destroy();
  else
    void body[Symbol.asyncIterator]()
      .return?.()
      ?.catch(() => undefined);
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

  /**
   * The envelope in as many transactions as the host needs (split by its RCPTMAX, again at once after a
   * `452 4.5.3`), each on a pooled session (a new one after MAILMAX). A failure before any verdict is as
   * before (next host, or every recipient's outcome); after some, it is only the waiting recipients'.
   */
  async sendEnvelope(request: SendRequest): Promise<SendResult> {
    const verdicts: RecipientResult[] = [];
    let pending: readonly string[] = request.to;
    let body: AsyncIterable<Buffer> | undefined = request.body;
    let reused: boolean | undefined;
    let transmitMs = 0;
    let dsn = false;
    let tls: TlsInfo | undefined;
    while (pending.length > 0) {
      let step: Transaction;
      try {
        body ??= await this.reopen(request);
        step = await this.transaction(request, pending, body);
      } catch (err) {
        if (body) letGo(body);
        if (reused === undefined) return this.noVerdict(err, request);
        verdicts.push(...laterFailure(err, pending));
        break;
      }
      letGo(body);
      body = undefined;
      reused ??= step.reused;
      transmitMs += step.transmitMs;
      dsn ||= step.result.dsn;
      tls ??= step.tls;
      const resend = recipientsToResend(step.sent, step.result);
      verdicts.push(...recipientResults(step.sent, step.result).filter((r) => !resend.includes(r.recipient)));
      pending = [...resend, ...pending.slice(step.sent.length)];
    }
    return { reused: reused ?? false, recipients: verdicts, transmitMs, dsn, ...(tls ? { tls } : {}) };
  }

  /** One transaction for as many of `pending` as the session takes; the session then goes back to the pool. */
  private async transaction(
    request: SendRequest,
    pending: readonly string[],
    body: AsyncIterable<Buffer>,
  ): Promise<Transaction> {
    const key = keyOf(request);
    let pooled: PooledSession | undefined;
    try {
      if (request.signal?.aborted) throw new SmtpClientError('ECONNECTION', 'delivery aborted (shutdown)', 'CONN');
      pooled = this.pool.take(key);
      const reused = pooled !== undefined;
      pooled ??= this.pool.adopt(key, await this.open(request));
      const sent = nextBatch(pending, pooled.session.limits.rcptMax);
      const began = performance.now();
      const result = await this.transact(pooled.session, request, sent, body);
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
      const tls = pooled.session.tls;
      return { sent, result, reused, transmitMs, ...(tls ? { tls } : {}) };
    } catch (err) {
      if (pooled) this.pool.release(pooled, isHostFailure(err) ? 'broken' : 'reset');
      throw err;
    }
  }

  /** The message again for a further transaction; without `reopenBody` that fails (the waiting recipients' outcome). */
  private reopen(request: SendRequest): Promise<AsyncIterable<Buffer>> {
    if (request.reopenBody) return request.reopenBody();
    const why = 'more recipients than the server takes in one transaction; the rest wait for the next attempt';
    return Promise.reject(new SmtpClientError('ELIMITS', why, 'RCPT TO'));
  }

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
      tlsVerify: request.tlsVerify ?? o.tlsVerify,
      ...(request.tlsa ? { tlsa: request.tlsa } : {}),
      ...(o.ca ? { ca: o.ca } : {}),
      ...(request.auth ? { auth: request.auth } : {}),
      name: o.hostname,
      connectTimeoutMs: o.connectionTimeoutMs ?? 30_000,
      greetingTimeoutMs: o.greetingTimeoutMs ?? 60_000,
      socketTimeoutMs: o.socketTimeoutMs ?? 300_000,
      ...(request.signal ? { signal: request.signal } : {}),
    });
  }

  /** The transaction for `to` on `session`; aborting the request closes the session. */
  private async transact(
    session: SmtpSession,
    request: SendRequest,
    to: readonly string[],
    body: AsyncIterable<Buffer>,
  ): Promise<TransactionResult> {
    const onAbort = (): void => session.close();
    request.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const { from, size, dsn, requiretls } = request;
      return await session.send({ from, to, size, dsn, requiretls }, body);
    } finally {
      request.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** No verdict: a host (or body) failure is a `TransportError` (next host); a refusal is every recipient's. */
  private noVerdict(err: unknown, request: SendRequest): SendResult {
    if (isHostFailure(err)) throw new TransportError(classifyError(err), targetLabel(request), err);
    return { reused: false, recipients: laterFailure(err, request.to) };
  }
}
