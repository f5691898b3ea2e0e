/**
 * The inbound listener's life: start, TLS reloads, graceful stop.
 *
 * Owns: the SMTPServers (one per listener: SMTP_PORT, and SMTP_TLS_PORT and
 *       SMTP_SUBMISSION_PORT when set) and their sockets, whether they
 *       listen, the TLS file watch, and the subscription of the hook
 *       pipelines they share (which end, through `untilShutdown`, once the
 *       servers have closed).
 * In:   the config and the stage's dependencies (spool, reverse resolver,
 *       audit sink, clock, logging; SMTP_VERIFY_INBOUND's stage if any).
 * Out:  `InboundServer`: listen, close with a grace period, reload TLS, and
 *       the counts the daemon's readiness asks for.
 *
 * Around it: patches.ts (smtp-server checked and patched first),
 * server-options.ts (the options), listeners.ts (what differs per listener),
 * proxy-patches.ts and proxy-options.ts (PROXY headers from SMTP_PROXY_FROM),
 * session-adapter.ts (hooks → decisions),
 * session-policy.ts, auth-stage.ts and data-receiver.ts (the decisions).
 */
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { Subject } from 'rxjs';
import { SMTPServer, type SMTPServerAuthentication } from 'smtp-server';
import type { Config } from '../config/types.js';
import type { ReverseResolver } from '../policy/fcrdns.js';
import { untilShutdown } from '../rx/until-shutdown.js';
import type { Spool } from '../spool/spool.js';
import { commandAuditLogger, type AuditSink } from './audit-logger.js';
import { verifyCredentials } from './auth-stage.js';
import { DataReceiver, type InboundAuthentication } from './data-receiver.js';
import { listenersOf, ListenError, optionsFor, type Listener, type ListenerAddresses } from './listeners.js';
import { patchSmtpServer, useCommandLogger } from './patches.js';
import { proxyProtocolOptions, type ProxyRefused } from './proxy-options.js';
import { serverOptions } from './server-options.js';
import { SessionAdapter } from './session-adapter.js';
import { SessionPolicy } from './session-policy.js';
import { loadTlsMaterial, watchTlsFiles, type TlsMaterial } from './tls.js';

export interface InboundDeps {
  readonly config: Config;
  readonly spool: Spool;
  readonly resolver: ReverseResolver;
  readonly audit: AuditSink;
  readonly now: () => number;
  readonly warn: (message: string) => void;
  /** SMTP_VERIFY_INBOUND: a stage that prepends Authentication-Results (the composition root supplies it). */
  readonly authenticate?: InboundAuthentication;
  /** Client-side noise (resets, TLS handshake failures): logged at debug level. */
  readonly debug: (message: string) => void;
}

export interface InboundServer {
  /** Binds every listener (SMTP_PORT's first); one that cannot bind closes the rest, rejecting with a ListenError. */
  listen(): Promise<ListenerAddresses>;
  /** Stops accepting; waits up to `graceMs` for sessions to end, then closes them with 421. */
  close(graceMs: number): Promise<void>;
  /** Re-reads SMTP_TLS_CERT/KEY (SIGHUP, file change). */
  reloadTls(): Promise<void>;
  readonly listening: boolean;
  readonly sessions: number;
}

/** How often `close` looks whether the open sessions have ended. */
const DRAIN_POLL_MS = 50;

/**
 * Checks and patches smtp-server (throws `SmtpServerMismatch` when the
 * installed one does not fit the patches), loads the TLS material and builds
 * the listener; `listen()` binds it.
 */
export async function createInboundServer(deps: InboundDeps): Promise<InboundServer> {
  patchSmtpServer();
  const { config } = deps;
  const settings = { certPath: config.tlsCertPath, keyPath: config.tlsKeyPath, hostname: config.hostname };
  const tls = config.tlsDisable ? undefined : await loadTlsMaterial(settings);
  return new InboundListener(deps, tls);
}

class InboundListener implements InboundServer {
  /** One server per listener, SMTP_PORT's first. */
  private readonly servers: { readonly listener: Listener; readonly server: SMTPServer }[];
  private readonly policy: SessionPolicy;
  /** Emits once the server has closed: the hook pipelines' shutdown signal. */
  private readonly serverClosed = new Subject<void>();
  private readonly stopWatching: () => void;
  private bound = false;

  constructor(
    private readonly deps: InboundDeps,
    tls: TlsMaterial | undefined,
  ) {
    const { config, spool, audit, now, warn } = deps;
    this.policy = new SessionPolicy({ config, resolver: deps.resolver, audit });
    const receiver = new DataReceiver({
      config,
      spool,
      audit,
      now,
      ...(deps.authenticate ? { authenticate: deps.authenticate } : {}),
    });
    const verify = (auth: SMTPServerAuthentication): Promise<string | undefined> =>
      verifyCredentials(config.authUsers, auth.username, auth.password);
    const adapter = new SessionAdapter({ policy: this.policy, receiver, verify, now, warn });
    const proxyProtocol = proxyProtocolOptions(config, (refusal) => this.proxyRefused(refusal));
    const shared = { ...serverOptions(config, tls, adapter.hooks), proxyProtocol };
    const logger = commandAuditLogger(audit, deps.debug);
    this.servers = listenersOf(config).map((listener) => {
      const server = new SMTPServer(optionsFor(listener.kind, shared));
      useCommandLogger(server, logger);
      server.on('error', (error: Error) => warn(`smtp: ${error.message}`));
      return { listener, server };
    });
    const hooks$ = adapter.run$().pipe(untilShutdown(this.serverClosed));
    // eslint-disable-next-line rxjs-x/no-ignored-subscription -- it ends itself: untilShutdown is last in the pipe
    hooks$.subscribe({ error: (error: unknown) => warn(`smtp pipeline stopped: ${String(error)}`) });
    this.stopWatching = tls?.source === 'files' ? this.watchTls() : () => undefined;
  }

  get listening(): boolean {
    return this.bound;
  }

  get sessions(): number {
    return this.policy.sessions;
  }

  async listen(): Promise<ListenerAddresses> {
    const bound: AddressInfo[] = [];
    for (const { listener, server } of this.servers) {
      try {
        bound.push(await listenOn(server, listener.port, this.deps.config.smtpBind));
      } catch (error) {
        await Promise.all(
          this.servers.map(({ server: s }) => promisify(s.server.close.bind(s.server))().catch(() => 0)),
        );
        throw new ListenError(listener, error);
      }
    }
    this.bound = true;
    const at = (kind: Listener['kind']): AddressInfo | undefined =>
      bound[this.servers.findIndex((s) => s.listener.kind === kind)];
    const tls = at('tls');
    const submission = at('submission');
    return { ...(bound[0] as AddressInfo), ...(tls ? { tls } : {}), ...(submission ? { submission } : {}) };
  }

  /** No new connections; open sessions get `graceMs` to finish, then a 421; then the hook pipelines end. */
  async close(graceMs: number): Promise<void> {
    this.stopWatching();
    this.bound = false;
    for (const { server } of this.servers) server.server.close(); // no new connections; open sessions go on
    const deadline = Date.now() + graceMs;
    while (this.policy.sessions > 0 && Date.now() < deadline) await sleep(DRAIN_POLL_MS);
    // 421 to whoever is left
    await Promise.all(this.servers.map(({ server }) => new Promise<void>((resolve) => server.close(() => resolve()))));
    this.serverClosed.next();
    this.serverClosed.complete();
  }

  async reloadTls(): Promise<void> {
    const { config } = this.deps;
    if (config.tlsDisable || !config.tlsCertPath) return;
    const next = await loadTlsMaterial({
      certPath: config.tlsCertPath,
      keyPath: config.tlsKeyPath,
      hostname: config.hostname,
    });
    for (const { server } of this.servers) server.updateSecureContext({ key: next.key, cert: next.cert });
  }

  /** A connection refused for its PROXY header (proxy-patches.ts): logged and audited; the client heard 554 5.7.0. */
  private proxyRefused({ session, peer, reason, probe }: ProxyRefused): void {
    if (probe) return this.deps.debug(`PROXY protocol: ${peer} connected and left without a header (a health check?)`);
    this.deps.warn(`PROXY protocol: refused a connection from ${peer}: ${reason}`);
    this.deps.audit.publish({ type: 'rejected', session, client: peer, stage: 'connect', code: 554, reason });
  }

  /** Reloads when SMTP_TLS_CERT/KEY change on disk; returns the stop function. */
  private watchTls(): () => void {
    const { config, warn } = this.deps;
    const settings = { certPath: config.tlsCertPath, keyPath: config.tlsKeyPath, hostname: config.hostname };
    return watchTlsFiles(
      settings,
      () => void this.reloadTls().catch((e: unknown) => warn(`TLS reload failed: ${String(e)}`)),
    );
  }
}

/** Binds one server; resolves with its address. */
function listenOn(server: SMTPServer, port: number, host: string | undefined): Promise<AddressInfo> {
  return new Promise<AddressInfo>((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.server.once('error', onError);
    server.listen(port, host, () => {
      server.server.off('error', onError);
      resolve(server.server.address() as AddressInfo);
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
