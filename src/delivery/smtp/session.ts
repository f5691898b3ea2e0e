/**
 * One outbound SMTP connection (RFC 5321): connect (plain or implicit TLS),
 * greeting, EHLO (HELO when EHLO is refused), STARTTLS, AUTH PLAIN/LOGIN,
 * then any number of transactions, RSET and QUIT.
 *
 * A transaction pipelines (RFC 2920) when the server offers PIPELINING:
 * MAIL, every RCPT and DATA go in one write and their replies are read
 * together; the message follows with its end-of-data in the same write when
 * it is one chunk. So a small message costs two writes and two reads,
 * instead of one of each per command.
 *
 * Replies come back in order: each command waits on a queue of expected
 * replies. Socket inactivity while a reply is awaited is a timeout; a
 * connection that closes fails whatever waits. Failures are
 * `SmtpClientError`s (see errors.ts), never thrown events.
 */
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { DotStuffer } from './dot-stuff.js';
import { SmtpClientError, refused } from './errors.js';
import { ReplyError, ReplyReader, type Reply } from './reply.js';

export interface SessionOptions {
  readonly host: string;
  readonly port: number;
  /** Name for SNI and the certificate check (the MX host name); the host by default. */
  readonly servername?: string;
  /** Implicit TLS from the first byte (smtps://). */
  readonly secure?: boolean;
  /** Fail unless STARTTLS succeeds. */
  readonly requireTls?: boolean;
  /** Reject certificates that do not verify (SMTP_OUTBOUND_TLS_VERIFY). */
  readonly tlsVerify: boolean;
  readonly auth?: { readonly user: string; readonly pass: string };
  /** EHLO name (SMTP_HOSTNAME). */
  readonly name: string;
  readonly connectTimeoutMs: number;
  readonly greetingTimeoutMs: number;
  /** Inactivity limit while a reply is awaited (each command, the DATA stream). */
  readonly socketTimeoutMs: number;
  /** Aborting while connecting hangs up. */
  readonly signal?: AbortSignal;
}

/** What a transaction came to: a reply per recipient, and the DATA verdict when any recipient was accepted. */
export interface TransactionResult {
  readonly rcpt: readonly Reply[];
  readonly data?: Reply;
}

interface Waiter {
  readonly command: string;
  readonly resolve: (reply: Reply) => void;
  readonly reject: (error: SmtpClientError) => void;
}

/** Any character outside US-ASCII (an address that needs SMTPUTF8). */
const NON_ASCII = /\P{ASCII}/u;

export class SmtpSession {
  private socket: Socket;
  private reader = new ReplyReader();
  private readonly waiting: Waiter[] = [];
  private ended = false;
  private readonly closeListeners: (() => void)[] = [];
  /** EHLO keywords (upper case) → their parameters. */
  private extensions = new Map<string, string>();

  private constructor(
    socket: Socket,
    private readonly options: SessionOptions,
  ) {
    this.socket = socket;
    this.attach(socket);
  }

  /** Connects and gets the session ready for transactions (greeting, EHLO, STARTTLS, AUTH). */
  static async open(options: SessionOptions): Promise<SmtpSession> {
    const socket = await dial(options);
    const session = new SmtpSession(socket, options);
    const onAbort = (): void => session.close();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const greeting = await session.expect('CONN', options.greetingTimeoutMs);
      if (greeting.code !== 220) throw refused('CONN', greeting);
      await session.hello();
      if (!options.secure) await session.startTls();
      if (options.auth) await session.login(options.auth);
      return session;
    } catch (error) {
      session.close();
      throw error;
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  get closed(): boolean {
    return this.ended;
  }

  /** Whether the connection is encrypted (implicit TLS or after STARTTLS). */
  get encrypted(): boolean {
    return 'encrypted' in this.socket && (this.socket as TLSSocket).encrypted;
  }

  /** Called once when the connection closes, for whatever reason. */
  onClose(listener: () => void): void {
    if (this.ended) listener();
    else this.closeListeners.push(listener);
  }

  /**
   * One mail transaction. A refused MAIL FROM rejects (with the reply); a
   * refused RCPT is that recipient's reply; when no recipient was accepted
   * the data is never sent. `size` is announced when the server takes SIZE.
   */
  async send(envelope: { readonly from: string; readonly to: readonly string[]; readonly size?: number }, body: AsyncIterable<Buffer>): Promise<TransactionResult> {
    const utf8 = NON_ASCII.test(envelope.from) || envelope.to.some((r) => NON_ASCII.test(r));
    if (utf8 && !this.extensions.has('SMTPUTF8')) {
      throw new SmtpClientError('EENVELOPE', 'an address needs SMTPUTF8, which the server does not offer', 'MAIL FROM');
    }
    const params = [
      ...(envelope.size !== undefined && this.extensions.has('SIZE') ? [`SIZE=${envelope.size}`] : []),
      ...(utf8 ? ['SMTPUTF8'] : []),
    ];
    const mail = `MAIL FROM:<${envelope.from}>${params.length > 0 ? ` ${params.join(' ')}` : ''}`;
    const rcpts = envelope.to.map((r) => `RCPT TO:<${r}>`);
    let mailReply: Reply;
    let rcptReplies: Reply[];
    let dataReply: Reply | undefined;
    if (this.extensions.has('PIPELINING')) {
      const lines = [mail, ...rcpts, 'DATA'];
      const replies = lines.map((line) => this.expect(commandOf(line)));
      this.write(`${lines.join('\r\n')}\r\n`);
      const all = await Promise.all(replies);
      mailReply = all[0] as Reply;
      rcptReplies = all.slice(1, 1 + rcpts.length);
      dataReply = all[all.length - 1];
    } else {
      mailReply = await this.command(mail);
      rcptReplies = [];
      if (isPositive(mailReply)) {
        for (const line of rcpts) rcptReplies.push(await this.command(line));
        if (rcptReplies.some(isPositive)) dataReply = await this.command('DATA');
      }
    }
    const accepted = isPositive(mailReply) && rcptReplies.some(isPositive);
    // pipelined: a server that said 354 with nothing to send gets an empty message's end (RFC 2920 §3.1)
    if (!accepted && dataReply?.code === 354) await this.command('.');
    if (!isPositive(mailReply)) throw refused('MAIL FROM', mailReply);
    if (!accepted) return { rcpt: rcptReplies };
    if (dataReply?.code !== 354) return { rcpt: rcptReplies, ...(dataReply ? { data: dataReply } : {}) };
    const final = this.expect('DATA');
    await this.writeBody(body);
    return { rcpt: rcptReplies, data: await final };
  }

  /** RSET: a clean slate after a refused transaction. */
  async reset(): Promise<void> {
    const reply = await this.command('RSET');
    if (!isPositive(reply)) throw refused('RSET', reply);
  }

  /** QUIT, closing once it is answered (or after 2 s). */
  quit(): void {
    if (this.ended) return;
    const timer = setTimeout(() => this.close(), 2_000);
    timer.unref();
    this.command('QUIT').then(
      () => this.close(),
      () => this.close(),
    );
  }

  /** Closes at once; whatever waits fails. */
  close(): void {
    if (!this.ended) this.socket.destroy();
    this.settleClose(new SmtpClientError('ECONNECTION', 'connection closed', 'CONN'));
  }

  // ---- steps of opening

  private async hello(): Promise<void> {
    const ehlo = await this.command(`EHLO ${this.options.name}`);
    if (isPositive(ehlo)) {
      this.extensions = parseExtensions(ehlo);
      return;
    }
    if (ehlo.code === 421) throw refused('EHLO', ehlo);
    const helo = await this.command(`HELO ${this.options.name}`);
    if (!isPositive(helo)) throw refused('HELO', helo);
    this.extensions = new Map();
  }

  /** STARTTLS when offered: required ones must succeed, opportunistic ones go on in clear if refused. */
  private async startTls(): Promise<void> {
    if (!this.extensions.has('STARTTLS')) {
      if (this.options.requireTls) throw new SmtpClientError('ETLS', 'the server does not offer STARTTLS, which this connection requires', 'STARTTLS');
      return;
    }
    const reply = await this.command('STARTTLS');
    if (reply.code !== 220) {
      if (this.options.requireTls || reply.code === 421) throw refused('STARTTLS', reply);
      return;
    }
    this.detach(this.socket);
    this.socket = await upgrade(this.socket, this.options);
    this.reader = new ReplyReader();
    this.attach(this.socket);
    await this.hello();
  }

  private async login(auth: { readonly user: string; readonly pass: string }): Promise<void> {
    const mechanisms = (this.extensions.get('AUTH') ?? '').toUpperCase().split(/\s+/);
    if (!this.extensions.has('AUTH')) throw new SmtpClientError('EAUTH', 'the server does not offer AUTH', 'AUTH');
    const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
    let reply: Reply;
    const mechanism = mechanisms.includes('PLAIN') || !mechanisms.includes('LOGIN') ? 'AUTH PLAIN' : 'AUTH LOGIN';
    if (mechanism === 'AUTH PLAIN') {
      reply = await this.command(`AUTH PLAIN ${b64(`\u0000${auth.user}\u0000${auth.pass}`)}`, mechanism);
    } else {
      reply = await this.command('AUTH LOGIN');
      if (reply.code === 334) reply = await this.command(b64(auth.user), mechanism);
      if (reply.code === 334) reply = await this.command(b64(auth.pass), mechanism);
    }
    if (reply.code !== 235) throw new SmtpClientError('EAUTH', `authentication refused: ${reply.code}`, mechanism, reply);
  }

  // ---- the wire

  /** Sends one command line and waits for its reply. `shown` names it in errors (never a credential). */
  private command(line: string, shown = commandOf(line)): Promise<Reply> {
    const reply = this.expect(shown);
    this.write(`${line}\r\n`);
    return reply;
  }

  /** Waits for the next reply (in order), failing after the socket's inactivity limit. */
  private expect(command: string, timeoutMs = this.options.socketTimeoutMs): Promise<Reply> {
    if (this.ended) return Promise.reject(new SmtpClientError('ECONNECTION', 'connection closed', command));
    if (this.waiting.length === 0) this.socket.setTimeout(timeoutMs);
    return new Promise((resolve, reject) => this.waiting.push({ command, resolve, reject }));
  }

  private write(data: string | Buffer): void {
    if (!this.ended) this.socket.write(data);
  }

  /** The message, dot-stuffed, ending with `<CRLF>.<CRLF>`; one chunk is held back so the last goes with the end. */
  private async writeBody(body: AsyncIterable<Buffer>): Promise<void> {
    const stuffer = new DotStuffer();
    let held: Buffer | undefined;
    try {
      for await (const chunk of body) {
        if (held) await this.writeWithBackpressure(held);
        held = stuffer.push(chunk);
      }
    } catch (error) {
      // half a message is on the wire: the transaction cannot be ended cleanly
      this.close();
      throw new SmtpClientError('ESTREAM', `reading the message failed: ${error instanceof Error ? error.message : String(error)}`, 'DATA', undefined, { cause: error });
    }
    const end = stuffer.end();
    this.write(held ? Buffer.concat([held, end]) : end);
  }

  private async writeWithBackpressure(data: Buffer): Promise<void> {
    if (this.ended) throw new SmtpClientError('ECONNECTION', 'connection closed while sending the message', 'DATA');
    if (this.socket.write(data)) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.once('drain', done);
      this.socket.once('close', done);
    });
  }

  private readonly onData = (data: Buffer): void => {
    let replies: Reply[];
    try {
      replies = this.reader.push(data);
    } catch (error) {
      const message = error instanceof ReplyError ? error.message : String(error);
      this.fail(new SmtpClientError('EPROTOCOL', message, this.waiting[0]?.command ?? 'CONN'));
      return;
    }
    for (const reply of replies) {
      const waiter = this.waiting.shift();
      if (!waiter) {
        // nothing was asked: a server about to close (421 on an idle connection)
        this.close();
        return;
      }
      waiter.resolve(reply);
    }
    if (this.waiting.length === 0) this.socket.setTimeout(0);
  };

  private readonly onTimeout = (): void => {
    const command = this.waiting[0]?.command;
    if (command === undefined) return;
    this.fail(new SmtpClientError('ETIMEDOUT', `no reply to ${command} within ${this.options.socketTimeoutMs} ms`, command));
  };

  private readonly onError = (error: Error): void => {
    const tlsFailure = /certificate|SSL|TLS|self[- ]signed|altnames/i.test(error.message);
    this.fail(new SmtpClientError(tlsFailure ? 'ETLS' : 'ECONNECTION', error.message, this.waiting[0]?.command ?? 'CONN', undefined, { cause: error }));
  };

  private readonly onSocketClose = (): void => {
    this.settleClose(new SmtpClientError('ECONNECTION', 'connection closed by the server', this.waiting[0]?.command ?? 'CONN'));
  };

  private attach(socket: Socket): void {
    socket.on('data', this.onData);
    socket.on('timeout', this.onTimeout);
    socket.on('error', this.onError);
    socket.on('close', this.onSocketClose);
  }

  private detach(socket: Socket): void {
    socket.off('data', this.onData);
    socket.off('timeout', this.onTimeout);
    socket.off('error', this.onError);
    socket.off('close', this.onSocketClose);
  }

  private fail(error: SmtpClientError): void {
    this.socket.destroy();
    this.settleClose(error);
  }

  private settleClose(error: SmtpClientError): void {
    const waiting = this.waiting.splice(0);
    for (const w of waiting) w.reject(new SmtpClientError(error.code, error.message, w.command, undefined, { cause: error.cause }));
    if (this.ended) return;
    this.ended = true;
    for (const listener of this.closeListeners.splice(0)) listener();
  }
}

function isPositive(reply: Reply): boolean {
  return reply.code >= 200 && reply.code < 400;
}

/** The command word(s) of a line, for errors and classification: `MAIL FROM`, `RCPT TO`, `EHLO`. */
function commandOf(line: string): string {
  const upper = line.slice(0, 9).toUpperCase();
  if (upper.startsWith('MAIL FROM')) return 'MAIL FROM';
  if (upper.startsWith('RCPT TO')) return 'RCPT TO';
  return upper.split(' ')[0] ?? upper;
}

/** EHLO reply lines after the first: `KEYWORD params`. */
function parseExtensions(reply: Reply): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of reply.lines.slice(1)) {
    const [keyword = '', ...params] = line.trim().split(/\s+/);
    if (keyword !== '') out.set(keyword.toUpperCase(), params.join(' '));
  }
  return out;
}

/** A connected socket (TLS from the first byte for smtps://), within the connect timeout. */
function dial(o: SessionOptions): Promise<Socket> {
  return new Promise((resolve, reject) => {
    if (o.signal?.aborted) {
      reject(new SmtpClientError('ECONNECTION', 'delivery aborted (shutdown)', 'CONN'));
      return;
    }
    const socket: Socket = o.secure
      ? connectTls({ host: o.host, port: o.port, servername: o.servername ?? o.host, rejectUnauthorized: o.tlsVerify })
      : connectTcp({ host: o.host, port: o.port });
    const timer = setTimeout(() => fail(new SmtpClientError('ETIMEDOUT', `connecting to ${o.host}:${o.port} took longer than ${o.connectTimeoutMs} ms`, 'CONN')), o.connectTimeoutMs);
    const onAbort = (): void => fail(new SmtpClientError('ECONNECTION', 'delivery aborted (shutdown)', 'CONN'));
    const cleanup = (): void => {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      socket.off('error', onError);
    };
    const fail = (error: SmtpClientError): void => {
      cleanup();
      socket.destroy();
      reject(error);
    };
    const onError = (error: Error): void => {
      const code = o.secure && /certificate|SSL|TLS|self[- ]signed|altnames/i.test(error.message) ? 'ETLS' : 'ECONNECTION';
      fail(new SmtpClientError(code, error.message, 'CONN', undefined, { cause: error }));
    };
    o.signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('error', onError);
    socket.once(o.secure ? 'secureConnect' : 'connect', () => {
      cleanup();
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}

/** STARTTLS's handshake on the open connection. */
function upgrade(plain: Socket, o: SessionOptions): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const secure = connectTls({ socket: plain, servername: o.servername ?? o.host, rejectUnauthorized: o.tlsVerify });
    const timer = setTimeout(() => fail(new SmtpClientError('ETIMEDOUT', `TLS handshake took longer than ${o.greetingTimeoutMs} ms`, 'STARTTLS')), o.greetingTimeoutMs);
    const fail = (error: SmtpClientError): void => {
      clearTimeout(timer);
      secure.destroy();
      reject(error);
    };
    secure.once('error', (error: Error) => fail(new SmtpClientError('ETLS', error.message, 'STARTTLS', undefined, { cause: error })));
    secure.once('secureConnect', () => {
      clearTimeout(timer);
      secure.removeAllListeners('error');
      secure.setNoDelay(true);
      resolve(secure);
    });
  });
}
