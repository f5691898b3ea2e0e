/**
 * The Node SMTP load generator the benchmarks drive the daemon with: N
 * parallel sessions, strict command/response (no pipelining), a fixed body,
 * for a message count or for a time.
 */
import { connect, type Socket } from 'node:net';

/** A minimal SMTP load client: one session, strict command/response, many messages. */
class Session {
  private buffer = '';
  private waiting: ((line: string) => void) | undefined;
  private lines: string[] = [];

  private closed = false;
  private failWaiter: ((error: Error) => void) | undefined;

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('close', () => {
      this.closed = true;
      this.failWaiter?.(new Error('connection closed'));
    });
    socket.on('data', (data: Buffer) => {
      this.buffer += data.toString('latin1');
      let i: number;
      while ((i = this.buffer.indexOf('\r\n')) >= 0) {
        const line = this.buffer.slice(0, i);
        this.buffer = this.buffer.slice(i + 2);
        if (line[3] === '-') continue;
        if (this.waiting) {
          const w = this.waiting;
          this.waiting = undefined;
          w(line);
        } else this.lines.push(line);
      }
    });
  }

  static open(port: number): Promise<Session> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1' }, () => resolve(new Session(socket)));
      socket.once('error', reject);
    });
  }

  reply(): Promise<string> {
    const ready = this.lines.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.closed) return Promise.reject(new Error('connection closed'));
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.failWaiter = reject;
    });
  }

  async send(data: string | Buffer, expect: string): Promise<void> {
    this.socket.write(data);
    const line = await this.reply();
    if (!line.startsWith(expect)) throw new Error(`expected ${expect}, got ${line}`);
  }

  /** Writes a large buffer with backpressure, then waits for the reply. */
  async sendLarge(data: Buffer, expect: string): Promise<void> {
    const chunk = 64 * 1024;
    for (let offset = 0; offset < data.length; offset += chunk) {
      if (!this.socket.write(data.subarray(offset, offset + chunk))) {
        await new Promise((resolve) => this.socket.once('drain', resolve));
      }
    }
    const line = await this.reply();
    if (!line.startsWith(expect)) throw new Error(`expected ${expect}, got ${line}`);
  }

  close(): void {
    this.socket.end('QUIT\r\n');
  }
}

/** A message body of about `bytes` bytes in 78-character lines, ending with the terminating dot. */
export function messageBody(bytes: number, tag: string): Buffer {
  const line = `${'x'.repeat(76)}\r\n`;
  const lines = Math.max(1, Math.floor(bytes / line.length));
  return Buffer.from(
    `From: <sender@bench.test>\r\nTo: <rcpt@example.test>\r\nSubject: bench ${tag}\r\n\r\n${line.repeat(lines)}.\r\n`,
  );
}

export interface LoadResult {
  /** Messages accepted (250 after DATA). */
  readonly messages: number;
  readonly seconds: number;
}

export interface LoadOptions {
  readonly sessions: number;
  /** Messages to send in all; without it, `durationMs` bounds the run. */
  readonly total?: number;
  /** Stop starting new messages after this long (messages under way finish). */
  readonly durationMs?: number;
  readonly bytes: number;
  readonly perConnection: 0 | 1;
  /** The RCPT TO addresses of message `n` (default one fixed recipient). */
  readonly recipients?: (n: number) => string[];
  /** Called after each accepted message with the count so far (progress for samplers). */
  readonly onAccepted?: (accepted: number) => void;
}

/**
 * `sessions` parallel sessions send `total` messages between them, or as
 * many as they can in `durationMs`; with `perConnection` 0 each session
 * reuses its connection for all its messages, with 1 it reconnects for
 * every message.
 */
export async function runLoad(port: number, opts: LoadOptions): Promise<LoadResult> {
  if (opts.total === undefined && opts.durationMs === undefined) throw new Error('runLoad needs total or durationMs');
  const body = messageBody(opts.bytes, 'load');
  const total = opts.total ?? Number.POSITIVE_INFINITY;
  let next = 0;
  let accepted = 0;
  const started = process.hrtime.bigint();
  const deadline = opts.durationMs === undefined ? undefined : started + BigInt(Math.round(opts.durationMs * 1e6));
  const more = (): boolean => next < total && (deadline === undefined || process.hrtime.bigint() < deadline);
  const worker = async (): Promise<void> => {
    let session: Session | undefined;
    while (more()) {
      const n = next++;
      if (!session) {
        session = await Session.open(port);
        await session.reply();
        await session.send('EHLO load.bench.test\r\n', '250');
      }
      await session.send('MAIL FROM:<sender@bench.test>\r\n', '250');
      for (const rcpt of opts.recipients?.(n) ?? ['rcpt@example.test'])
        await session.send(`RCPT TO:<${rcpt}>\r\n`, '250');
      await session.send('DATA\r\n', '354');
      if (body.length > 256 * 1024) await session.sendLarge(body, '250');
      else await session.send(body, '250');
      accepted += 1;
      opts.onAccepted?.(accepted);
      if (opts.perConnection === 1) {
        session.close();
        session = undefined;
      }
    }
    session?.close();
  };
  await Promise.all(Array.from({ length: opts.sessions }, () => worker()));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { messages: accepted, seconds };
}
