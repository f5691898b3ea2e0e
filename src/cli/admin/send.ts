import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { Command, Option } from 'commander';
import nodemailer from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import { parseServer } from './address.js';
import { CliError, EXIT } from './errors.js';
import type { CliIo } from './output.js';
import { describeSendFailure } from './send-failure.js';

const DEFAULT_SERVER = 'localhost:2525';

interface SendOptions {
  readonly server: string;
  readonly from?: string;
  readonly to?: readonly string[];
  readonly subject: string;
  readonly body: string;
  readonly starttls?: boolean;
  readonly tls: boolean;
  readonly implicitTls?: boolean;
  readonly auth?: string;
  readonly insecure?: boolean;
  readonly helo?: string;
  readonly timeout: string;
}

function collect(value: string, previous: readonly string[] | undefined): string[] {
  return [
    ...(previous ?? []),
    ...value
      .split(',')
      .map((v) => v.trim())
      .filter((v) => v !== ''),
  ];
}

function parseAuth(text: string): { user: string; pass: string } {
  const colon = text.indexOf(':');
  if (colon <= 0) throw new CliError('--auth: expected user:password', EXIT.usage);
  return { user: text.slice(0, colon), pass: text.slice(colon + 1) };
}

/** nodemailer transport options for `send`'s flags (pure, tested as a table). */
export function transportOptions(options: SendOptions): SMTPTransport.Options {
  if (options.starttls && !options.tls) throw new CliError('--starttls and --no-tls contradict each other', EXIT.usage);
  if (options.implicitTls && !options.tls)
    throw new CliError('--implicit-tls and --no-tls contradict each other', EXIT.usage);
  const { host, port } = parseServer(options.server, options.implicitTls ? 465 : 25);
  const timeout = Number(options.timeout) * 1000;
  if (!Number.isFinite(timeout) || timeout <= 0) throw new CliError('--timeout: expected seconds > 0', EXIT.usage);
  return {
    host,
    port,
    secure: options.implicitTls === true,
    requireTLS: options.starttls === true,
    ignoreTLS: !options.tls,
    // SNI carries names only (RFC 6066); for an IP literal the certificate is checked against the IP.
    tls: { rejectUnauthorized: options.insecure !== true, ...(isIP(host) === 0 ? { servername: host } : {}) },
    ...(options.auth ? { auth: parseAuth(options.auth) } : {}),
    ...(options.helo ? { name: options.helo } : {}),
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
  };
}

/** `gopherpost send`: one test message to an SMTP server, by nodemailer. */
export function sendCommand(io: CliIo): Command {
  const defaultFrom = `postmaster@${hostname()}`;
  return new Command('send')
    .description('send a quick test message to an SMTP server')
    .option('-s, --server <host:port>', 'SMTP server to talk to', DEFAULT_SERVER)
    .option('-f, --from <address>', `envelope and header sender (default: ${defaultFrom})`)
    .option('-t, --to <address>', 'recipient (required); repeat the option or separate with commas', collect)
    .option('--subject <text>', 'Subject header', 'GopherPost test message')
    .option('--body <text>', 'plain-text body', 'This is a test message sent by gopherpost send.')
    .addOption(new Option('--starttls', 'require STARTTLS (fail if the server does not offer it)').conflicts('tls'))
    .option('--no-tls', 'never use STARTTLS, even when offered')
    .option('--implicit-tls', 'connect with TLS from the start (SMTPS, default port 465)')
    .option(
      '--auth <user:password>',
      'authenticate with AUTH PLAIN/LOGIN (needs TLS unless the server allows otherwise)',
    )
    .option('-k, --insecure', 'accept any TLS certificate (self-signed development servers)')
    .option('--helo <name>', 'name to send in EHLO/HELO (default: this host name)')
    .option('--timeout <seconds>', 'connection and reply timeout', '30')
    .addHelpText(
      'after',
      '\nBy default STARTTLS is used when the server offers it, and certificates are checked.\n' +
        'Examples:\n' +
        '  gopherpost send --to alice@example.com\n' +
        '  gopherpost send -s mail.example.com:587 --starttls --auth me:secret -f me@example.com -t you@example.org\n' +
        '  gopherpost send -s localhost:2525 -k -t a@example.com -t b@example.com --subject hi --body "hello"',
    )
    .action(async (options: SendOptions) => {
      const to = options.to ?? [];
      if (to.length === 0) throw new CliError('send: at least one --to address is required', EXIT.usage);
      const from = options.from ?? defaultFrom;
      const transport = nodemailer.createTransport(transportOptions(options));
      let info: SMTPTransport.SentMessageInfo;
      try {
        info = await transport.sendMail({
          from,
          to: [...to],
          subject: options.subject,
          text: options.body.endsWith('\n') ? options.body : options.body + '\n',
          envelope: { from, to: [...to] },
        });
      } catch (err: unknown) {
        throw new CliError(describeSendFailure(err), EXIT.unavailable);
      } finally {
        transport.close();
      }
      const list = (addresses: readonly (string | { address: string })[]): string =>
        addresses.map((a) => (typeof a === 'string' ? a : a.address)).join(', ');
      io.out(`accepted: ${list(info.accepted) || '(none)'}\n`);
      if (info.rejected.length > 0) io.out(`rejected: ${list(info.rejected)}\n`);
      io.out(`message-id: ${info.messageId}\nserver: ${info.response}\n`);
      if (info.rejected.length > 0) throw new CliError('some recipients were rejected');
    });
}
