import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions, type SMTPServerAuthentication, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { EMPTY, merge, mergeMap, Observable, type Subscription } from 'rxjs';
import type { Config } from '../config/types.js';
import type { Envelope } from '../domain/envelope.js';
import type { Decision } from '../domain/reply.js';
import { verifyPassword } from '../config/passwords.js';
import { decideAccess, needsReverseLookup } from '../policy/access.js';
import { authDecision, authRefused, emptyThrottle, pruneThrottle, recordAuthFailure, recordAuthSuccess, type ThrottleState } from '../policy/auth-throttle.js';
import { decideConnection } from '../policy/connections.js';
import { forwardConfirmedHostnames, type ReverseResolver } from '../policy/fcrdns.js';
import { checkRecipient } from '../policy/recipient.js';
import { checkSender } from '../policy/sender.js';
import { SpoolError, type Spool } from '../spool/spool.js';
import { commandAuditLogger, type AuditSink } from './audit-logger.js';
import { hookStream, smtpError, type HookCall } from './hooks.js';
import { addTraceHeaders, limitSize, receivedValue, SizeLimitError } from './message-stream.js';
import { patchSmtpServer } from './patches.js';
import { SessionTable } from './session-table.js';
import { loadTlsMaterial, watchTlsFiles, type TlsMaterial } from './tls.js';

export interface InboundDeps {
  readonly config: Config;
  readonly spool: Spool;
  readonly resolver: ReverseResolver;
  readonly audit: AuditSink;
  readonly now: () => number;
  readonly warn: (message: string) => void;
  /** SMTP_VERIFY_INBOUND: a stage that prepends Authentication-Results (the composition root supplies it). */
  readonly authenticate?: (body: AsyncIterable<Buffer>, envelope: Envelope, session: string) => AsyncIterable<Buffer>;
  /** Client-side noise (resets, TLS handshake failures): logged at debug level. */
  readonly debug: (message: string) => void;
}

export interface InboundServer {
  listen(): Promise<AddressInfo>;
  /** Stops accepting; waits up to `graceMs` for sessions to end, then closes them with 421. */
  close(graceMs: number): Promise<void>;
  /** Re-reads SMTP_TLS_CERT/KEY (SIGHUP, file change). */
  reloadTls(): Promise<void>;
  readonly listening: boolean;
  readonly sessions: number;
}

type Answer = HookCall<unknown>['answer'];

function toError(decision: Decision): Error | null {
  return decision.kind === 'accept' ? null : smtpError(decision.code, decision.enhanced, decision.text);
}

export async function createInboundServer(deps: InboundDeps): Promise<InboundServer> {
  patchSmtpServer();
  const { config, spool, audit, now } = deps;
  const tls: TlsMaterial | undefined = config.tlsDisable
    ? undefined
    : await loadTlsMaterial({ certPath: config.tlsCertPath, keyPath: config.tlsKeyPath, hostname: config.hostname });
  const table = new SessionTable();
  let throttle: ThrottleState = emptyThrottle;
  let lastPrune = 0;
  let listening = false;

  const connect = hookStream<SMTPServerSession>();
  const auth = hookStream<{ auth: SMTPServerAuthentication; session: SMTPServerSession }>();
  const mailFrom = hookStream<{ address: string; session: SMTPServerSession }>();
  const rcptTo = hookStream<{ address: string; session: SMTPServerSession }>();
  const data = hookStream<{ stream: SMTPServerDataStream; session: SMTPServerSession }>();
  const closed = hookStream<SMTPServerSession>();

  const options: SMTPServerOptions & { onSessionEnding: (session: SMTPServerSession) => void } = {
    name: config.hostname,
    banner: config.banner,
    size: config.maxMessageBytes,
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: true,
    allowInsecureAuth: config.authInsecure,
    disabledCommands: [...(config.tlsDisable ? ['STARTTLS'] : []), ...(config.authUsers.length === 0 ? ['AUTH'] : [])],
    hideENHANCEDSTATUSCODES: false,
    hideDSN: true,
    hideREQUIRETLS: true,
    disableReverseLookup: true,
    socketTimeout: config.commandTimeoutSeconds * 1000,
    closeTimeout: 5_000,
    maxAllowedUnauthenticatedCommands: false,
    ...(tls ? { key: tls.key, cert: tls.cert } : {}),
    onConnect: (session, cb) => connect.handler(session, cb),
    onAuth: (a, session, cb) => auth.handler({ auth: a, session }, cb as Answer),
    onMailFrom: (address, session, cb) => mailFrom.handler({ address: address.address, session }, cb),
    onRcptTo: (address, session, cb) => rcptTo.handler({ address: address.address, session }, cb),
    onData: (stream, session, cb) => data.handler({ stream, session }, cb as Answer),
    onClose: (session) => closed.handler(session, () => undefined),
    onSessionEnding: (session) => closed.handler(session, () => undefined),
  };
  const server = new SMTPServer(options);
  // Our logger is set on the server itself, not through the `logger` option: that
  // option is wrapped in a per-call adapter (argument copies, an Object.assign and a
  // `delete`) that runs for every command and reply even while auditing is off.
  (server as unknown as { logger: unknown }).logger = commandAuditLogger(audit, deps.debug);
  server.on('error', (error: Error) => deps.warn(`smtp: ${error.message}`));

  const rejectWith = (session: SMTPServerSession, stage: 'connect' | 'auth' | 'mail' | 'rcpt' | 'data', decision: Decision): Decision => {
    if (decision.kind === 'reject') {
      audit.publish({ type: 'rejected', session: session.id, client: session.remoteAddress, stage, code: decision.code, reason: decision.text });
    }
    return decision;
  };

  const decideConnect = async (session: SMTPServerSession): Promise<Decision> => {
    const ip = session.remoteAddress;
    const limit = decideConnection({ total: table.total, forIp: table.forIp(ip) }, { max: config.maxConnections, perIp: config.maxConnectionsPerIp });
    if (limit.kind === 'reject') return limit;
    const allow = { networks: config.allowNetworks, hosts: config.allowHosts };
    const verifiedHostnames = needsReverseLookup(allow, ip) ? await forwardConfirmedHostnames(ip, deps.resolver) : undefined;
    const access = decideAccess(verifiedHostnames ? { ip, verifiedHostnames } : { ip }, allow);
    if (access.kind === 'accept') table.add(session.id, ip);
    return access;
  };

  const checkAuth = async ({ auth: a, session }: { auth: SMTPServerAuthentication; session: SMTPServerSession }): Promise<{ user: string } | Decision> => {
    const ip = session.remoteAddress;
    if (now() - lastPrune > 60_000) {
      // forgetting old failures is O(tracked clients): once a minute, not on every AUTH
      throttle = pruneThrottle(throttle, now());
      lastPrune = now();
    }
    const gate = authDecision(throttle, ip, now());
    if (gate.kind === 'refuse') return rejectWith(session, 'auth', authRefused);
    if (gate.kind === 'delay') await new Promise((resolve) => setTimeout(resolve, gate.ms));
    const user = config.authUsers.find((u) => u.user === (a.username ?? ''));
    const ok = user !== undefined && (await verifyPassword(user.secret, a.password ?? ''));
    if (ok) {
      throttle = recordAuthSuccess(throttle, ip);
      return { user: user.user };
    }
    throttle = recordAuthFailure(throttle, ip, now());
    return rejectWith(session, 'auth', { kind: 'reject', code: 535, enhanced: '5.7.8', text: 'Authentication credentials invalid' });
  };

  const receive = async ({ stream, session }: { stream: SMTPServerDataStream; session: SMTPServerSession }): Promise<string> => {
    const at = now();
    const recipients = session.envelope.rcptTo.map((r) => r.address);
    const mail = session.envelope.mailFrom;
    const envelope: Envelope = {
      sender: mail === false ? '' : mail.address,
      recipients,
      clientAddress: session.remoteAddress,
      heloName: session.hostNameAppearsAs ?? '',
      receivedAt: at,
      ...(typeof session.user === 'string' ? { user: session.user } : {}),
    };
    const protocol = `${session.transmissionType ?? 'ESMTP'}`;
    const received = receivedValue({
      heloName: envelope.heloName,
      clientHostname: undefined,
      clientAddress: envelope.clientAddress,
      hostname: config.hostname,
      protocol,
      sessionId: session.id,
      recipient: recipients.length === 1 ? recipients[0] : undefined,
      at,
    });
    // destroyOnReturn: false — stopping early (size limit, storage error) must not destroy
    // smtp-server's stream: the rest of DATA is drained so the reply lines up.
    const source = stream.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>;
    const limited = limitSize(source, config.maxMessageBytes);
    // Authentication-Results sits right under our Received line, as the same hop's verdict
    const checked = deps.authenticate ? deps.authenticate(limited, envelope, session.id) : limited;
    const body = addTraceHeaders(checked, { received, hostname: config.hostname });
    try {
      const record = await spool.store(envelope, body);
      audit.publish({ type: 'message.stored', session: session.id, id: record.id, sender: envelope.sender, recipients: recipients.length, size: record.size });
      return `Ok: queued as ${record.id}`;
    } finally {
      await drain(stream);
    }
  };

  type Outcome = Error | null | { ok: unknown };
  /**
   * Each hook call is worked out and answered. A decision made synchronously
   * (MAIL, RCPT) is answered in the same turn; one that waits (connect, AUTH,
   * DATA) is answered when its promise settles. Errors never escape: the
   * client gets a 451 (or 552 for size) and the pipeline keeps running.
   */
  const answered$ = <A>(calls$: Observable<HookCall<A>>, work: (args: A) => Outcome | Promise<Outcome>): Observable<never> =>
    calls$.pipe(
      mergeMap((call) => {
        const settle = (result: Outcome): void => (result instanceof Error || result === null ? call.answer(result) : call.answer(null, result.ok));
        const fail$ = (error: unknown): Observable<never> => {
          if (!(error instanceof SizeLimitError)) deps.warn(`could not serve a client request: ${describe(error)}`);
          call.answer(failureReply(error));
          return EMPTY;
        };
        let result: Outcome | Promise<Outcome>;
        try {
          result = work(call.args);
        } catch (error) {
          return fail$(error);
        }
        if (!(result instanceof Promise)) {
          settle(result);
          return EMPTY;
        }
        return settled$(result, settle, fail$);
      }),
    );

  const pipelines$ = merge(
    answered$(connect.calls$, async (session) => {
      const decision = rejectWith(session, 'connect', await decideConnect(session));
      if (decision.kind === 'accept') audit.publish({ type: 'session.start', session: session.id, client: session.remoteAddress });
      return toError(decision);
    }),
    answered$(auth.calls$, async (args) => {
      const result = await checkAuth(args);
      return 'user' in result ? { ok: { user: result.user } } : toError(result);
    }),
    answered$(mailFrom.calls$, ({ address, session }) =>
      toError(rejectWith(session, 'mail', checkSender(address, { requireLocalDomain: config.requireLocalDomain, hostname: config.hostname, authenticated: Boolean(session.user) })))),
    answered$(rcptTo.calls$, ({ address, session }) =>
      toError(rejectWith(session, 'rcpt', checkRecipient(address, { accepted: session.envelope.rcptTo.length, maxRecipients: config.maxRecipients })))),
    answered$(data.calls$, async (args) => ({ ok: await receive(args) })),
    closed.calls$.pipe(
      mergeMap((call) => {
        if (table.remove(call.args.id)) audit.publish({ type: 'session.close', session: call.args.id, client: call.args.remoteAddress });
        return EMPTY;
      }),
    ),
  );
  const subscription: Subscription = pipelines$.subscribe({ error: (error: unknown) => deps.warn(`smtp pipeline stopped: ${String(error)}`) });

  const stopWatching = tls?.source === 'files'
    ? watchTlsFiles({ certPath: config.tlsCertPath, keyPath: config.tlsKeyPath, hostname: config.hostname }, () => void reloadTls().catch((e: unknown) => deps.warn(`TLS reload failed: ${String(e)}`)))
    : () => undefined;

  async function reloadTls(): Promise<void> {
    if (config.tlsDisable || !config.tlsCertPath) return;
    const next = await loadTlsMaterial({ certPath: config.tlsCertPath, keyPath: config.tlsKeyPath, hostname: config.hostname });
    server.updateSecureContext({ key: next.key, cert: next.cert });
  }

  return {
    get listening() {
      return listening;
    },
    get sessions() {
      return table.total;
    },
    listen: () =>
      new Promise<AddressInfo>((resolve, reject) => {
        const onError = (error: Error): void => reject(error);
        server.server.once('error', onError);
        server.listen(config.smtpPort, config.smtpBind, () => {
          server.server.off('error', onError);
          listening = true;
          resolve(server.server.address() as AddressInfo);
        });
      }),
    close: async (graceMs) => {
      stopWatching();
      listening = false;
      server.server.close(); // no new connections; open sessions go on
      const deadline = Date.now() + graceMs;
      while (table.total > 0 && Date.now() < deadline) await sleep(50);
      await new Promise<void>((resolve) => server.close(() => resolve())); // 421 to whoever is left
      subscription.unsubscribe();
    },
    reloadTls,
  };
}

/**
 * Completes once `promise` settles and its value went to `onValue`; a rejection
 * or a throwing `onValue` goes to `onError` (what `from(p).pipe(map, catchError,
 * ignoreElements)` does, without the objects those make per call, a measurable
 * share of a DATA command's garbage).
 */
function settled$<T>(promise: Promise<T>, onValue: (value: T) => void, onError: (error: unknown) => void): Observable<never> {
  return new Observable<never>((subscriber) => {
    promise
      .then(onValue)
      .catch(onError)
      .then(
        () => subscriber.complete(),
        (error: unknown) => subscriber.error(error),
      );
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Reads whatever is left of DATA so the reply lines up with the end of the message. */
async function drain(stream: SMTPServerDataStream): Promise<void> {
  if (stream.readableEnded) return;
  await new Promise<void>((resolve) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', () => resolve());
    stream.resume();
  });
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return `${error.message}${cause}`;
}

function failureReply(error: unknown): Error {
  if (error instanceof SizeLimitError) return smtpError(552, '5.3.4', 'Message size exceeds fixed maximum message size');
  if (error instanceof SpoolError) return smtpError(451, '4.3.0', 'Could not store the message, try again later');
  return smtpError(451, '4.3.0', 'Local error in processing, try again later');
}

