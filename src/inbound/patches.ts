import { SMTPServer } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { SMTPStream } from 'smtp-server/lib/smtp-stream.js';
import { feedDataStream } from './data-scan.js';
import { pooledRandomBytes } from '../spool/random-pool.js';

/**
 * Narrow changes to smtp-server's connection and parser classes, applied once:
 *
 * 1. No fixed 100 ms wait before the greeting. smtp-server 3.21 waits
 *    `setTimeout(connectionReady, 100)` on every connection to catch early
 *    talkers, which caps one-message-per-connection senders at
 *    sessions / 0.1 s (≈200 msgs/s at 20 sessions) while the CPU idles.
 *    Early talkers are still refused: input before the greeting is rejected
 *    until our access check (onConnect) has answered.
 * 2. A reply text that starts with an RFC 3463 enhanced code (`5.7.1 …`) is
 *    sent with that code instead of the one smtp-server derives from the basic
 *    code alone (which would turn `554 5.7.1` into `554 5.6.0`).
 * 3. A session that was told 221/421 (closing) is reported through the
 *    `onSessionEnding` option right away, not when the socket finally closes:
 *    a client that reconnects at once must not find its old session still
 *    counted against SMTP_MAX_CONNECTIONS_PER_IP.
 * 4. AUTH is left out of the EHLO reply before STARTTLS unless insecure AUTH
 *    is allowed (SPEC §3; smtp-server advertises it and then answers 538).
 * 5. QUIT closes a plaintext connection as soon as the 221 is in the kernel
 *    (see `quitAndClose`).
 * 6. Session ids come from pooled randomness: smtp-server draws 10 bytes with
 *    a getrandom(2) call per connection, a measurable share of a
 *    one-message-per-connection load where system calls are dear. Same
 *    shape: 80 random bits as 16 base32 characters. (PROXY-protocol
 *    listeners, which we never configure, keep the original path.)
 * 7. DATA is scanned for dots at line starts with a native search
 *    (`feedDataStream`) instead of a JavaScript loop over every byte.
 */
let applied = false;

const ENHANCED = /^[245]\.\d{1,3}\.\d{1,3} /;

export function patchSmtpServer(): void {
  if (applied) return;
  applied = true;
  const proto = SMTPConnection.prototype;
  SMTPStream.prototype._feedDataStream = feedDataStream;

  const server = SMTPServer.prototype as unknown as ProxyHandling;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- kept to be called with .call(this) below
  const handleProxy = server._handleProxy;
  server._handleProxy = function handleProxyWithPooledId(this: ProxyHandling, socket, callback): void {
    if (this.options.useProxy) {
      handleProxy.call(this, socket, callback);
      return;
    }
    const options = { id: sessionId(), ignore: this.options.ignoredHosts?.includes(socket.remoteAddress ?? '') ?? false };
    setImmediate(() => callback(null, options));
  };

  proto.init = function init(this: SMTPConnection): void {
    this._setListeners(() => this.connectionReady());
  };

  proto.handler_QUIT = function quitAndClose(this: SMTPConnection, _command, callback): void {
    this.send(221, 'Bye');
    const socket = this._socket;
    // The reply is in the kernel already (nothing left in Node's buffer): close
    // now, as Postfix does, instead of half-closing and waiting for the client.
    // A client that closes without reading the 221 would otherwise answer with
    // a reset, and each reset costs an error object with a formatted stack.
    if (!this.secure && !this._upgrading && !socket.destroyed && socket.writableLength === 0) socket.destroy();
    this.close();
    callback();
  };

  // eslint-disable-next-line @typescript-eslint/unbound-method -- kept to be called with .call(this) below
  const send = proto.send;
  proto.send = function sendWithEnhancedCode(this: SMTPConnection, code, data, context): void {
    if (Array.isArray(data) && code === 250 && !this.secure && !this._server.options.allowInsecureAuth) {
      send.call(this, code, data.filter((line) => !line.startsWith('AUTH ')), context);
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
}

interface ProxyHandling {
  options: { useProxy?: unknown; ignoredHosts?: readonly string[] };
  _handleProxy(socket: { remoteAddress?: string }, callback: (err: Error | null, options: { id: string; ignore: boolean }) => void): void;
}

const BASE32 = '0123456789abcdefghijklmnopqrstuv';

/** 80 random bits as 16 base32 characters, like smtp-server's own ids. */
export function sessionId(): string {
  const bytes = pooledRandomBytes(10);
  let id = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      id += BASE32[(value >>> bits) & 31];
    }
    value &= (1 << bits) - 1;
  }
  return id;
}
