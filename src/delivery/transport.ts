/**
 * The outbound SMTP transport: a connection cache over our SMTP session
 * (smtp/session.ts), keyed by address, port, TLS mode and credentials, so
 * consecutive messages to one host reuse a session while there is work for
 * it, and idle sessions QUIT after a few seconds.
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
 * `sendEnvelope` resolves with a verdict per recipient whenever the server
 * judged the transaction (RCPT replies, the DATA reply, a MAIL FROM refusal)
 * and rejects with a `TransportError` when this host gave no verdict
 * (connection refused, timeout, TLS failure, 421 …): the caller tries the
 * next host.
 *
 * (nodemailer's SMTPConnection did this before; it writes every command
 * separately and never pipelines MAIL, RCPT and DATA, which cost a socket
 * write and a read per command on every message.)
 */
import type { Config } from '../config/types.js';
import type { DeliveryOutcome } from '../domain/delivery.js';
import { classifyError, classifyReply } from './classify.js';
import type { Classification } from './classify.js';
import { IdlePool } from './idle-pool.js';
import { SmtpClientError } from './smtp/errors.js';
import { replyText, type Reply } from './smtp/reply.js';
import { SmtpSession, type TransactionResult } from './smtp/session.js';

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
  /** Sessions QUIT after this many messages (default 1,000) … */
  readonly maxMessagesPerConnection?: number;
  /** … or once they are this old (default 300 s, Postfix's smtp_connection_reuse_time_limit). */
  readonly maxConnectionAgeMs?: number;
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

interface Pooled {
  readonly session: SmtpSession;
  readonly key: string;
  readonly openedAt: number;
  messages: number;
}

function describe(target: SmtpTarget): string {
  const name = target.servername && target.servername !== target.host ? `${target.servername}[${target.host}]` : target.host;
  return `${name}:${target.port}`;
}

function keyOf(target: SmtpTarget): string {
  const scheme = target.secure ? 'smtps' : target.requireTls ? 'smtp+tls' : 'smtp';
  return `${scheme}://${target.auth?.user ?? ''}@${target.host}:${target.port}/${target.servername ?? ''}`;
}

function isPositive(reply: Reply): boolean {
  return reply.code >= 200 && reply.code < 300;
}

/** A 421 anywhere means this host is closing on us: no verdict on the message. */
function closing(result: TransactionResult): Reply | undefined {
  return [...result.rcpt, ...(result.data ? [result.data] : [])].find((r) => r.code === 421);
}

/** Per-recipient outcomes: a refused RCPT keeps its own reply, accepted ones take the DATA reply. */
function recipientResults(to: readonly string[], result: TransactionResult): RecipientResult[] {
  return to.map((recipient, i) => {
    const rcpt = result.rcpt[i];
    const reply = rcpt && !isPositive(rcpt) ? rcpt : result.data;
    if (!reply) return { recipient, outcome: { kind: 'deferred', response: '4.0.0 no reply for this recipient' } };
    const stage = reply === rcpt ? 'RCPT' : 'DATA';
    return { recipient, outcome: { kind: classifyReply(reply.code, stage).kind, response: replyText(reply) } };
  });
}

export function createSmtpTransport(options: TransportOptions): Transport {
  const idle = new IdlePool<Pooled>({ idleTimeoutMs: options.idleTimeoutMs ?? 5_000, maxIdlePerKey: options.maxIdlePerHost ?? 10 }, (p) => p.session.quit());
  const maxMessages = options.maxMessagesPerConnection ?? 1_000;
  const maxAgeMs = options.maxConnectionAgeMs ?? 300_000;
  let closing_ = false;

  function open(request: SendRequest): Promise<SmtpSession> {
    return SmtpSession.open({
      host: request.host,
      port: request.port,
      ...(request.servername ? { servername: request.servername } : {}),
      secure: request.secure === true,
      requireTls: request.requireTls === true,
      tlsVerify: options.tlsVerify,
      ...(request.auth ? { auth: request.auth } : {}),
      name: options.hostname,
      connectTimeoutMs: options.connectionTimeoutMs ?? 30_000,
      greetingTimeoutMs: options.greetingTimeoutMs ?? 60_000,
      socketTimeoutMs: options.socketTimeoutMs ?? 300_000,
      ...(request.signal ? { signal: request.signal } : {}),
    });
  }

  /** A cached session for `key` that is still open, if any. */
  function take(key: string): Pooled | undefined {
    for (let p = idle.take(key); p; p = idle.take(key)) if (!p.session.closed) return p;
    return undefined;
  }

  /** After a transaction: park the session for the next message, after RSET when it ended early. */
  function release(p: Pooled, state: 'done' | 'reset' | 'broken'): void {
    const worn = p.messages >= maxMessages || Date.now() - p.openedAt >= maxAgeMs;
    if (state === 'broken' || p.session.closed) return p.session.close();
    if (closing_ || worn) return p.session.quit();
    if (state === 'done') return idle.put(p.key, p);
    p.session.reset().then(
      () => (closing_ || p.session.closed ? p.session.close() : idle.put(p.key, p)),
      () => p.session.close(),
    );
  }

  async function sendEnvelope(request: SendRequest): Promise<SendResult> {
    const target = describe(request);
    const key = keyOf(request);
    let pooled: Pooled | undefined;
    try {
      if (request.signal?.aborted) throw new SmtpClientError('ECONNECTION', 'delivery aborted (shutdown)', 'CONN');
      pooled = closing_ ? undefined : take(key);
      const reused = pooled !== undefined;
      if (!pooled) {
        const session = await open(request);
        const fresh: Pooled = { session, key, openedAt: Date.now(), messages: 0 };
        session.onClose(() => idle.forget(fresh));
        pooled = fresh;
      }
      pooled.messages += 1;
      const session = pooled.session;
      const onAbort = (): void => session.close();
      request.signal?.addEventListener('abort', onAbort, { once: true });
      let result: TransactionResult;
      try {
        result = await session.send({ from: request.from, to: request.to, ...(request.size === undefined ? {} : { size: request.size }) }, request.body);
      } finally {
        request.signal?.removeEventListener('abort', onAbort);
      }
      const hangUp = closing(result);
      if (hangUp) throw new SmtpClientError('EREPLY', `the server is closing: ${replyText(hangUp)}`, hangUp === result.data ? 'DATA' : 'RCPT TO', hangUp);
      release(pooled, result.data ? 'done' : 'reset');
      return { reused, recipients: recipientResults(request.to, result) };
    } catch (err) {
      const classification = classifyError(err);
      const host = classification.scope === 'host' || (err instanceof SmtpClientError && err.code === 'ESTREAM');
      if (pooled) release(pooled, host ? 'broken' : 'reset');
      if (host) throw new TransportError(classification, target, err);
      // the server refused the whole transaction (MAIL FROM) or we would not send it: every recipient gets that
      const outcome: DeliveryOutcome = { kind: classification.kind, response: classification.response };
      return { reused: false, recipients: request.to.map((recipient) => ({ recipient, outcome })) };
    }
  }

  return {
    sendEnvelope,
    close: async () => {
      closing_ = true;
      idle.clear();
      await Promise.resolve();
    },
  };
}
