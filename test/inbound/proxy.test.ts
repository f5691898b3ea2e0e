import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/domain/audit.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { eventually } from '../helpers/eventually.js';
import { tcp4, tcp6, tlv, v1, v2 } from '../helpers/proxy.js';
import { RawSmtp } from '../helpers/smtp-client.js';
import { bodyBytes } from '../helpers/spool.js';

// PROXY protocol v1 and v2 from SMTP_PROXY_FROM (§3), over real sockets. The load balancer is the
// loopback address 127.0.0.2; other loopback addresses (127.0.0.3 …) are peers outside the list.

const BALANCER = '127.0.0.2';
let d: TestDaemon;
const events: AuditEvent[] = [];

beforeAll(async () => {
  d = await startTestDaemon({
    SMTP_PROXY_FROM: `${BALANCER}/32`,
    SMTP_ALLOW_NETWORKS: '127.0.0.0/8,203.0.113.0/24,2001:db8::/32',
    SMTP_MAX_CONNECTIONS_PER_IP: '1',
    SMTP_COMMAND_TIMEOUT: '1', // also the PROXY header's time limit
    SMTP_TLS_PORT: '0',
    LOG_LEVEL: 'debug', // a health check's connect-and-close is a debug line
  });
  d.daemon.audit.raw$.subscribe((event) => events.push(event));
});
afterAll(async () => {
  await d.stop();
});

/** A connection from the balancer that starts with `header`; resolves after the greeting. */
async function proxied(header: string | Buffer, port = d.port): Promise<RawSmtp> {
  const client = await RawSmtp.open(port, '127.0.0.1', BALANCER);
  client.write(header);
  const greeting = await client.read();
  if (greeting?.code !== 220) throw new Error(`no greeting: ${JSON.stringify(greeting)}`);
  return client;
}

/** One message on an open session; the queue id. */
async function send(client: RawSmtp): Promise<string> {
  expect((await client.command('EHLO client.test')).code).toBe(250);
  expect((await client.command('MAIL FROM:<sender@mx.local.test>')).code).toBe(250);
  expect((await client.command('RCPT TO:<rcpt@example.test>')).code).toBe(250);
  expect((await client.command('DATA')).code).toBe(354);
  const reply = await client.command('Subject: proxied\r\n\r\nhello\r\n.');
  expect(reply.code).toBe(250);
  return /queued as ([0-9a-z]{20})/.exec(reply.text)?.[1] ?? '';
}

/** The audit events of the session whose start named `client`. */
function sessionOf(client: string): AuditEvent[] {
  const start = events.find((e) => e.type === 'session.start' && e.client === client);
  return start && 'session' in start ? events.filter((e) => 'session' in e && e.session === start.session) : [];
}

describe('PROXY protocol from a listed peer', () => {
  it('v1: the header source is the client of the session, its Received line and its audit events', async () => {
    const client = await proxied(v1('203.0.113.7', '192.0.2.1', 51234, 25));
    const id = await send(client);
    client.close();
    const body = (await bodyBytes(d.daemon.spool, id)).toString();
    expect(body).toMatch(/^Received: from client\.test \(\[203\.0\.113\.7\]\)/);
    expect(body).not.toContain(BALANCER);
    expect((await d.daemon.spool.get(id))?.envelope.clientAddress).toBe('203.0.113.7');
    expect(sessionOf('203.0.113.7').map((e) => e.type)).toContain('message.stored');
  });

  it('v2: TCP over IPv6 with TLVs, SMTP pipelined in the same packet as the header', async () => {
    const header = v2(
      1,
      0x21,
      Buffer.concat([
        tcp6('20010db8000000000000000000000007', '20010db8000000000000000000000001', 40000, 25),
        tlv(0x04, Buffer.from('no-op')),
      ]),
    );
    const early = await RawSmtp.open(d.port, '127.0.0.1', BALANCER);
    early.write(Buffer.concat([header, Buffer.from('EHLO client.test\r\n')])); // SMTP right behind the header
    const replies: string[] = [];
    for (let reply = await early.read(); reply; reply = await early.read()) replies.push(`${reply.code} ${reply.text}`);
    // the bytes after the header reached SMTP: its EHLO is answered, for the proxied client (or, when it is
    // read before the greeting went out, refused as an early talker's); lost bytes would leave only a timeout
    const answered = replies.some((r) => r.startsWith('250 mx.local.test Nice to meet you, [2001:db8::7]'));
    expect(answered || replies.includes('421 mx.local.test You talk too soon'), replies.join(' | ')).toBe(true);
    await eventually(() => events.some((e) => e.type === 'session.close' && e.client === '2001:db8::7'));
    const again = await proxied(header);
    const id = await send(again);
    again.close();
    expect((await d.daemon.spool.get(id))?.envelope.clientAddress).toBe('2001:db8::7');
  });

  it('v2 on the implicit-TLS port: the header comes before the TLS handshake', async () => {
    const { connect } = await import('node:tls');
    const { connect: tcp } = await import('node:net');
    const port = d.daemon.smtp.tls?.port ?? 0;
    const raw = tcp({ port, host: '127.0.0.1', localAddress: BALANCER });
    await new Promise<void>((resolve) => raw.once('connect', () => resolve()));
    raw.write(v2(1, 0x11, tcp4('203.0.113.9', '192.0.2.1', 1234, 465)));
    const secure = connect({ socket: raw, rejectUnauthorized: false });
    const greeting = await new Promise<string>((resolve) =>
      secure.once('data', (chunk: Buffer) => resolve(chunk.toString())),
    );
    expect(greeting).toMatch(/^220 mx\.local\.test /);
    secure.destroy();
    await eventually(() => events.some((e) => e.type === 'session.start' && e.client === '203.0.113.9'));
  });

  it('access control judges the header source, not the balancer', async () => {
    const client = await RawSmtp.open(d.port, '127.0.0.1', BALANCER);
    client.write(v1('198.51.100.9', '192.0.2.1', 1, 25));
    const reply = await client.read();
    expect([reply?.code, reply?.text]).toEqual([554, '5.7.1 Access denied']);
    await client.waitClosed();
  });

  it('connection limits count the header source: one per client IP behind the same balancer', async () => {
    const first = await proxied(v1('203.0.113.20', '192.0.2.1', 1, 25));
    const other = await proxied(v1('203.0.113.21', '192.0.2.1', 2, 25)); // another client: admitted
    const same = await RawSmtp.open(d.port, '127.0.0.1', BALANCER);
    same.write(v1('203.0.113.20', '192.0.2.1', 3, 25));
    const refused = await same.read();
    expect([refused?.code, refused?.text]).toEqual([
      421,
      '4.7.0 Too many connections from your address, try again later',
    ]);
    for (const c of [first, other, same]) c.close();
  });

  it('v2 LOCAL (a health check): the balancer itself is the client', async () => {
    const client = await proxied(v2(0, 0x00, Buffer.alloc(0)));
    expect((await client.command('QUIT')).code).toBe(221);
    await eventually(() => events.some((e) => e.type === 'session.start' && e.client === BALANCER));
  });
});

describe('PROXY protocol refused', () => {
  /** Every reply the peer gets until the server closes. */
  async function refusedBy(localAddress: string, bytes: string | Buffer | undefined): Promise<string[]> {
    const client = await RawSmtp.open(d.port, '127.0.0.1', localAddress);
    if (bytes !== undefined) client.write(bytes);
    const replies: string[] = [];
    for (let reply = await client.read(3000); reply; reply = await client.read(3000)) {
      replies.push(`${reply.code} ${reply.text}`);
    }
    expect(client.closed).toBe(true);
    return replies;
  }

  it('a v1 header from a peer outside SMTP_PROXY_FROM: 554 5.7.0 and closed', async () => {
    const replies = await refusedBy('127.0.0.3', v1('203.0.113.7', '192.0.2.1', 1, 25));
    // the greeting may have gone out before the header was read; nothing else does
    expect(replies.filter((r) => !r.startsWith('220 '))).toEqual([
      '554 5.7.0 PROXY protocol not allowed from this peer',
    ]);
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'rejected', client: '127.0.0.3', stage: 'connect', code: 554 }),
    );
  });

  it('a v2 header from a peer outside SMTP_PROXY_FROM: 554 5.7.0 and closed (not QUIT by its signature)', async () => {
    const replies = await refusedBy('127.0.0.4', v2(1, 0x11, tcp4('203.0.113.7', '192.0.2.1', 1, 25)));
    expect(replies.filter((r) => !r.startsWith('220 '))).toEqual([
      '554 5.7.0 PROXY protocol not allowed from this peer',
    ]);
  });

  it('no header from a listed peer within the time limit: 554 5.7.0 and closed', async () => {
    const started = Date.now();
    const replies = await refusedBy(BALANCER, undefined);
    expect(replies).toEqual(['554 5.7.0 PROXY protocol header required from this peer']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'rejected', client: BALANCER, reason: 'no PROXY header within 1000 ms' }),
    );
  });

  it.each<[string, string | Buffer]>([
    ['SMTP instead of a header', 'EHLO client.test\r\n'],
    ['a malformed v1 line', 'PROXY TCP4 203.0.113.7 nowhere 1 25\r\n'],
    ['binary garbage', Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00])],
    ['a v2 header for UDP', v2(1, 0x12, tcp4('203.0.113.7', '192.0.2.1', 1, 25))],
  ])('%s from a listed peer: 554 5.7.0 and closed, nothing stored', async (_what, bytes) => {
    const replies = await refusedBy(BALANCER, bytes);
    expect(replies).toEqual(['554 5.7.0 PROXY protocol header required from this peer']);
  });

  it("a listed peer's connect-and-close (a TCP health check) is a debug line, not a warning or a rejection", async () => {
    const probe = await RawSmtp.open(d.port, '127.0.0.1', BALANCER);
    probe.close();
    await eventually(() => d.logs.some((line) => line.includes('connected and left without a header')));
    const line = d.logs.find((l) => l.includes('connected and left without a header')) ?? '';
    expect(JSON.parse(line)).toMatchObject({ level: 'debug' });
    expect(events).not.toContainEqual(
      expect.objectContaining({ type: 'rejected', reason: 'the peer closed before its PROXY header' }),
    );
  });

  it('logs a refusal as one warning line, without a stack trace', () => {
    const warnings = d.logs.filter((line) => line.includes('PROXY protocol: refused'));
    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings.join('\n')).not.toMatch(/\n\s+at /);
  });
});

describe('PROXY protocol not configured', () => {
  let plain: TestDaemon;
  beforeAll(async () => {
    plain = await startTestDaemon({ SMTP_ALLOW_NETWORKS: '127.0.0.0/8' });
  });
  afterAll(async () => {
    await plain.stop();
  });

  it('an empty first line is an empty command (500), not a PROXY v2 signature; the session goes on', async () => {
    const client = await RawSmtp.open(plain.port);
    expect((await client.read())?.code).toBe(220);
    expect((await client.command('')).code).toBe(500);
    expect((await client.command('EHLO client.test')).code).toBe(250);
    expect(client.closed).toBe(false);
    client.close();
  });

  it('a v1 header is still refused: 554 5.7.0 and closed', async () => {
    const client = await RawSmtp.open(plain.port);
    expect((await client.read())?.code).toBe(220);
    const reply = await client.command('PROXY TCP4 203.0.113.7 192.0.2.1 1 25');
    expect(`${reply.code} ${reply.text}`).toBe('554 5.7.0 PROXY protocol not allowed from this peer');
    await client.waitClosed();
  });
});
