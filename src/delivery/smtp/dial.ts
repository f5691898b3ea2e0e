/**
 * Getting a socket for an outbound SMTP session: `dial` connects (plain TCP,
 * or TLS from the first byte for smtps://) within the connect timeout and
 * hangs up when the shutdown signal fires; `upgradeToTls` runs STARTTLS's
 * handshake on an open connection within its own timeout.
 *
 * In: where to connect and how strictly to check the certificate. Out: a
 * connected socket with Nagle off, or an `SmtpClientError` (ETIMEDOUT,
 * ETLS, ECONNECTION) with the socket destroyed. The session (session.ts)
 * speaks SMTP over what comes out.
 */
import { connect as connectTcp, isIP, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { authenticateByTlsa, peerChain, type TlsaAuthentication } from '../tls/tlsa.js';
import { SmtpClientError, looksLikeTls } from './errors.js';

export interface DialOptions {
  readonly host: string;
  readonly port: number;
  /** Name for SNI and the certificate check (the MX host name); the host by default. */
  readonly servername?: string;
  /** Implicit TLS from the first byte (smtps://). */
  readonly secure?: boolean;
  /** Reject certificates that do not verify (SMTP_OUTBOUND_TLS_VERIFY). */
  readonly tlsVerify: boolean;
  /** Trusted CAs instead of node's (the system's plus SMTP_OUTBOUND_CA_FILE); node's when absent. */
  readonly ca?: readonly string[];
  /** DANE (RFC 7672): after STARTTLS the certificate must match these records; no CA check. */
  readonly tlsa?: TlsaAuthentication;
  readonly connectTimeoutMs: number;
  /** Aborting while connecting hangs up. */
  readonly signal?: AbortSignal;
}

/** The name to check, how strictly, against which CAs. */
function tlsOptions(o: Pick<DialOptions, 'host' | 'servername' | 'tlsVerify' | 'ca' | 'tlsa'>): ConnectionOptions {
  const name = o.servername ?? o.host;
  return {
    // SNI carries host names only (RFC 6066 §3); an address is still checked against the certificate's IP names
    ...(isIP(name) === 0 ? { servername: name } : {}),
    rejectUnauthorized: o.tlsa ? false : o.tlsVerify,
    ...(o.ca ? { ca: [...o.ca] } : {}),
  };
}

/** A connected socket (TLS from the first byte for smtps://), within the connect timeout. */
export function dial(o: DialOptions): Promise<Socket> {
  return new Promise((resolve, reject) => {
    if (o.signal?.aborted) {
      reject(new SmtpClientError('ECONNECTION', 'delivery aborted (shutdown)', 'CONN'));
      return;
    }
    const socket: Socket = o.secure
      ? connectTls({ host: o.host, port: o.port, ...tlsOptions(o) })
      : connectTcp({ host: o.host, port: o.port });
    const tooLong = `connecting to ${o.host}:${o.port} took longer than ${o.connectTimeoutMs} ms`;
    const timer = setTimeout(() => fail(new SmtpClientError('ETIMEDOUT', tooLong, 'CONN')), o.connectTimeoutMs);
    const onAbort = (): void => fail(new SmtpClientError('ECONNECTION', 'delivery aborted (shutdown)', 'CONN'));
    const cleanup = (): void => {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      socket.off('error', onError);
    };
    const fail = (error: SmtpClientError): void => {
      cleanup();
      socket.destroy();
      reject(error);
    };
    const onError = (error: Error): void => {
      const code = o.secure && looksLikeTls(error.message) ? 'ETLS' : 'ECONNECTION';
      fail(new SmtpClientError(code, error.message, 'CONN', undefined, { cause: error }));
    };
    o.signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('error', onError);
    socket.once(o.secure ? 'secureConnect' : 'connect', () => {
      const dane = o.secure ? daneFailure(socket as TLSSocket, o, 'CONN') : undefined;
      if (dane) {
        fail(dane);
        return;
      }
      cleanup();
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}

/** STARTTLS's handshake on the open connection, failing after `timeoutMs`. */
export function upgradeToTls(
  plain: Socket,
  o: Pick<DialOptions, 'host' | 'servername' | 'tlsVerify' | 'ca' | 'tlsa'>,
  timeoutMs: number,
): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const secure = connectTls({ socket: plain, ...tlsOptions(o) });
    const timer = setTimeout(
      () => fail(new SmtpClientError('ETIMEDOUT', `TLS handshake took longer than ${timeoutMs} ms`, 'STARTTLS')),
      timeoutMs,
    );
    const fail = (error: SmtpClientError): void => {
      clearTimeout(timer);
      secure.destroy();
      reject(error);
    };
    secure.once('error', (error: Error) =>
      fail(new SmtpClientError('ETLS', error.message, 'STARTTLS', undefined, { cause: error })),
    );
    secure.once('secureConnect', () => {
      const dane = daneFailure(secure, o, 'STARTTLS');
      if (dane) {
        fail(dane);
        return;
      }
      clearTimeout(timer);
      secure.removeAllListeners('error');
      secure.setNoDelay(true);
      resolve(secure);
    });
  });
}

/** DANE: the error when the handshake's certificate matches none of the TLSA records (decision.ts reads `code`). */
function daneFailure(secure: TLSSocket, o: Pick<DialOptions, 'tlsa'>, command: string): SmtpClientError | undefined {
  if (!o.tlsa) return undefined;
  const verdict = authenticateByTlsa(peerChain(secure.getPeerCertificate(true)), o.tlsa);
  if (verdict.ok) return undefined;
  const cause = Object.assign(new Error(verdict.detail), { code: 'ERR_DANE_CERTIFICATE_MISMATCH' });
  return new SmtpClientError('ETLS', `DANE: ${verdict.detail}`, command, undefined, { cause });
}
