/**
 * The connection under one outbound SMTP session: its socket, the replies
 * read from it, and the queue of commands waiting for them.
 *
 * In: command lines and message bytes to write; the socket's data, timeout,
 * error and close events. Out: each awaited reply, in order, to the command
 * that waits for it; or, when the connection fails, an `SmtpClientError`
 * for every waiting command and one call of each close listener.
 *
 * Socket inactivity while a reply is awaited is a timeout (the timer runs
 * only while something waits); a reply nobody asked for is a server about
 * to close (421 on an idle connection) and closes the connection. STARTTLS
 * swaps the socket underneath (`replaceSocket`) without the session
 * noticing.
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { SmtpClientError, looksLikeTls } from './errors.js';
import { ReplyError, ReplyReader, type Reply } from './reply.js';

interface Waiter {
  readonly command: string;
  readonly resolve: (reply: Reply) => void;
  readonly reject: (error: SmtpClientError) => void;
}

/** The command word(s) of a line, for errors and classification: `MAIL FROM`, `RCPT TO`, `EHLO`. */
/** What TLS an encrypted connection has: its protocol and whether the peer's certificate verified. */
export interface TlsInfo {
  /** `TLSv1.3`, … */
  readonly protocol: string;
  /** The chain verified and the certificate names the host dialled (its MX name). */
  readonly authorized: boolean;
  /** Why it did not (`CERT_HAS_EXPIRED`, a host-name mismatch, …). */
  readonly authorizationError?: string;
}

export function commandOf(line: string): string {
  const upper = line.slice(0, 9).toUpperCase();
  if (upper.startsWith('MAIL FROM')) return 'MAIL FROM';
  if (upper.startsWith('RCPT TO')) return 'RCPT TO';
  return upper.split(' ')[0] ?? upper;
}

export class SmtpWire {
  private reader = new ReplyReader();
  /** Commands awaiting a reply, oldest first. */
  private readonly waiting: Waiter[] = [];
  private ended = false;
  private readonly closeListeners: (() => void)[] = [];

  constructor(
    private socket: Socket,
    /** Inactivity limit while a reply is awaited. */
    private readonly socketTimeoutMs: number,
  ) {
    this.attach(socket);
  }

  get closed(): boolean {
    return this.ended;
  }

  /** Whether the connection is encrypted (implicit TLS or after STARTTLS). */
  get encrypted(): boolean {
    return (this.socket as TLSSocket).encrypted === true;
  }

  /** The TLS facts of the connection (protocol, whether the certificate verified and why not); undefined in clear. */
  get tls(): TlsInfo | undefined {
    if (!this.encrypted) return undefined;
    const secure = this.socket as TLSSocket;
    const error = secure.authorizationError as Error | string | null | undefined;
    return {
      protocol: secure.getProtocol() ?? 'TLS',
      authorized: secure.authorized,
      ...(error ? { authorizationError: typeof error === 'string' ? error : error.message } : {}),
    };
  }

  /** Called once when the connection closes, for whatever reason. */
  onClose(listener: () => void): void {
    if (this.ended) listener();
    else this.closeListeners.push(listener);
  }

  /** Sends one command line and waits for its reply. `shown` names it in errors (never a credential). */
  command(line: string, shown = commandOf(line)): Promise<Reply> {
    const reply = this.expect(shown);
    this.write(`${line}\r\n`);
    return reply;
  }

  /** Waits for the next reply (in order), failing after the socket's inactivity limit. */
  expect(command: string, timeoutMs = this.socketTimeoutMs): Promise<Reply> {
    if (this.ended) return Promise.reject(new SmtpClientError('ECONNECTION', 'connection closed', command));
    if (this.waiting.length === 0) this.socket.setTimeout(timeoutMs);
    return new Promise((resolve, reject) => this.waiting.push({ command, resolve, reject }));
  }

  write(data: string | Buffer): void {
    if (!this.ended) this.socket.write(data);
  }

  /** Writes `data`, resolving once the socket has room again (or closed). */
  async writeWithBackpressure(data: Buffer): Promise<void> {
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

  /** Puts the socket `upgrade` makes of the current one in its place (STARTTLS); replies start afresh. */
  async replaceSocket(upgrade: (socket: Socket) => Promise<Socket>): Promise<void> {
    this.detach(this.socket);
    this.socket = await upgrade(this.socket);
    this.reader = new ReplyReader();
    this.attach(this.socket);
  }

  /** Closes at once; whatever waits fails. */
  close(): void {
    if (!this.ended) this.socket.destroy();
    this.settleClose(new SmtpClientError('ECONNECTION', 'connection closed', 'CONN'));
  }

  // ---- socket events

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
    this.fail(new SmtpClientError('ETIMEDOUT', `no reply to ${command} within ${this.socketTimeoutMs} ms`, command));
  };

  private readonly onError = (error: Error): void => {
    const code = looksLikeTls(error.message) ? 'ETLS' : 'ECONNECTION';
    this.fail(
      new SmtpClientError(code, error.message, this.waiting[0]?.command ?? 'CONN', undefined, { cause: error }),
    );
  };

  private readonly onSocketClose = (): void => {
    this.settleClose(
      new SmtpClientError('ECONNECTION', 'connection closed by the server', this.waiting[0]?.command ?? 'CONN'),
    );
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

  /** Every waiting command fails with `error` (under its own name); the close listeners run once. */
  private settleClose(error: SmtpClientError): void {
    const waiting = this.waiting.splice(0);
    for (const w of waiting)
      w.reject(new SmtpClientError(error.code, error.message, w.command, undefined, { cause: error.cause }));
    if (this.ended) return;
    this.ended = true;
    for (const listener of this.closeListeners.splice(0)) listener();
  }
}
