/**
 * smtp-server, changed in place: narrow patches to its server, connection and
 * parser classes, each with its reason and with what it relies on.
 *
 * Owns: every change this daemon makes to smtp-server's internals (and the one
 *       internal it sets on a server: the command logger).
 * In:   smtp-server as installed; package.json pins it to PINNED_SMTP_SERVER.
 * Out:  `patchSmtpServer()`, which first checks that every method a patch
 *       relies on is there with the expected shape (patch-check.ts) and throws
 *       `SmtpServerMismatch`, naming the method and the pinned version, if not;
 *       then applies the patches, once per process.
 *
 * Upgrading smtp-server: bump the pin, run test/inbound/patch-check.test.ts,
 * re-read each patch below against the new source, then update its
 * expectations (markers, parameter counts, fingerprints).
 */
import { SMTPServer } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { SMTPStream } from 'smtp-server/lib/smtp-stream.js';
import { feedDataStream } from './data-scan.js';
import { assertSmtpServer, type Patch, type SmtpServerLibrary } from './patch-check.js';
import { proxyHeaders, unwantedProxyHeaders } from './proxy-patches.js';
import { requireTlsReplies } from './requiretls-patch.js';

const ENHANCED = /^[245]\.\d{1,3}\.\d{1,3} /;

/**
 * No fixed 100 ms wait before the greeting. smtp-server waits
 * `setTimeout(connectionReady, 100)` on every connection to catch early
 * talkers, which caps one-message-per-connection senders at sessions / 0.1 s
 * (≈200 msgs/s at 20 sessions) while the CPU idles. Early talkers are still
 * refused: input before the greeting is rejected until our access check
 * (onConnect) has answered. (The replaced step's `maxClients` check is
 * dropped with it: we never set `maxClients`; our limits run in onConnect.)
 */
const immediateGreeting: Patch = {
  name: 'greeting without the 100 ms wait',
  expects: [
    {
      on: 'SMTPConnection',
      method: 'init',
      length: 0,
      markers: ['setTimeout(() => this.connectionReady(), 100)'],
      fingerprint: '1265a7d7ca8f5510',
    },
    { on: 'SMTPConnection', method: '_setListeners', length: 1, markers: ['callback()'] },
    { on: 'SMTPConnection', method: 'connectionReady', length: 1 },
  ],
  apply() {
    SMTPConnection.prototype.init = function init(this: SMTPConnection): void {
      this._setListeners(() => this.connectionReady());
    };
  },
};

/**
 * One wrapper of `send` for three reasons:
 * - A reply text that starts with an RFC 3463 enhanced code (`5.7.1 …`) is
 *   sent with that code instead of the one smtp-server derives from the basic
 *   code alone (which would turn `554 5.7.1` into `554 5.6.0`); relies on
 *   `context === false` meaning "no enhanced code".
 * - A session that was told 221/421 (closing) is reported through the
 *   `onSessionEnding` option right away, not when the socket finally closes:
 *   a client that reconnects at once must not find its old session still
 *   counted against SMTP_MAX_CONNECTIONS_PER_IP.
 * - The EHLO reply: AUTH is left out before STARTTLS unless insecure AUTH
 *   is allowed (SPEC §3; smtp-server advertises it and then answers 538),
 *   and the `ehloExtensions` option's lines (LIMITS, which smtp-server does
 *   not know) are added at the end; relies on EHLO's features being the one
 *   `send(250, [lines])` there is, with an `AUTH …` line.
 */
const sendWrapper: Patch = {
  name: 'send: enhanced codes from the text, session ending at 221/421, the EHLO lines',
  expects: [
    { on: 'SMTPConnection', method: 'send', length: 3, markers: ['this._getEnhancedStatusCode(code, context)'] },
    { on: 'SMTPConnection', method: '_getEnhancedStatusCode', length: 2, markers: ['context === false'] },
    {
      on: 'SMTPConnection',
      method: 'handler_EHLO',
      length: 2,
      markers: ["features.push(['AUTH']", 'this.send(250, ['],
    },
    { on: 'SMTPConnection', method: 'constructor', length: 3, markers: ['this.secure = ', 'this._server = server'] },
  ],
  apply() {
    const proto = SMTPConnection.prototype;
    // eslint-disable-next-line @typescript-eslint/unbound-method -- kept to be called with .call(this) below
    const send = proto.send;
    proto.send = function sendWithEnhancedCode(this: SMTPConnection, code, data, context): void {
      if (Array.isArray(data) && code === 250) {
        send.call(this, code, ehloLines(this, data), context);
        return;
      }
      if (typeof data === 'string' && ENHANCED.test(data)) {
        send.call(this, code, data, false);
        if (code === 421) this._server.options.onSessionEnding?.(this.session);
        return;
      }
      send.call(this, code, data, context);
      if (code === 221 || code === 421) this._server.options.onSessionEnding?.(this.session);
    };
  },
};

/** EHLO's feature lines as we advertise them (see `sendWrapper`). */
function ehloLines(connection: SMTPConnection, lines: readonly string[]): string[] {
  const options = connection._server.options;
  const kept = connection.secure || options.allowInsecureAuth ? lines : lines.filter((l) => !l.startsWith('AUTH '));
  return [...kept, ...(options.ehloExtensions ?? [])];
}

/**
 * QUIT closes a plaintext connection as soon as the 221 is in the kernel
 * (nothing left in Node's buffer), as Postfix does, instead of half-closing
 * and waiting for the client. A client that closes without reading the 221
 * would otherwise answer with a reset, and each reset costs an error object
 * with a formatted stack.
 */
const quitAndClose: Patch = {
  name: 'QUIT closes at once',
  expects: [
    {
      on: 'SMTPConnection',
      method: 'handler_QUIT',
      length: 2,
      markers: ["this.send(221, 'Bye')", 'this.close()'],
      fingerprint: '82d176bb3b5d6428',
    },
    { on: 'SMTPConnection', method: 'close', length: 0 },
    {
      on: 'SMTPConnection',
      method: 'constructor',
      length: 3,
      markers: ['this._socket = socket', 'this._upgrading = false'],
    },
  ],
  apply() {
    SMTPConnection.prototype.handler_QUIT = function quitAndClose(this: SMTPConnection, _command, callback): void {
      this.send(221, 'Bye');
      const socket = this._socket;
      if (!this.secure && !this._upgrading && !socket.destroyed && socket.writableLength === 0) socket.destroy();
      this.close();
      callback();
    };
  },
};

/**
 * DATA is scanned for dots at line starts with a native search
 * (`feedDataStream` in data-scan.ts, a step-for-step copy of smtp-server's
 * own step) instead of a JavaScript loop over every byte. Replaced whole, so
 * the original's text is fingerprinted: a change upstream (they are SMTP
 * smuggling fixes, as a rule) must be carried over by hand.
 */
const nativeDotScan: Patch = {
  name: 'DATA dot scan with a native search',
  expects: [
    { on: 'SMTPStream', method: '_feedDataStream', length: 2, fingerprint: '9d8b903f9a3a6354' },
    { on: 'SMTPStream', method: '_endDataMode', length: 3 },
    { on: 'SMTPStream', method: '_countDataBytes', length: 1 },
    {
      on: 'SMTPStream',
      method: 'constructor',
      length: 1,
      markers: ['this._lastBytes', 'this._atDataStart', 'this._dataStream', 'this._feedDataStream(chunk, done)'],
    },
  ],
  apply() {
    SMTPStream.prototype._feedDataStream = feedDataStream;
  },
};

/**
 * Not a prototype change: our command logger is set on each server itself
 * (`useCommandLogger`), not through the `logger` option, which is wrapped in
 * a per-call adapter (argument copies, an Object.assign and a `delete`) that
 * runs for every command and reply even while auditing is off. Relies on
 * connections logging through `this._server.logger` with the `command`,
 * `send` and `close` transaction names that audit-logger.ts reads.
 */
const commandLogger: Patch = {
  name: 'command logger set on the server',
  expects: [
    { on: 'SMTPServer', method: 'constructor', length: 1, markers: ['this.logger = '] },
    {
      on: 'SMTPConnection',
      method: 'constructor',
      length: 3,
      markers: ['this._server.logger.debug(', "tnx: 'command'", "tnx: 'send'", "tnx: 'close'"],
    },
  ],
  apply() {
    // applied per server, by useCommandLogger
  },
};

/** Every patch, in the order applied. */
export const PATCHES: readonly Patch[] = [
  immediateGreeting,
  sendWrapper,
  quitAndClose,
  proxyHeaders,
  unwantedProxyHeaders,
  nativeDotScan,
  commandLogger,
  requireTlsReplies,
];

/** smtp-server's classes as installed: what the start-up check reads. */
export const INSTALLED_SMTP_SERVER: SmtpServerLibrary = { SMTPServer, SMTPConnection, SMTPStream };

let applied = false;

/** Checks smtp-server (throws `SmtpServerMismatch` if a patch would not fit), then patches it; once per process. */
export function patchSmtpServer(): void {
  if (applied) return;
  assertSmtpServer(INSTALLED_SMTP_SERVER, PATCHES);
  for (const patch of PATCHES) patch.apply();
  applied = true;
}

/** Sets `logger` on a server (see `commandLogger` above for why not the option). */
export function useCommandLogger(server: SMTPServer, logger: unknown): void {
  (server as unknown as { logger: unknown }).logger = logger;
}
