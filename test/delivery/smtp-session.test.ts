import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { SmtpClientError } from '../../src/delivery/smtp/errors.js';
import { eventually } from '../helpers/eventually.js';
import { SmtpSession, type SessionOptions } from '../../src/delivery/smtp/session.js';
import { commandOf, SmtpWire } from '../../src/delivery/smtp/wire.js';
import { testCa, type Pem } from '../helpers/pki.js';

/**
 * A scripted SMTP server over a real socket: `answer` gets each command line
 * (and, after a 354, the whole message as one string ending in CRLF.CRLF)
 * and returns the reply lines to send (none: stay silent). It also records
 * what arrived and how many lines had arrived before the first reply.
 */
interface Scripted {
  readonly port: number;
  readonly received: string[];
  /** Connections open now. */
  connections(): number;
  close(): Promise<void>;
}

type Answer = (
  line: string,
  state: { readonly inData: boolean; readonly drop: () => void },
) => string | readonly string[] | undefined;

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise<void>((resolve) => s.close(() => resolve()));
});

async function scripted(
  answer: Answer,
  greeting: string | null = '220 mx.test ESMTP',
  /** Implicit TLS from the first byte with this certificate (smtps://). */
  secure?: Pem,
): Promise<Scripted> {
  const received: string[] = [];
  const sockets = new Set<Socket>();
  const serve = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    if (greeting !== null) socket.write(`${greeting}\r\n`);
    let buffer = '';
    let inData = false;
    socket.on('data', (data: Buffer) => {
      buffer += data.toString('latin1');
      for (;;) {
        if (inData) {
          const end = buffer.indexOf('\r\n.\r\n');
          const atStart = buffer.startsWith('.\r\n');
          if (end < 0 && !atStart) return;
          const message = atStart ? '.\r\n' : buffer.slice(0, end + 5);
          buffer = buffer.slice(message.length);
          inData = false;
          received.push(message);
          send(socket, answer(message, { inData: true, drop: () => socket.destroy() }));
          continue;
        }
        const lf = buffer.indexOf('\r\n');
        if (lf < 0) return;
        const line = buffer.slice(0, lf);
        buffer = buffer.slice(lf + 2);
        received.push(line);
        const reply = answer(line, { inData: false, drop: () => socket.destroy() });
        if ((typeof reply === 'string' ? [reply] : (reply ?? [])).some((r) => r.startsWith('354'))) inData = true;
        send(socket, reply);
      }
    });
  };
  const server = secure ? createTlsServer({ key: secure.key, cert: secure.cert }, serve) : createServer(serve);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    received,
    connections: () => sockets.size,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function send(socket: Socket, reply: string | readonly string[] | undefined): void {
  if (reply === undefined) return;
  const lines = typeof reply === 'string' ? [reply] : reply;
  socket.write(lines.map((l) => `${l}\r\n`).join(''));
}

function options(port: number, extra: Partial<SessionOptions> = {}): SessionOptions {
  return {
    host: '127.0.0.1',
    port,
    tlsVerify: false,
    name: 'mta.sender.test',
    connectTimeoutMs: 2_000,
    greetingTimeoutMs: 2_000,
    socketTimeoutMs: 2_000,
    ...extra,
  };
}

async function* body(...parts: string[]): AsyncGenerator<Buffer> {
  for (const p of parts) yield Buffer.from(p);
}

/** A server that answers a plain transaction, with the given EHLO extensions. */
function plain(extensions: readonly string[]): Answer {
  return (line, { inData }) => {
    if (inData) return '250 2.0.0 Ok: queued';
    if (line.startsWith('EHLO'))
      return extensions.length === 0
        ? '250 mx.test'
        : ['250-mx.test', ...extensions.slice(0, -1).map((e) => `250-${e}`), `250 ${extensions.at(-1) ?? ''}`];
    if (line === 'DATA') return '354 go ahead';
    if (line === 'QUIT') return '221 bye';
    return '250 2.1.0 Ok';
  };
}

describe('SmtpSession', () => {
  it('pipelines MAIL, every RCPT and DATA when offered: the server gets them all before it answers one', async () => {
    let held: string[] = [];
    const server = await scripted((line, { inData }) => {
      if (inData) return '250 2.0.0 Ok: queued as P1';
      if (line.startsWith('EHLO')) return ['250-mx.test', '250-PIPELINING', '250 SIZE 10240000'];
      if (/^(MAIL|RCPT|DATA)/.test(line)) {
        held.push(line);
        if (line !== 'DATA') return undefined; // silent until the group is complete: a client waiting per command would hang
        const replies = held.map((l) => (l === 'DATA' ? '354 go ahead' : '250 2.1.5 Ok'));
        held = [];
        return replies;
      }
      return '250 Ok';
    });
    const session = await SmtpSession.open(options(server.port));
    const result = await session.send(
      { from: 'a@sender.test', to: ['b@example.test', 'c@example.test'], size: 7 },
      body('hello\r\n'),
    );
    expect(result.rcpt.map((r) => r.code)).toEqual([250, 250]);
    expect(result.data).toEqual({ code: 250, lines: ['2.0.0 Ok: queued as P1'] });
    expect(server.received).toContain('MAIL FROM:<a@sender.test> SIZE=7');
    expect(server.received.at(-1)).toBe('hello\r\n.\r\n');
    session.close();
  });

  it('sends one command at a time to a server without PIPELINING, and falls back to HELO when EHLO is refused', async () => {
    const server = await scripted((line, { inData }) => {
      if (inData) return '250 Ok';
      if (line.startsWith('EHLO')) return '502 5.5.2 what?';
      if (line === 'DATA') return '354 go ahead';
      return '250 Ok';
    });
    const session = await SmtpSession.open(options(server.port));
    const result = await session.send({ from: '', to: ['b@example.test'] }, body('.dot first\r\nline'));
    expect(result.data?.code).toBe(250);
    expect(server.received.slice(0, 4)).toEqual([
      'EHLO mta.sender.test',
      'HELO mta.sender.test',
      'MAIL FROM:<>',
      'RCPT TO:<b@example.test>',
    ]);
    expect(server.received.at(-1)).toBe('..dot first\r\nline\r\n.\r\n');
    session.close();
  });

  it('rejects a refused MAIL FROM with its reply (ending a data phase a sloppy server opened anyway), then takes the next transaction after RSET', async () => {
    let first = true;
    const server = await scripted((line, state) => {
      if (line.startsWith('MAIL') && first) {
        first = false;
        return '550 5.7.1 sender refused';
      }
      return plain(['PIPELINING'])(line, state);
    });
    const session = await SmtpSession.open(options(server.port));
    const error = await session
      .send({ from: 'bad@sender.test', to: ['b@example.test'] }, body('x\r\n'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SmtpClientError);
    expect(error).toMatchObject({
      code: 'EREPLY',
      command: 'MAIL FROM',
      responseCode: 550,
      response: '550 5.7.1 sender refused',
    });
    await session.reset();
    expect((await session.send({ from: 'good@sender.test', to: ['b@example.test'] }, body('x\r\n'))).data?.code).toBe(
      250,
    );
    session.close();
  });

  it('never sends the message when every recipient is refused, even to a server that says 354 anyway', async () => {
    const server = await scripted((line, state) => {
      if (line.startsWith('RCPT')) return '550 5.1.1 no such user';
      return plain(['PIPELINING'])(line, state);
    });
    const session = await SmtpSession.open(options(server.port));
    const result = await session.send({ from: 'a@sender.test', to: ['x@example.test'] }, body('secret\r\n'));
    expect(result).toEqual({ rcpt: [{ code: 550, lines: ['5.1.1 no such user'] }], dsn: false });
    expect(server.received.join('|')).not.toContain('secret');
    expect(server.received.at(-1)).toBe('.\r\n'); // the empty message's end after the unwanted 354
    session.close();
  });

  it('authenticates with PLAIN when offered, with LOGIN otherwise, never showing the password in errors', async () => {
    for (const mechanisms of ['PLAIN LOGIN', 'LOGIN']) {
      const server = await scripted((line, state) => {
        if (line.startsWith('EHLO')) return ['250-mx.test', `250 AUTH ${mechanisms}`];
        if (line === `AUTH PLAIN ${Buffer.from('\u0000u\u0000p4ss').toString('base64')}`) return '235 2.7.0 ok';
        if (line === 'AUTH LOGIN') return '334 VXNlcm5hbWU6';
        if (line === Buffer.from('u').toString('base64')) return '334 UGFzc3dvcmQ6';
        if (line === Buffer.from('p4ss').toString('base64')) return '235 2.7.0 ok';
        return plain([])(line, state);
      });
      const session = await SmtpSession.open(options(server.port, { auth: { user: 'u', pass: 'p4ss' } }));
      expect(server.received.some((l) => l.startsWith(mechanisms === 'LOGIN' ? 'AUTH LOGIN' : 'AUTH PLAIN'))).toBe(
        true,
      );
      session.close();
    }
    const refusing = await scripted((line) =>
      line.startsWith('EHLO')
        ? ['250-mx.test', '250 AUTH PLAIN']
        : line.startsWith('AUTH')
          ? '535 5.7.8 nope'
          : '250 Ok',
    );
    const error = await SmtpSession.open(options(refusing.port, { auth: { user: 'u', pass: 'p4ss' } })).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'EAUTH', command: 'AUTH PLAIN', responseCode: 535 });
    expect(JSON.stringify(error) + String(error)).not.toContain(Buffer.from('\u0000u\u0000p4ss').toString('base64'));
  });

  it('announces SMTPUTF8 for an internationalized address, and refuses to send one to a server without it', async () => {
    const with8 = await scripted(plain(['PIPELINING', 'SMTPUTF8']));
    const session = await SmtpSession.open(options(with8.port));
    await session.send({ from: 'a@sender.test', to: ['jörg@example.test'] }, body('x\r\n'));
    expect(with8.received).toContain('MAIL FROM:<a@sender.test> SMTPUTF8');
    session.close();
    const without = await scripted(plain(['PIPELINING']));
    const plainSession = await SmtpSession.open(options(without.port));
    await expect(
      plainSession.send({ from: 'a@sender.test', to: ['jörg@example.test'] }, body('x\r\n')),
    ).rejects.toMatchObject({ code: 'EENVELOPE' });
    plainSession.close();
  });

  it('fails with a clear code: no greeting in time, garbage instead of SMTP, a dropped connection, STARTTLS required but absent', async () => {
    const silent = await scripted(() => undefined, null);
    await expect(SmtpSession.open(options(silent.port, { greetingTimeoutMs: 200 }))).rejects.toMatchObject({
      code: 'ETIMEDOUT',
      command: 'CONN',
    });
    const http = await scripted(() => undefined, 'HTTP/1.1 400 Bad Request');
    await expect(SmtpSession.open(options(http.port))).rejects.toMatchObject({ code: 'EPROTOCOL' });
    const banner554 = await scripted(() => undefined, '554 5.7.1 no thanks');
    await expect(SmtpSession.open(options(banner554.port))).rejects.toMatchObject({
      code: 'EREPLY',
      command: 'CONN',
      responseCode: 554,
    });
    const noTls = await scripted(plain(['PIPELINING']));
    await expect(SmtpSession.open(options(noTls.port, { requireTls: true }))).rejects.toMatchObject({
      code: 'ETLS',
      command: 'STARTTLS',
    });

    const dropping = await scripted((line, state) => {
      if (!line.startsWith('RCPT')) return plain([])(line, state);
      state.drop();
      return undefined;
    });
    const session = await SmtpSession.open(options(dropping.port));
    const closed = new Promise<void>((resolve) => session.onClose(resolve));
    await expect(session.send({ from: 'a@sender.test', to: ['b@example.test'] }, body('x\r\n'))).rejects.toMatchObject({
      code: 'ECONNECTION',
      command: 'RCPT TO',
    });
    await closed;
    expect(session.closed).toBe(true);
  });

  it('times out a reply that never comes, and closes an idle connection the server ends with 421', async () => {
    const stalling = await scripted((line, state) => (line.startsWith('RCPT') ? undefined : plain([])(line, state)));
    const session = await SmtpSession.open(options(stalling.port, { socketTimeoutMs: 200 }));
    await expect(session.send({ from: 'a@sender.test', to: ['b@example.test'] }, body('x\r\n'))).rejects.toMatchObject({
      code: 'ETIMEDOUT',
      command: 'RCPT TO',
    });
    expect(session.closed).toBe(true);

    let serverSide: Socket | undefined;
    const server = await scripted(plain(['PIPELINING']));
    servers.at(-1)?.on('connection', (s: Socket) => (serverSide = s));
    const idle = await SmtpSession.open(options(server.port));
    const closed = new Promise<void>((resolve) => idle.onClose(resolve));
    serverSide?.write('421 4.4.2 idle too long\r\n');
    await closed;
    expect(idle.closed).toBe(true);
  });

  it('names the step that failed: AUTH not offered, LOGIN refused, EHLO answered 421, HELO refused', async () => {
    const noAuth = await scripted(plain(['PIPELINING']));
    await expect(SmtpSession.open(options(noAuth.port, { auth: { user: 'u', pass: 'p' } }))).rejects.toMatchObject({
      code: 'EAUTH',
      command: 'AUTH',
      message: 'the server does not offer AUTH',
    });
    const loginOnly = await scripted((line, state) => {
      if (line.startsWith('EHLO')) return ['250-mx.test', '250 AUTH LOGIN'];
      if (line === 'AUTH LOGIN') return '334 VXNlcm5hbWU6';
      if (line === Buffer.from('u').toString('base64')) return '535 5.7.8 no such user';
      return plain([])(line, state);
    });
    await expect(SmtpSession.open(options(loginOnly.port, { auth: { user: 'u', pass: 'p' } }))).rejects.toMatchObject({
      code: 'EAUTH',
      command: 'AUTH LOGIN',
      responseCode: 535,
      message: 'authentication refused: 535',
    });

    const closing = await scripted((line) => (line.startsWith('EHLO') ? '421 4.3.2 shutting down' : '250 Ok'));
    await expect(SmtpSession.open(options(closing.port))).rejects.toMatchObject({
      code: 'EREPLY',
      command: 'EHLO',
      responseCode: 421,
    });
    // a server closing down is not asked HELO
    expect(closing.received.some((l) => l.startsWith('HELO'))).toBe(false);
    const refusing = await scripted((line) =>
      line.startsWith('EHLO') || line.startsWith('HELO') ? '550 go away' : '',
    );
    await expect(SmtpSession.open(options(refusing.port))).rejects.toMatchObject({
      code: 'EREPLY',
      command: 'HELO',
      responseCode: 550,
    });
  });

  it('hands back a refused DATA with the recipients accepted, and closes when reading the message fails', async () => {
    const noData = await scripted((line, state) =>
      line === 'DATA' ? '554 5.5.1 no data today' : plain(['PIPELINING'])(line, state),
    );
    const session = await SmtpSession.open(options(noData.port));
    const result = await session.send({ from: 'a@sender.test', to: ['b@example.test'] }, body('x\r\n'));
    expect(result.data).toMatchObject({ code: 554 });
    expect(result.rcpt).toMatchObject([{ code: 250 }]);
    session.close();

    const server = await scripted(plain(['PIPELINING']));
    const reading = await SmtpSession.open(options(server.port));
    async function* failing(): AsyncGenerator<Buffer> {
      yield Buffer.from('Subject: half\r\n');
      yield Buffer.from('\r\nmore\r\n');
      throw new Error('disk read failed');
    }
    await expect(reading.send({ from: 'a@sender.test', to: ['b@example.test'] }, failing())).rejects.toMatchObject({
      code: 'ESTREAM',
      command: 'DATA',
      message: 'reading the message failed: disk read failed',
      cause: expect.objectContaining({ message: 'disk read failed' }),
    });
    expect(reading.closed).toBe(true);
  });

  it('fails what is asked of a closed connection, naming the step', async () => {
    const server = await scripted(plain([]));
    const socket = connect(server.port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const wire = new SmtpWire(socket, 2_000);
    wire.close();
    await expect(wire.command('MAIL FROM:<a@sender.test>')).rejects.toMatchObject({
      code: 'ECONNECTION',
      command: 'MAIL FROM',
      message: 'connection closed',
    });
    await expect(wire.writeWithBackpressure(Buffer.from('x'))).rejects.toMatchObject({
      code: 'ECONNECTION',
      command: 'DATA',
      message: 'connection closed while sending the message',
    });
    expect(wire.encrypted).toBe(false);
    expect(wire.tls).toBeUndefined();
  });
});

describe('SmtpSession, step by step', () => {
  const to = (...r: string[]): { from: string; to: string[] } => ({ from: 'a@sender.test', to: r });

  it('hangs up when shut down while opening, and lets go of the signal once open', async () => {
    const silent = await scripted(() => undefined, null);
    const shutdown = new AbortController();
    const opening = SmtpSession.open(options(silent.port, { signal: shutdown.signal, greetingTimeoutMs: 10_000 }));
    const refused = opening.catch((e: unknown) => e);
    await eventually(() => silent.connections() === 1);
    shutdown.abort();
    expect(await refused).toMatchObject({ code: 'ECONNECTION', command: 'CONN' });

    const server = await scripted(plain(['PIPELINING']));
    const later = new AbortController();
    const session = await SmtpSession.open(options(server.port, { signal: later.signal }));
    later.abort();
    expect(session.closed).toBe(false);
    await session.send(to('b@example.test'), body('x\r\n'));
    session.close();
  });

  it('sends the message exactly once after 354, and names DATA when its reply never comes', async () => {
    const server = await scripted(plain(['PIPELINING']));
    const session = await SmtpSession.open(options(server.port));
    await session.send(to('b@example.test'), body('Subject: x\r\n\r\nhi\r\n'));
    expect(server.received.filter((l) => l.endsWith('.\r\n'))).toEqual(['Subject: x\r\n\r\nhi\r\n.\r\n']);
    session.close();

    const dropping = await scripted((line, state) => {
      if (!state.inData) return plain(['PIPELINING'])(line, state);
      state.drop();
      return undefined;
    });
    const dropped = await SmtpSession.open(options(dropping.port));
    await expect(dropped.send(to('b@example.test'), body('x\r\n'))).rejects.toMatchObject({
      code: 'ECONNECTION',
      command: 'DATA',
    });
  });

  it('reports a refused RSET, and QUITs: closing on the answer, or after 2 s without one', async () => {
    const server = await scripted((line, state) =>
      line === 'RSET' ? '421 4.3.2 closing' : line === 'QUIT' ? '221 bye' : plain([])(line, state),
    );
    const session = await SmtpSession.open(options(server.port));
    await expect(session.reset()).rejects.toMatchObject({ code: 'EREPLY', command: 'RSET', responseCode: 421 });
    session.close();

    const polite = await scripted(plain([]));
    const quitting = await SmtpSession.open(options(polite.port));
    const closed = new Promise<void>((resolve) => quitting.onClose(resolve));
    quitting.quit();
    await closed;
    expect(polite.received.at(-1)).toBe('QUIT');
    quitting.quit(); // closed already: nothing more is sent
    expect(polite.received.filter((l) => l === 'QUIT')).toHaveLength(1);

    const mute = await scripted((line, state) => (line === 'QUIT' ? undefined : plain([])(line, state)));
    const waiting = await SmtpSession.open(options(mute.port));
    const started = Date.now();
    const gone = new Promise<void>((resolve) => waiting.onClose(resolve));
    waiting.quit();
    await gone;
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
  });

  it('goes on in clear when STARTTLS is refused and not required, and stops on a 421 or when it is required', async () => {
    const refusing =
      (code: string): Answer =>
      (line, state) =>
        line === 'STARTTLS' ? `${code} not now` : plain(['STARTTLS'])(line, state);
    const clear = await scripted(refusing('454 4.7.0'));
    const session = await SmtpSession.open(options(clear.port));
    expect(session.encrypted).toBe(false);
    session.close();
    const closing = await scripted(refusing('421 4.3.2'));
    await expect(SmtpSession.open(options(closing.port))).rejects.toMatchObject({
      code: 'EREPLY',
      command: 'STARTTLS',
      responseCode: 421,
    });
    const required = await scripted(refusing('454 4.7.0'));
    await expect(SmtpSession.open(options(required.port, { requireTls: true }))).rejects.toMatchObject({
      command: 'STARTTLS',
      responseCode: 454,
    });
    const absent = await scripted(plain(['PIPELINING']));
    await expect(SmtpSession.open(options(absent.port, { requireTls: true }))).rejects.toMatchObject({
      code: 'ETLS',
      message: 'the server does not offer STARTTLS, which this connection requires',
    });
  });

  it('does not STARTTLS inside implicit TLS, and tells why a certificate did not verify', async () => {
    const pem = await (await testCa()).issue('mx.good.test');
    const server = await scripted(plain(['STARTTLS', 'PIPELINING']), '220 mx.test ESMTP', pem);
    const session = await SmtpSession.open(options(server.port, { secure: true }));
    expect(server.received.filter((l) => l === 'STARTTLS')).toEqual([]);
    expect(session.encrypted).toBe(true);
    expect(session.tls).toMatchObject({ protocol: expect.stringMatching(/^TLSv1/), authorized: false });
    expect(session.tls?.authorizationError).toMatch(/\S/);
    session.close();
  });

  it('asks for SMTPUTF8 when any address needs it, naming the problem when the server lacks it', async () => {
    const without = await scripted(plain(['PIPELINING']));
    const session = await SmtpSession.open(options(without.port));
    await expect(session.send(to('b@example.test', 'jörg@example.test'), body('x\r\n'))).rejects.toMatchObject({
      code: 'EENVELOPE',
      command: 'MAIL FROM',
      message: 'an address needs SMTPUTF8, which the server does not offer',
    });
    session.close();
  });

  it('one step at a time: no RCPT after a refused MAIL, DATA only when someone was accepted (200–399)', async () => {
    const answers: Record<string, string> = {
      'MAIL FROM:<refused@sender.test>': '550 5.7.1 not you',
      'MAIL FROM:<a@sender.test>': '200 fine',
      'RCPT TO:<later@example.test>': '400 4.0.0 later',
      'RCPT TO:<no@example.test>': '550 5.1.1 no',
      'RCPT TO:<yes@example.test>': '399 odd but positive',
    };
    const server = await scripted((line, state) => answers[line] ?? plain([])(line, state));
    const session = await SmtpSession.open(options(server.port));
    await expect(
      session.send({ from: 'refused@sender.test', to: ['yes@example.test'] }, body('x\r\n')),
    ).rejects.toMatchObject({ command: 'MAIL FROM', responseCode: 550 });
    expect(server.received.some((l) => l.startsWith('RCPT'))).toBe(false);
    await session.reset();

    const none = await session.send(to('later@example.test', 'no@example.test'), body('x\r\n'));
    expect(none.rcpt.map((r) => r.code)).toEqual([400, 550]);
    expect(server.received.includes('DATA')).toBe(false);

    const some = await session.send(to('no@example.test', 'yes@example.test'), body('x\r\n'));
    expect(some.data).toMatchObject({ code: 250 });
    expect(server.received.filter((l) => l === 'DATA')).toHaveLength(1);
    session.close();
  });

  it('reads extensions from the EHLO lines after the first, whatever the spacing', async () => {
    let held = 0;
    const server = await scripted((line, state) => {
      if (line.startsWith('EHLO')) return ['250-STARTTLS', '250-  pipelining  ', '250 SIZE   1000'];
      // silent until DATA: only a pipelining client gets past MAIL FROM
      if (line.startsWith('MAIL') || line.startsWith('RCPT')) {
        held += 1;
        return undefined;
      }
      if (line === 'DATA') return [...Array.from({ length: held }, () => '250 Ok'), '354 go ahead'];
      return plain([])(line, state);
    });
    // the first line is the server's name, not an extension: no STARTTLS is offered
    await expect(SmtpSession.open(options(server.port, { requireTls: true }))).rejects.toMatchObject({
      code: 'ETLS',
      command: 'STARTTLS',
    });
    const session = await SmtpSession.open(options(server.port));
    await session.send({ ...to('b@example.test'), size: 5 }, body('x\r\n'));
    // PIPELINING: MAIL, RCPT and DATA went before the first answer; SIZE announced
    expect(server.received).toContain('MAIL FROM:<a@sender.test> SIZE=5');
    session.close();
  });
});

describe('commandOf', () => {
  it.each([
    ['mail from:<a@b.test> SIZE=10', 'MAIL FROM'],
    ['RCPT TO:<c@d.test> NOTIFY=NEVER', 'RCPT TO'],
    ['EHLO mta.sender.test', 'EHLO'],
    ['data', 'DATA'],
    ['AUTH PLAIN AHUAcDRzcw==', 'AUTH'],
    // never more than the first nine characters of a line: a bare credential line shows no credential
    ['dXNlcm5hbWVAZXhhbXBsZS50ZXN0', 'DXNLCM5HB'],
  ])('%j is %j', (line, command) => {
    expect(commandOf(line)).toBe(command);
  });
});
