/**
 * smtp-server patches for the PROXY protocol (SMTP_PROXY_FROM) and pooled
 * session ids; patches.ts applies them with the others.
 *
 * Owns: how a connection's first bytes are judged before smtp-server sees
 *       them (`_handleProxy`), and a PROXY header from a peer that may not
 *       send one (`_onCommand`).
 * In:   our `proxyProtocol` server option (proxy-options.ts).
 * Out:  sessions whose remote address is the one the header names; 554 5.7.0
 *       and a closed connection for a missing, bad or unwanted header.
 *
 * Why not smtp-server's own `useProxy`: it reads v1 only, answers a bad
 * header with `* BAD` (an IMAP-ism, not SMTP), has no time limit of its own
 * on plain listeners, and takes a list of single addresses, not networks.
 * Its seam is right, though: `_handleProxy` runs on the raw socket before the
 * implicit-TLS handshake and hands the connection options (`remoteAddress`,
 * `remotePort`) to `connect`, which is what every later stage reads
 * (docs/architecture.md).
 */
import type { Socket } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import type { Patch } from './patch-check.js';
import { PROXY_NOT_ALLOWED, ProxyRefusal, readProxyHeader } from './proxy-reader.js';
import type { ProxyProtocolOptions } from './proxy-options.js';
import { sessionId } from './session-id.js';

/**
 * `_handleProxy` replaced. Session ids come from pooled randomness:
 * smtp-server draws 10 bytes with a getrandom(2) call per connection, a
 * measurable share of a one-message-per-connection load where system calls
 * are dear (same shape: 80 random bits as 16 base32 characters). A peer in
 * SMTP_PROXY_FROM must start with a PROXY v1/v2 header, read here within the
 * option's time limit; its source address becomes the connection's. (The
 * original runs only if smtp-server's `useProxy`, which we never set, is.)
 */
export const proxyHeaders: Patch = {
  name: 'PROXY headers from SMTP_PROXY_FROM, session ids from pooled randomness',
  expects: [
    {
      on: 'SMTPServer',
      method: '_handleProxy',
      length: 2,
      markers: [
        'this._expectsProxyHeader(socket)',
        'this.options.ignoredHosts',
        'setImmediate(() => callback(null, socketOptions))',
        'socketOptions.remoteAddress = proxiedAddress',
      ],
    },
    {
      on: 'SMTPServer',
      method: 'constructor',
      length: 1,
      markers: ['this._handleProxy(socket, (err, socketOptions)', 'if (!err) {', 'this.connect(socket, socketOptions)'],
    },
    {
      on: 'SMTPConnection',
      method: 'constructor',
      length: 3,
      markers: ['options.remoteAddress || this._socket.remoteAddress', 'options.remotePort || this._socket.remotePort'],
    },
  ],
  apply() {
    const server = SMTPServer.prototype as unknown as ProxyHandling;
    // eslint-disable-next-line @typescript-eslint/unbound-method -- kept to be called with .call(this) below
    const handleProxy = server._handleProxy;
    server._handleProxy = function handleProxyHeader(this: ProxyHandling, socket, callback): void {
      const { options } = this;
      if (options.useProxy) {
        handleProxy.call(this, socket, callback);
        return;
      }
      const id = sessionId();
      const peer = socket.remoteAddress ?? '';
      const proxy = options.proxyProtocol;
      if (!proxy?.expects(peer)) {
        const ignore = options.ignoredHosts?.includes(peer) ?? false;
        setImmediate(() => callback(null, { id, ignore }));
        return;
      }
      readProxyHeader(socket, proxy.timeoutMs).then(
        (header) => {
          const proxied = header.kind === 'proxied';
          callback(null, {
            id,
            ignore: false,
            ...(proxied ? { remoteAddress: header.source, remotePort: header.sourcePort } : {}),
          });
        },
        (error: unknown) => {
          const reason = error instanceof Error ? error.message : String(error);
          proxy.refused({
            session: id,
            peer,
            reason,
            ...(error instanceof ProxyRefusal && error.probe ? { probe: true } : {}),
          });
          callback(error instanceof Error ? error : new Error(String(error)));
        },
      );
    };
  },
};

/** The v2 signature's first line is empty: no SMTP client opens with an empty line. */
const V2_FIRST_LINE = '';

/**
 * A PROXY header from a peer outside SMTP_PROXY_FROM reaches the session as
 * its first command: `PROXY …` (v1) or an empty line (v2's signature starts
 * with CRLF). It is answered `554 5.7.0` and the connection closes, before
 * the early-talker check would answer it 421. (A `PROXY` command later in a
 * session is refused the same way.) With no SMTP_PROXY_FROM an empty first
 * line is only an empty command (`500`), as it was before PROXY support.
 */
export const unwantedProxyHeaders: Patch = {
  name: 'PROXY headers from other peers refused',
  expects: [
    {
      on: 'SMTPConnection',
      method: '_onCommand',
      length: 2,
      markers: ['if (!this._ready)', "(command || '').toString().split(' ').shift().toUpperCase()"],
    },
  ],
  apply() {
    const proto = SMTPConnection.prototype as unknown as CommandHandling;
    // eslint-disable-next-line @typescript-eslint/unbound-method -- kept to be called with .call(this) below
    const onCommand = proto._onCommand;
    const opened = new WeakSet<CommandHandling>();
    proto._onCommand = function onCommandOrProxy(this: CommandHandling, command, callback): void {
      const first = !opened.has(this);
      opened.add(this);
      const line = (command ?? '').toString();
      const proxy = this._server.options.proxyProtocol;
      const v2 = first && line === V2_FIRST_LINE && proxy?.listed === true;
      if (this._closing || !proxy || !(line.startsWith('PROXY ') || v2)) {
        onCommand.call(this, command, callback);
        return;
      }
      this.send(554, PROXY_NOT_ALLOWED.trim().slice(4));
      this.close();
      proxy.refused({
        session: this.id,
        peer: this.remoteAddress,
        reason: 'a PROXY header from a peer outside SMTP_PROXY_FROM',
      });
    };
  },
};

interface ProxyHandling {
  options: { useProxy?: unknown; ignoredHosts?: readonly string[]; proxyProtocol?: ProxyProtocolOptions };
  _handleProxy(
    socket: Socket,
    callback: (
      err: Error | null,
      options?: { id: string; ignore: boolean; remoteAddress?: string; remotePort?: number },
    ) => void,
  ): void;
}

interface CommandHandling {
  readonly id: string;
  readonly remoteAddress: string;
  readonly _closing: boolean;
  readonly _server: { readonly options: { readonly proxyProtocol?: ProxyProtocolOptions } };
  _onCommand(command: Buffer | string | undefined, callback?: () => void): void;
  send(code: number, data: string): void;
  close(): void;
}
