/**
 * One outbound SMTP session (RFC 5321): greeting, EHLO (HELO when EHLO is
 * refused), STARTTLS, AUTH PLAIN/LOGIN, then any number of transactions,
 * RSET and QUIT.
 *
 * In: where to connect and as whom (`SessionOptions`), then envelopes and
 * message bodies. Out: a `TransactionResult` per transaction (a reply per
 * recipient, the DATA verdict), or an `SmtpClientError` (see errors.ts),
 * never a thrown event. Connecting and the TLS handshakes are dial.ts; the
 * socket, reply order and timeouts are wire.ts; AUTH is auth.ts; this file
 * is the protocol's order.
 *
 * A transaction pipelines (RFC 2920) when the server offers PIPELINING:
 * MAIL, every RCPT and DATA go in one write and their replies are read
 * together; the message follows with its end-of-data in the same write when
 * it is one chunk. So a small message costs two writes and two reads,
 * instead of one of each per command.
 */
import type { EnvelopeDsn } from '../../domain/dsn.js';
import { authenticate, type Credentials } from './auth.js';
import { dial, upgradeToTls, type DialOptions } from './dial.js';
import { DotStuffer } from './dot-stuff.js';
import { mailDsnParams, rcptDsnParams } from './dsn-params.js';
import { SmtpClientError, refused } from './errors.js';
import { parseLimits, type ServerLimits } from './limits.js';
import { requireTlsParams } from './requiretls.js';
import type { Reply } from './reply.js';
import { SmtpWire, commandOf, type TlsInfo } from './wire.js';

export interface SessionOptions extends DialOptions {
  /** Fail unless STARTTLS succeeds. */
  readonly requireTls?: boolean;
  readonly auth?: Credentials;
  /** EHLO name (SMTP_HOSTNAME). */
  readonly name: string;
  /** Limit on the greeting, and on STARTTLS's handshake. */
  readonly greetingTimeoutMs: number;
  /** Inactivity limit while a reply is awaited (each command, the DATA stream). */
  readonly socketTimeoutMs: number;
}

export interface Envelope {
  readonly from: string;
  readonly to: readonly string[];
  /** Announced with SIZE when the server takes it. */
  readonly size?: number;
  /** DSN parameters (RFC 3461), passed on when the server offers DSN. */
  readonly dsn?: EnvelopeDsn;
  /** MAIL FROM's REQUIRETLS (RFC 8689): the check the session's TLS must pass, and the server must offer it. */
  readonly requiretls?: (tls: TlsInfo | undefined) => boolean;
}

/** What a transaction came to: a reply per recipient, and the DATA verdict when any recipient was accepted. */
export interface TransactionResult {
  readonly rcpt: readonly Reply[];
  readonly data?: Reply;
  /** The server offers DSN, so the DSN parameters went with the envelope (it reports from here on). */
  readonly dsn: boolean;
}

/** The replies to MAIL FROM, each RCPT TO and (when it was sent) DATA. */
interface EnvelopeReplies {
  readonly mail: Reply;
  readonly rcpt: Reply[];
  readonly data: Reply | undefined;
}

/** Any character outside US-ASCII (an address that needs SMTPUTF8). */
const NON_ASCII = /\P{ASCII}/u;

export class SmtpSession {
  /** EHLO keywords (upper case) → their parameters. */
  private extensions = new Map<string, string>();

  private constructor(
    private readonly wire: SmtpWire,
    private readonly options: SessionOptions,
  ) {}

  /** Connects and gets the session ready for transactions (greeting, EHLO, STARTTLS, AUTH). */
  static async open(options: SessionOptions): Promise<SmtpSession> {
    const socket = await dial(options);
    const session = new SmtpSession(new SmtpWire(socket, options.socketTimeoutMs), options);
    const onAbort = (): void => session.close();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const greeting = await session.wire.expect('CONN', options.greetingTimeoutMs);
      if (greeting.code !== 220) throw refused('CONN', greeting);
      await session.hello();
      if (!options.secure) await session.startTls();
      if (options.auth) await authenticate(session.wire, session.extensions.get('AUTH'), options.auth);
      return session;
    } catch (error) {
      session.close();
      throw error;
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  get closed(): boolean {
    return this.wire.closed;
  }

  /** The server's LIMITS (RFC 9422) as its last EHLO stated them; none when not advertised. */
  get limits(): ServerLimits {
    return parseLimits(this.extensions.get('LIMITS'));
  }

  /** Whether the connection is encrypted (implicit TLS or after STARTTLS). */
  get encrypted(): boolean {
    return this.wire.encrypted;
  }

  /** The connection's TLS facts; undefined in clear. */
  get tls(): TlsInfo | undefined {
    return this.wire.tls;
  }

  /** Called once when the connection closes, for whatever reason. */
  onClose(listener: () => void): void {
    this.wire.onClose(listener);
  }

  /**
   * One mail transaction. A refused MAIL FROM rejects (with the reply); a
   * refused RCPT is that recipient's reply; when no recipient was accepted
   * the data is never sent. `size` is announced when the server takes SIZE.
   */
  async send(envelope: Envelope, body: AsyncIterable<Buffer>): Promise<TransactionResult> {
    const { mail, rcpts } = this.envelopeCommands(envelope);
    const replies = this.extensions.has('PIPELINING')
      ? await this.pipelined(mail, rcpts)
      : await this.stepwise(mail, rcpts);
    const accepted = isPositive(replies.mail) && replies.rcpt.some(isPositive);
    // pipelined: a server that said 354 with nothing to send gets an empty message's end (RFC 2920 §3.1)
    if (!accepted && replies.data?.code === 354) await this.wire.command('.');
    if (!isPositive(replies.mail)) throw refused('MAIL FROM', replies.mail);
    const dsn = this.extensions.has('DSN');
    if (!accepted) return { rcpt: replies.rcpt, dsn };
    if (replies.data?.code !== 354) return { rcpt: replies.rcpt, dsn, ...(replies.data ? { data: replies.data } : {}) };
    const final = this.wire.expect('DATA');
    // when reading the message fails, nothing awaits this reply: its rejection must not go unhandled
    final.catch(() => undefined);
    await this.writeBody(body);
    return { rcpt: replies.rcpt, data: await final, dsn };
  }

  /** RSET: a clean slate after a refused transaction. */
  async reset(): Promise<void> {
    const reply = await this.wire.command('RSET');
    if (!isPositive(reply)) throw refused('RSET', reply);
  }

  /** QUIT, closing once it is answered (or after 2 s). */
  quit(): void {
    if (this.wire.closed) return;
    const timer = setTimeout(() => this.close(), 2_000);
    timer.unref();
    this.wire.command('QUIT').then(
      () => this.close(),
      () => this.close(),
    );
  }

  /** Closes at once; whatever waits fails. */
  close(): void {
    this.wire.close();
  }

  // ---- steps of opening

  private async hello(): Promise<void> {
    const ehlo = await this.wire.command(`EHLO ${this.options.name}`);
    if (isPositive(ehlo)) {
      this.extensions = parseExtensions(ehlo);
      return;
    }
    if (ehlo.code === 421) throw refused('EHLO', ehlo);
    const helo = await this.wire.command(`HELO ${this.options.name}`);
    if (!isPositive(helo)) throw refused('HELO', helo);
    this.extensions = new Map();
  }

  /** STARTTLS when offered: required ones must succeed, opportunistic ones go on in clear if refused. */
  private async startTls(): Promise<void> {
    if (!this.extensions.has('STARTTLS')) {
      if (this.options.requireTls)
        throw new SmtpClientError(
          'ETLS',
          'the server does not offer STARTTLS, which this connection requires',
          'STARTTLS',
        );
      return;
    }
    const reply = await this.wire.command('STARTTLS');
    if (reply.code !== 220) {
      if (this.options.requireTls || reply.code === 421) throw refused('STARTTLS', reply);
      return;
    }
    await this.wire.replaceSocket((plain) => upgradeToTls(plain, this.options, this.options.greetingTimeoutMs));
    await this.hello();
  }

  // ---- steps of a transaction

  /**
   * MAIL FROM (with SIZE, SMTPUTF8 and DSN's RET/ENVID as needed) and a RCPT TO per recipient (with NOTIFY/ORCPT
   * when the server offers DSN); refuses what needs SMTPUTF8 when it is not offered.
   */
  private envelopeCommands(envelope: Envelope): { readonly mail: string; readonly rcpts: string[] } {
    const utf8 = NON_ASCII.test(envelope.from) || envelope.to.some((r) => NON_ASCII.test(r));
    if (utf8 && !this.extensions.has('SMTPUTF8')) {
      throw new SmtpClientError('EENVELOPE', 'an address needs SMTPUTF8, which the server does not offer', 'MAIL FROM');
    }
    const dsn = this.extensions.has('DSN') ? envelope.dsn : undefined;
    const params = [
      ...(envelope.size !== undefined && this.extensions.has('SIZE') ? [`SIZE=${envelope.size}`] : []),
      ...(utf8 ? ['SMTPUTF8'] : []),
      ...mailDsnParams(dsn),
      ...requireTlsParams(envelope.requiretls, this.extensions, this.tls),
    ];
    const rcpts = envelope.to.map((r) => [`RCPT TO:<${r}>`, ...rcptDsnParams(dsn, r)].join(' '));
    return { mail: [`MAIL FROM:<${envelope.from}>`, ...params].join(' '), rcpts };
  }

  /** MAIL, every RCPT and DATA in one write; their replies read together. */
  private async pipelined(mail: string, rcpts: readonly string[]): Promise<EnvelopeReplies> {
    const lines = [mail, ...rcpts, 'DATA'];
    const replies = lines.map((line) => this.wire.expect(commandOf(line)));
    this.wire.write(`${lines.join('\r\n')}\r\n`);
    const all = await Promise.all(replies);
    return { mail: all[0] as Reply, rcpt: all.slice(1, 1 + rcpts.length), data: all[all.length - 1] };
  }

  /** One command at a time: no RCPT after a refused MAIL, no DATA when no recipient was accepted. */
  private async stepwise(mail: string, rcpts: readonly string[]): Promise<EnvelopeReplies> {
    const mailReply = await this.wire.command(mail);
    const rcptReplies: Reply[] = [];
    let dataReply: Reply | undefined;
    if (isPositive(mailReply)) {
      for (const line of rcpts) rcptReplies.push(await this.wire.command(line));
      if (rcptReplies.some(isPositive)) dataReply = await this.wire.command('DATA');
    }
    return { mail: mailReply, rcpt: rcptReplies, data: dataReply };
  }

  /** The message, dot-stuffed, ending with `<CRLF>.<CRLF>`; one chunk is held back so the last goes with the end. */
  private async writeBody(body: AsyncIterable<Buffer>): Promise<void> {
    const stuffer = new DotStuffer();
    let held: Buffer | undefined;
    try {
      for await (const chunk of body) {
        if (held) await this.wire.writeWithBackpressure(held);
        held = stuffer.push(chunk);
      }
    } catch (error) {
      // half a message is on the wire: the transaction cannot be ended cleanly
      this.close();
      const why = error instanceof Error ? error.message : String(error);
      throw new SmtpClientError('ESTREAM', `reading the message failed: ${why}`, 'DATA', undefined, { cause: error });
    }
    const end = stuffer.end();
    this.wire.write(held ? Buffer.concat([held, end]) : end);
  }
}

function isPositive(reply: Reply): boolean {
  return reply.code >= 200 && reply.code < 400;
}

/** EHLO reply lines after the first: `KEYWORD params`. */
function parseExtensions(reply: Reply): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of reply.lines.slice(1)) {
    const [keyword = '', ...params] = line.trim().split(/\s+/);
    out.set(keyword.toUpperCase(), params.join(' '));
  }
  return out;
}
