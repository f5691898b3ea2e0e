import { afterEach, describe, expect, it } from 'vitest';
import { CliError, EXIT } from '../../src/cli/admin/index.js';
import { parseServer } from '../../src/cli/admin/address.js';
import { transportOptions } from '../../src/cli/admin/send.js';
import { UNTRUSTED_CERTIFICATE_HINT } from '../../src/cli/admin/send-failure.js';
import { startTestDaemon } from '../helpers/daemon.js';
import { startSink, type Sink } from '../helpers/sink.js';
import { runCli } from './helpers.js';

let sink: Sink | undefined;
afterEach(async () => {
  await sink?.close();
  sink = undefined;
});

describe('gopherpost send', () => {
  it('delivers a test message with the given envelope, subject and body', async () => {
    sink = await startSink();
    const { stdout, error } = await runCli([
      'send',
      '--server',
      `127.0.0.1:${sink.port}`,
      '--from',
      'tester@example.test',
      '--to',
      'a@example.test',
      '--to',
      'b@example.test,c@example.test',
      '--subject',
      'Hello from the CLI',
      '--body',
      'Line one.',
      '--helo',
      'cli.example.test',
    ]);
    expect(error).toBeUndefined();
    const [message] = await sink.waitForMessages(1);
    expect(message?.from).toBe('tester@example.test');
    expect(message?.to).toEqual(['a@example.test', 'b@example.test', 'c@example.test']);
    expect(message?.heloName).toBe('cli.example.test');
    const raw = message?.raw.toString('utf8') ?? '';
    expect(raw).toMatch(/^Subject: Hello from the CLI\r$/m);
    expect(raw).toContain('Line one.');
    expect(stdout).toMatch(/^accepted: a@example.test, b@example.test, c@example.test$/m);
    expect(stdout).toMatch(/^message-id: <.+>$/m);
    expect(stdout).toMatch(/^server: 250/m);
  });

  it('--starttls --auth --insecure upgrades and authenticates against a self-signed server', async () => {
    sink = await startSink({ tls: 'starttls', auth: { user: 'me', pass: 'p:ss' } });
    const { error } = await runCli([
      'send',
      '-s',
      `127.0.0.1:${sink.port}`,
      '--starttls',
      '--insecure',
      '--auth',
      'me:p:ss',
      '-f',
      'me@example.test',
      '-t',
      'x@example.test',
    ]);
    expect(error).toBeUndefined();
    const [message] = await sink.waitForMessages(1);
    expect(message).toMatchObject({ secure: true, user: 'me' });
  });

  it('without --insecure a self-signed certificate is refused', async () => {
    sink = await startSink({ tls: 'starttls' });
    const { error } = await runCli(['send', '-s', `127.0.0.1:${sink.port}`, '--starttls', '-t', 'x@example.test']);
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(EXIT.unavailable);
    expect((error as CliError).message).toMatch(/send failed: .*certificate/i);
  });

  it("against the daemon's development certificate it explains the self-signed certificate and suggests -k", async () => {
    const daemon = await startTestDaemon({ SMTP_REQUIRE_LOCAL_DOMAIN: 'false' }); // TLS on, no SMTP_TLS_CERT
    try {
      const args = ['send', '-s', `127.0.0.1:${daemon.port}`, '-f', 'a@example.test', '-t', 'x@example.test'];
      const refused = await runCli(args);
      expect(refused.error).toBeInstanceOf(CliError);
      const error = refused.error as CliError;
      expect(error.exitCode).toBe(EXIT.unavailable); // every failed send exits 69, as before
      expect(error.message).toMatch(/^send failed: self-signed certificate\n/);
      expect(error.message).toContain(UNTRUSTED_CERTIFICATE_HINT);
      expect(error.message).toMatch(/SMTP_TLS_CERT/);
      expect(error.message).toMatch(/--insecure \(-k\)/);
      expect(await daemon.daemon.spool.depth()).toBe(0);

      const accepted = await runCli([...args, '-k']);
      expect(accepted.error).toBeUndefined();
      expect(accepted.stdout).toMatch(/^accepted: x@example.test$/m);
      expect(await daemon.daemon.spool.depth()).toBe(1);
    } finally {
      await daemon.stop();
    }
  });

  it('a failure that is not about the certificate gets no certificate hint', async () => {
    const { error } = await runCli(['send', '-s', '127.0.0.1:1', '-t', 'x@example.test', '--timeout', '5']);
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).message).toMatch(/^send failed: .*ECONNREFUSED/);
    expect((error as CliError).message).not.toContain('--insecure');
  });

  it('--starttls against a server without STARTTLS fails; --no-tls sends in clear', async () => {
    sink = await startSink();
    const required = await runCli(['send', '-s', `127.0.0.1:${sink.port}`, '--starttls', '-t', 'x@example.test']);
    expect(required.error).toBeInstanceOf(CliError);
    const clear = await runCli(['send', '-s', `127.0.0.1:${sink.port}`, '--no-tls', '-t', 'x@example.test']);
    expect(clear.error).toBeUndefined();
    expect((await sink.waitForMessages(1))[0]?.secure).toBe(false);
  });

  it('reports rejected recipients and fails', async () => {
    sink = await startSink({
      rcpt: (a) => (a.startsWith('bad') ? { code: 550, message: '5.1.1 No such user' } : undefined),
    });
    const { stdout, error } = await runCli([
      'send',
      '-s',
      `127.0.0.1:${sink.port}`,
      '-t',
      'good@example.test',
      '-t',
      'bad@example.test',
    ]);
    expect(stdout).toMatch(/^rejected: bad@example.test$/m);
    expect(error).toBeInstanceOf(CliError);
  });

  it('needs at least one --to', async () => {
    const { error } = await runCli(['send']);
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(EXIT.usage);
  });
});

describe('send option mapping', () => {
  const base = { server: 'mail.example.test:587', subject: 's', body: 'b', tls: true, timeout: '30' };

  it.each([
    [{}, { host: 'mail.example.test', port: 587, secure: false, requireTLS: false, ignoreTLS: false }],
    [{ starttls: true }, { requireTLS: true, ignoreTLS: false }],
    [{ tls: false }, { ignoreTLS: true, requireTLS: false }],
    [
      { implicitTls: true, server: 'mail.example.test' },
      { secure: true, port: 465 },
    ],
    [{ insecure: true }, { tls: { rejectUnauthorized: false, servername: 'mail.example.test' } }],
    [{ auth: 'u:p:w' }, { auth: { user: 'u', pass: 'p:w' } }],
  ])('%j', (flags, expected) => {
    expect(transportOptions({ ...base, ...flags })).toMatchObject(expected);
  });

  it('rejects contradictions and bad values', () => {
    expect(() => transportOptions({ ...base, starttls: true, tls: false })).toThrow(/contradict/);
    expect(() => transportOptions({ ...base, auth: 'nopass' })).toThrow(/user:password/);
    expect(() => transportOptions({ ...base, timeout: 'x' })).toThrow(/timeout/);
  });

  it.each([
    ['localhost', { host: 'localhost', port: 25 }],
    ['localhost:2525', { host: 'localhost', port: 2525 }],
    ['[::1]:2525', { host: '::1', port: 2525 }],
    ['192.0.2.1:26', { host: '192.0.2.1', port: 26 }],
  ])('parseServer(%s)', (text, expected) => {
    expect(parseServer(text, 25)).toEqual(expected);
  });

  it('parseServer rejects junk', () => {
    for (const text of ['', 'host:0', 'host:99999', 'a:b:c', '[::1'])
      expect(() => parseServer(text, 25), text).toThrow(CliError);
  });
});
