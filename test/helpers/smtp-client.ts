import { writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { generate } from 'selfsigned';

export interface SmtpReply {
  readonly code: number;
  /** Full reply text, lines joined with \n (codes stripped). */
  readonly text: string;
  readonly lines: readonly string[];
}

/**
 * A raw SMTP client over a real socket, for driving the server with exact
 * (and bad) input. Replies are parsed as multi-line SMTP replies.
 */
export class RawSmtp {
  private buffer = '';
  private readonly replies: SmtpReply[] = [];
  private waiters: ((reply: SmtpReply | undefined) => void)[] = [];
  private ended = false;
  private pending: string[] = [];

  private constructor(readonly socket: Socket) {
    socket.on('data', (data: Buffer) => this.onData(data.toString('latin1')));
    const finish = (): void => {
      this.ended = true;
      for (const w of this.waiters.splice(0)) w(undefined);
    };
    socket.on('end', finish);
    socket.on('close', finish);
    socket.on('error', finish);
  }

  /** Connects (from `localAddress` when given, e.g. 127.0.0.2 to be another loopback peer). */
  static open(port: number, host = '127.0.0.1', localAddress?: string): Promise<RawSmtp> {
    return new Promise((resolve, reject) => {
      const options = { port, host, ...(localAddress ? { localAddress } : {}) };
      const socket = connect(options, () => resolve(new RawSmtp(socket)));
      socket.once('error', reject);
    });
  }

  get closed(): boolean {
    return this.ended;
  }

  private onData(text: string): void {
    this.buffer += text;
    let newline: number;
    while ((newline = this.buffer.indexOf('\r\n')) >= 0) {
      const line = this.buffer.slice(0, newline);
      this.buffer = this.buffer.slice(newline + 2);
      this.pending.push(line);
      if (/^\d{3} /.test(line) || /^\d{3}$/.test(line)) {
        const lines = this.pending.map((l) => l.slice(4));
        const reply = { code: Number(line.slice(0, 3)), text: lines.join('\n'), lines };
        this.pending = [];
        const waiter = this.waiters.shift();
        if (waiter) waiter(reply);
        else this.replies.push(reply);
      }
    }
  }

  /** Next reply; undefined when the server closed the connection first. */
  read(timeoutMs = 5000): Promise<SmtpReply | undefined> {
    const ready = this.replies.shift();
    if (ready) return Promise.resolve(ready);
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no SMTP reply within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push((reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
    });
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  async command(line: string, timeoutMs?: number): Promise<SmtpReply> {
    this.write(`${line}\r\n`);
    const reply = await this.read(timeoutMs);
    if (!reply) throw new Error(`connection closed after ${line}`);
    return reply;
  }

  /** Waits until the server closes the connection. */
  waitClosed(timeoutMs = 5000): Promise<void> {
    if (this.ended) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('connection still open')), timeoutMs);
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Opens a session and says EHLO; returns the client after the EHLO reply. */
export async function ehlo(port: number, name = 'client.test'): Promise<RawSmtp> {
  const client = await RawSmtp.open(port);
  const greeting = await client.read();
  if (greeting?.code !== 220) throw new Error(`unexpected greeting ${JSON.stringify(greeting)}`);
  const reply = await client.command(`EHLO ${name}`);
  if (reply.code !== 250) throw new Error(`EHLO failed: ${reply.code} ${reply.text}`);
  return client;
}

/** The common name of the certificate the server presents after STARTTLS. */
export async function starttlsCommonName(port: number): Promise<string> {
  const client = await ehlo(port);
  await client.command('STARTTLS');
  const secure = tlsConnect({ socket: client.socket, rejectUnauthorized: false });
  await new Promise<void>((resolve) => secure.once('secureConnect', () => resolve()));
  const cn = String(secure.getPeerCertificate().subject.CN);
  secure.destroy();
  return cn;
}

/** Writes a fresh self-signed certificate for `commonName` to `<dir>/cert.pem` and `<dir>/key.pem`. */
export async function writeCertificate(dir: string, commonName: string): Promise<void> {
  const pems = await generate([{ name: 'commonName', value: commonName }], { keySize: 2048 });
  await writeFile(join(dir, 'cert.pem'), pems.cert);
  await writeFile(join(dir, 'key.pem'), pems.private);
}

/**
 * One message over a raw session: MAIL FROM, a RCPT TO per recipient, DATA, then `data` (ending in CRLF) and the
 * dot. Resolves with the queue id from the 250; rejects when the message was not accepted.
 */
export async function sendRaw(
  port: number,
  from: string,
  to: readonly string[],
  data: string,
  helo = 'client.test',
): Promise<string> {
  const client = await ehlo(port, helo);
  await client.command(`MAIL FROM:<${from}>`);
  for (const rcpt of to) await client.command(`RCPT TO:<${rcpt}>`);
  await client.command('DATA');
  const reply = await client.command(`${data}.`);
  client.close();
  const id = /queued as ([0-9a-z]{20})/.exec(reply.text)?.[1];
  if (reply.code !== 250 || id === undefined) throw new Error(`not accepted: ${reply.code} ${reply.text}`);
  return id;
}
